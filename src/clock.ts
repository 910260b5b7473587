/**
 * Timers the relay arms (a turn cap, write retries, upstream cancel retries, the shutdown
 * grace), injected where tests move time by hand (test/helpers/clock.ts) instead of sleeping.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The runtime's own timers. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
