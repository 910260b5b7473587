type Waiter = { grant: () => boolean; cancel: () => void };

/**
 * May one more turn start now, given `running` turns? (Token and cost limits: only while the
 * turns that could still report usage cannot, together, cross the limit.) Must be true when
 * nothing runs, or the queue would stall.
 */
export type Gate = (running: number) => boolean;

/**
 * A peer's concurrency: at most `max` turns hold a slot; the rest wait in FIFO order. Grants are
 * synchronous (the count moves before the waiter's continuation runs), so it is never exceeded.
 */
export class Slots {
  running = 0;
  /** Admitted turns that have not finished: queued (anywhere) or running. */
  inflight = 0;
  readonly #waiting: Waiter[] = [];
  readonly #max: number | undefined;
  readonly #gate: Gate;

  constructor(max: number | undefined, gate: Gate = () => true) {
    this.#max = max;
    this.#gate = gate;
  }

  get max(): number | undefined {
    return this.#max;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Wait for a slot. `check` runs at the moment of the grant (synchronously) and may throw to
   * refuse the turn instead (its budget was used up while it waited); the slot then goes on.
   */
  acquire(signal: AbortSignal, check: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const take = () => {
        try {
          check();
        } catch (err) {
          reject(err);
          return false;
        }
        this.running++;
        resolve();
        return true;
      };
      if (this.#free() && this.#waiting.length === 0) {
        take();
        return;
      }
      const onAbort = () => {
        const i = this.#waiting.indexOf(w);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal.reason);
      };
      const w: Waiter = {
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          return take();
        },
        cancel: onAbort,
      };
      this.#waiting.push(w);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** A turn that held a slot ended: hand the slot to the next waiter that may still run. */
  release(): void {
    this.running--;
    this.#next();
  }

  // internal

  #free(): boolean {
    return (
      this.running < (this.#max ?? Number.POSITIVE_INFINITY) &&
      (this.running === 0 || this.#gate(this.running))
    );
  }

  #next(): void {
    while (this.#waiting.length > 0 && this.#free()) {
      const w = this.#waiting.shift();
      if (!w) return;
      w.grant();
    }
  }
}
