/**
 * Failed-authentication limiter: after `maxFailures` failures from one address within `windowMs`,
 * that address is answered 429 for `blockMs`. Memory is bounded: at most `capacity` addresses are
 * tracked; the least recently failing one is forgotten first (a Map kept in LRU order).
 */
export interface LimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  blockMs?: number;
  capacity?: number;
  now?: () => number;
}

interface Entry {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

export class FailureLimiter {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #blockMs: number;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(opts: LimiterOptions = {}) {
    this.#max = opts.maxFailures ?? 20;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#blockMs = opts.blockMs ?? 60_000;
    this.#capacity = opts.capacity ?? 10_000;
    this.#now = opts.now ?? Date.now;
    if (!(this.#max >= 1 && this.#capacity >= 1))
      throw new TypeError("maxFailures and capacity must be >= 1");
  }

  /** No address has failed lately: nothing to look up (callers skip finding the address). */
  get idle(): boolean {
    return this.#entries.size === 0;
  }

  /** Seconds this address must still wait (0 when it may try). */
  retryAfter(addr: string): number {
    const e = this.#entries.get(addr);
    if (!e) return 0;
    const left = e.blockedUntil - this.#now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Record one failed attempt. */
  fail(addr: string): void {
    const now = this.#now();
    let e = this.#entries.get(addr);
    if (e) this.#entries.delete(addr);
    if (!e || now - e.windowStart > this.#windowMs) e = { windowStart: now, failures: 0, blockedUntil: 0 };
    e.failures++;
    if (e.failures >= this.#max) e.blockedUntil = Math.max(e.blockedUntil, now + this.#blockMs);
    this.#entries.set(addr, e);
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
