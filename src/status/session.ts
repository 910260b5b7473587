import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The status page's session cookie: `<payload>.<mac>`, the payload `{p: peer, e: expiry (ms), n:
 * nonce}` as base64url JSON, the mac HMAC-SHA256 of it under the relay's session key
 * (`<data dir>/status-session.key`, 0600, made on first start). Nothing is stored per session, so
 * a session outlives a restart; deleting the key file (and restarting) ends every session. Signing
 * out drops the cookie and revokes its nonce in this process.
 */
export interface SessionOptions {
  /** The signing key (the session key file's content). */
  key: string;
  /** Session lifetime (default 12 h). */
  ttlMs?: number;
  now?: () => number;
}

export type SessionCheck =
  | { ok: true; peer: string }
  | { ok: false; why: "expired" | "invalid" | "signed out" };

export class Sessions {
  readonly #key: Buffer;
  readonly #now: () => number;
  readonly ttlMs: number;
  /** Nonces signed out in this process, with their expiry (dropped once past it). */
  readonly #revoked = new Map<string, number>();

  constructor(opts: SessionOptions) {
    if (opts.key.length < 32) throw new TypeError("status session key: at least 32 characters");
    this.#key = Buffer.from(opts.key, "utf8");
    this.#now = opts.now ?? Date.now;
    this.ttlMs = opts.ttlMs ?? 12 * 3600_000;
  }

  /** A cookie value for `peer`, valid for `ttlMs`. */
  issue(peer: string): string {
    const payload = Buffer.from(
      JSON.stringify({ p: peer, e: this.#now() + this.ttlMs, n: randomBytes(12).toString("base64url") }),
    ).toString("base64url");
    return `${payload}.${this.#mac(payload)}`;
  }

  check(value: string): SessionCheck {
    const claims = this.#verify(value);
    if (!claims) return { ok: false, why: "invalid" };
    if (claims.e <= this.#now()) return { ok: false, why: "expired" };
    if (this.#revoked.has(claims.n)) return { ok: false, why: "signed out" };
    return { ok: true, peer: claims.p };
  }

  /** Sign out: this cookie no longer opens a session in this process. */
  revoke(value: string): void {
    const claims = this.#verify(value);
    if (!claims) return;
    const t = this.#now();
    for (const [n, exp] of this.#revoked) if (exp <= t) this.#revoked.delete(n);
    this.#revoked.set(claims.n, claims.e);
  }

  // internal

  #mac(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }

  #verify(value: string): { p: string; e: number; n: string } | undefined {
    const dot = value.indexOf(".");
    if (dot <= 0 || value.length > 1024) return undefined;
    const payload = value.slice(0, dot);
    const mac = Buffer.from(value.slice(dot + 1));
    const want = Buffer.from(this.#mac(payload));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return undefined;
    try {
      const c = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
      if (typeof c.p !== "string" || typeof c.e !== "number" || typeof c.n !== "string") return undefined;
      return { p: c.p, e: c.e, n: c.n };
    } catch {
      return undefined;
    }
  }
}
