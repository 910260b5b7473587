import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay();
});
afterAll(async () => {
  await r.stop();
});

/** The real entry point as a process: `bun src/main.ts send echo hi`, configured only by env. */
test("bun src/main.ts send echo hi prints the echo and exits 0", async () => {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: r.dir,
    A2A_RELAY_URL: r.url,
    A2A_RELAY_TOKEN: r.token,
    npm_config_update_notifier: "false",
  };
  const proc = Bun.spawn(["npx", "bun", "src/main.ts", "send", "echo", "hi"], {
    cwd: `${import.meta.dir}/../..`,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const killer = setTimeout(() => proc.kill(), 20_000);
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(killer);
  expect({ code, out }).toEqual({ code: 0, out: "hi\n" });
  expect(err).not.toContain("a2a-relay:"); // npx may add its own notices here

  // the same binary without npx in front, to keep the test quick
  const bad = Bun.spawn([process.execPath, "src/main.ts", "send", "echo", "hi"], {
    cwd: `${import.meta.dir}/../..`,
    env: { ...env, A2A_RELAY_TOKEN: "wrong" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const badKiller = setTimeout(() => bad.kill(), 20_000);
  expect(await bad.exited).toBe(3);
  clearTimeout(badKiller);
}, 30_000);
