/**
 * Wait until `check` gives a value (anything but undefined, null or false), polling every
 * `everyMs`; returns it. Throws, naming `what`, once `ms` have passed without one. The one
 * wait-until of the tests: prefer an injected clock (test/helpers/clock.ts) where the code under
 * test takes one, and this where the thing waited for is another process or real I/O.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  ms = 10_000,
  what = "a condition",
  everyMs = 20,
): Promise<Exclude<T, undefined | null | false>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v as Exclude<T, undefined | null | false>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
