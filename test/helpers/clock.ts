import type { Timers } from "../../src/clock.ts";

/**
 * A clock and timers that move only when the test says so: `advance(ms)` runs, in order, every
 * timer that falls due. Pass it as an engine's `now` and `timers` (or a budget's `now`), and a
 * test of a turn cap or a window says what happens at 59.999 s and at 60 s without sleeping.
 */
export class ManualClock implements Timers {
  #t: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 10, 12, 0, 0)) {
    this.#t = start;
  }

  now = (): number => this.#t;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#t + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.#timers.delete(handle as number);
  };

  /** Timers armed and not yet run. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Move time on by `ms`, running each timer due on the way (at its own time, in order). */
  advance(ms: number): void {
    const end = this.#t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#t = due[1].at;
      due[1].fn();
    }
    this.#t = end;
  }
}
