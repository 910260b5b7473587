/** One turn waiting for its start: `attempt` resolves true when it started, false to keep waiting. */
interface Waiter {
  attempt: () => Promise<boolean>;
  resolve: () => void;
  reject: (err: unknown) => void;
  aborted?: boolean;
}

/**
 * The turns of one peer waiting, in this relay, for a fleet-wide slot: first come, first tried.
 * Only the head tries (one transaction at a time); it tries again when the store says a slot was
 * freed (a NOTIFY from whichever relay freed it), when this relay frees one, and every `pollMs`.
 * Across relays there is no queue order: whoever tries first after a slot frees gets it.
 */
export class WaitQueue {
  readonly #queue: Waiter[] = [];
  readonly #pollMs: number;
  #busy = false;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(pollMs: number) {
    this.#pollMs = pollMs;
  }

  get size(): number {
    return this.#queue.length;
  }

  /** Wait until `attempt` starts the turn; rejects with what it throws, or when `signal` aborts. */
  wait(signal: AbortSignal, attempt: () => Promise<boolean>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        w.aborted = true;
        const i = this.#queue.indexOf(w);
        // the head's attempt may be in flight: #pump drops it when that attempt ends
        if (i > 0 || (i === 0 && !this.#busy)) this.#queue.splice(i, 1);
        reject(signal.reason);
      };
      const w: Waiter = {
        attempt,
        resolve: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(w);
      this.wake();
    });
  }

  /** A slot may have been freed: the head tries again now. */
  wake(): void {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  close(err: unknown): void {
    clearTimeout(this.#timer);
    for (const w of this.#queue.splice(0)) w.reject(err);
  }

  // internal

  async #pump(): Promise<void> {
    this.#busy = true;
    clearTimeout(this.#timer);
    try {
      while (this.#queue.length > 0) {
        this.#again = false;
        const w = this.#queue[0]!;
        let started = false;
        try {
          started = await w.attempt();
        } catch (err) {
          this.#queue.shift();
          w.reject(err);
          continue;
        }
        if (started) {
          this.#queue.shift();
          w.resolve();
          continue;
        }
        if (w.aborted) {
          this.#queue.shift();
          continue;
        }
        if (!this.#again) break;
      }
    } finally {
      this.#busy = false;
    }
    if (this.#queue.length > 0) {
      this.#timer = setTimeout(() => this.wake(), this.#pollMs);
      this.#timer.unref?.();
    }
  }
}
