type Waiter = { grant: () => boolean; cancel: () => void };

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

  constructor(max: number | undefined) {
    this.#max = max;
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
      if (this.#max === undefined || (this.running < this.#max && this.#waiting.length === 0)) {
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
    if (this.#max !== undefined) this.#next();
  }

  // internal

  #next(): void {
    while (this.running < (this.#max ?? Number.POSITIVE_INFINITY)) {
      const w = this.#waiting.shift();
      if (!w) return;
      w.grant();
    }
  }
}
