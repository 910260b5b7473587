import { createHash } from "node:crypto";

/**
 * Failure counter: after `maxFailures` failures of one key within `windowMs`, that key is blocked
 * for `blockMs`. Memory is bounded: at most `capacity` keys are tracked; the least recently
 * failing one is forgotten first (a Map kept in LRU order). AuthThrottle below keys it by address
 * and by (address, credential).
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

  /** Record one failed attempt; returns the failures of this key in the current window. */
  fail(addr: string): number {
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
    return e.failures;
  }

  get size(): number {
    return this.#entries.size;
  }
}

export interface AuthThrottleOptions {
  /** Failures of one credential from one address within the window before it gets 429 (20). */
  perCredential?: number;
  /** Distinct bad credentials from one address within the window before its bad ones get 429 (100). */
  perAddress?: number;
  windowMs?: number;
  blockMs?: number;
  capacity?: number;
  now?: () => number;
}

/**
 * Throttling of failed authentications by credential, not only by address: hosts where many
 * peers share an address (every relay and agent on loopback) must not lose a valid peer to a
 * broken or hostile neighbour.
 *
 * - (address, credential): a credential that failed `perCredential` times from an address is
 *   answered 429 from there for `blockMs`, without being checked again.
 * - address: `perAddress` distinct bad credentials from one address (a guessing flood) turn its
 *   401s into 429s for `blockMs`. A credential that verifies is still answered: it is checked
 *   before the address's block is looked at.
 *
 * The credential is kept only as a truncated SHA-256 digest.
 */
export class AuthThrottle {
  readonly #credentials: FailureLimiter;
  readonly #addresses: FailureLimiter;

  constructor(opts: AuthThrottleOptions = {}) {
    const common = {
      ...(opts.windowMs !== undefined ? { windowMs: opts.windowMs } : {}),
      ...(opts.blockMs !== undefined ? { blockMs: opts.blockMs } : {}),
      ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    };
    this.#credentials = new FailureLimiter({ ...common, maxFailures: opts.perCredential ?? 20 });
    this.#addresses = new FailureLimiter({ ...common, maxFailures: opts.perAddress ?? 100 });
  }

  /** Nothing failed lately: callers skip finding the address and hashing the credential. */
  get idle(): boolean {
    return this.#credentials.idle;
  }

  /** Seconds before this credential may be tried again from this address (0: check it). */
  credentialWait(addr: string, credential: string | undefined): number {
    return this.#credentials.retryAfter(credentialKey(addr, credential));
  }

  /** Seconds this address's bad credentials are still answered 429 (0: 401 as usual). */
  addressWait(addr: string): number {
    return this.#addresses.retryAfter(addr);
  }

  /** Record a credential that did not verify. */
  fail(addr: string, credential: string | undefined): void {
    // the address counts distinct bad credentials: a credential's first failure in its window
    if (this.#credentials.fail(credentialKey(addr, credential)) === 1) this.#addresses.fail(addr);
  }
}

// internal

function credentialKey(addr: string, credential: string | undefined): string {
  const digest = createHash("sha256")
    .update(credential ?? "")
    .digest("base64url")
    .slice(0, 22);
  return `${addr} ${credential === undefined ? "-" : digest}`;
}
