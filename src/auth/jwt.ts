import { createPublicKey, type KeyObject } from "node:crypto";
import type { JWTPayload, JWTVerifyGetKey } from "jose";
import type { ResolvedPeer } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import { jose } from "./jose.ts";
import { type Peer, toPeer } from "./peers.ts";
import type { ReplayGuard } from "./replay.ts";

/** Seconds of clock skew tolerated on exp, nbf and iat. */
const CLOCK_TOLERANCE_S = 30;

export interface JwtVerifierOptions {
  peers: Iterable<ResolvedPeer>;
  /** This relay's `server.id`: the audience every token must name. */
  audience: string;
  replay: ReplayGuard;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Used for JWKS fetches. */
  fetch?: typeof fetch;
  /** A JWKS fetch that takes longer fails (closed). */
  jwksTimeoutMs?: number;
  /** At most one JWKS refetch per this period for an unknown kid. */
  jwksCooldownMs?: number;
  /** After a failed JWKS fetch, fail at once (no fetch) for this long. */
  jwksBackoffMs?: number;
}

export type JwtOutcome =
  | { kind: "ok"; peer: Peer }
  /** Not shaped like a JWT: try it as a static token. */
  | { kind: "not-jwt" }
  /** A JWT that is refused; `why` is a short code for logs (never the token or a claim value). */
  | { kind: "refused"; why: string };

/** JWT shape: three base64url segments. Static tokens of this relay never contain dots. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface Issuer {
  peer: ResolvedPeer;
  issuer: string;
  algorithms: string[];
  maxTtlS: number;
  key: KeyObject | Uint8Array | JWTVerifyGetKey;
}

/**
 * Verifies peer JWTs: per-peer key (public key file, remote JWKS, or HMAC secret), algorithm
 * allow-list, iss = the peer, aud = this relay, exp required and at most max_ttl_s after iat,
 * nbf honoured, 30 s tolerance, jti required and never accepted twice, optional `profiles` claim
 * narrowing the peer's rights. Fails closed on every error.
 */
export class JwtVerifier {
  readonly #issuers = new Map<string, Issuer>();
  readonly #opts: JwtVerifierOptions;
  readonly #now: () => number;

  constructor(opts: JwtVerifierOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    for (const p of opts.peers) {
      if (!p.jwt || !p.jwtKey?.resolved) continue;
      const issuer = p.jwt.issuer ?? p.name;
      const other = this.#issuers.get(issuer);
      if (other) {
        throw new ConfigError(
          `peers.${p.name}.jwt.issuer: "${issuer}" is already the JWT issuer of peer "${other.peer.name}"`,
        );
      }
      this.#issuers.set(issuer, { peer: p, issuer, maxTtlS: p.jwt.max_ttl_s, ...this.#keyOf(p) });
    }
  }

  get size(): number {
    return this.#issuers.size;
  }

  async verify(token: string): Promise<JwtOutcome> {
    if (!JWT_SHAPE.test(token)) return { kind: "not-jwt" };
    const { decodeJwt, decodeProtectedHeader, jwtVerify } = await jose();
    let unverified: JWTPayload;
    try {
      decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return { kind: "not-jwt" };
    }
    const entry = typeof unverified.iss === "string" ? this.#issuers.get(unverified.iss) : undefined;
    if (!entry) return { kind: "refused", why: "unknown issuer" };
    const now = this.#now();
    let claims: JWTPayload;
    try {
      const key = entry.key;
      const opts = {
        issuer: entry.issuer,
        audience: this.#opts.audience,
        algorithms: entry.algorithms,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now),
        requiredClaims: ["exp", "iat", "jti"],
      };
      claims = (
        typeof key === "function" ? await jwtVerify(token, key, opts) : await jwtVerify(token, key, opts)
      ).payload;
    } catch (err) {
      return { kind: "refused", why: (err as { code?: string }).code ?? "invalid" };
    }
    const { exp, iat, jti } = claims as { exp: number; iat: number; jti: unknown };
    if (exp - iat > entry.maxTtlS) return { kind: "refused", why: "lifetime over max_ttl_s" };
    if (iat > now / 1000 + CLOCK_TOLERANCE_S) return { kind: "refused", why: "iat in the future" };
    if (typeof jti !== "string" || jti.length === 0 || jti.length > 256)
      return { kind: "refused", why: "bad jti" };
    const narrowed = narrow(entry.peer.profiles, claims.profiles);
    if (!narrowed) return { kind: "refused", why: "bad profiles claim" };
    const fresh = await this.#opts.replay.remember(entry.peer.name, jti, (exp + CLOCK_TOLERANCE_S) * 1000);
    if (!fresh) return { kind: "refused", why: "replayed jti" };
    return { kind: "ok", peer: { ...toPeer(entry.peer, "jwt"), profiles: narrowed } };
  }

  // internal

  #keyOf(p: ResolvedPeer): Pick<Issuer, "key" | "algorithms"> {
    const k = p.jwtKey!;
    const algorithms = effectiveAlgorithms(k.kind, p.jwt!.algorithms);
    if (k.kind === "secret_env") return { key: new TextEncoder().encode(k.secret!), algorithms };
    if (algorithms.length === 0) {
      throw new ConfigError(
        `peers.${p.name}.jwt.algorithms: list at least one public-key algorithm (e.g. "EdDSA")`,
      );
    }
    if (k.kind === "public_key_file") {
      try {
        return { key: createPublicKey({ key: k.pem!, format: "pem" }), algorithms };
      } catch (err) {
        throw new ConfigError(
          `peers.${p.name}.jwt.public_key_file: ${k.source.slice(5)} is not a PEM public key (${(err as Error).message})`,
        );
      }
    }
    return { key: this.#remoteJwks(k.url!), algorithms };
  }

  #remoteJwks(url: string): JWTVerifyGetKey {
    const fetchImpl = this.#opts.fetch ?? fetch;
    const backoff = this.#opts.jwksBackoffMs ?? 5_000;
    let failedAt = Number.NEGATIVE_INFINITY;
    const guarded = async (u: string, init: RequestInit): Promise<Response> => {
      if (this.#now() - failedAt < backoff) throw new Error("JWKS endpoint failed recently");
      try {
        const res = await fetchImpl(u, init);
        const text = await res.text();
        const body = JSON.parse(text) as { keys?: unknown };
        if (!res.ok || !Array.isArray(body.keys)) throw new Error("not a JWKS");
        return new Response(text, { status: res.status, headers: res.headers });
      } catch (err) {
        failedAt = this.#now();
        throw err;
      }
    };
    // built on the first token to verify (jose loads on first use)
    let set: JWTVerifyGetKey | undefined;
    return async (header, token) => {
      if (!set) {
        const { createRemoteJWKSet, customFetch } = await jose();
        set ??= createRemoteJWKSet(new URL(url), {
          timeoutDuration: this.#opts.jwksTimeoutMs ?? 3_000,
          cooldownDuration: this.#opts.jwksCooldownMs ?? 30_000,
          cacheMaxAge: 10 * 60_000,
          [customFetch]: guarded as never,
        });
      }
      return set(header, token);
    };
  }
}

/**
 * The algorithms a peer's tokens may use. An HMAC secret verifies only HS256/384/512 (HS256 when
 * none is listed); a public key never verifies an HMAC (the algorithm-confusion attack), nor "none".
 */
export function effectiveAlgorithms(kind: string, configured: readonly string[]): string[] {
  const hmac = configured.filter((a) => /^HS(256|384|512)$/.test(a));
  if (kind === "secret_env") return hmac.length ? hmac : ["HS256"];
  return configured.filter((a) => !hmac.includes(a) && a !== "none");
}

// internal

/** The peer's rights, narrowed by a `profiles` claim; undefined when the claim is malformed. */
function narrow(allowed: readonly string[], claim: unknown): string[] | undefined {
  if (claim === undefined) return [...allowed];
  if (!Array.isArray(claim) || claim.length > 256 || !claim.every((x) => typeof x === "string"))
    return undefined;
  if (claim.includes("*")) return [...allowed];
  if (allowed.includes("*")) return [...claim];
  return claim.filter((x) => allowed.includes(x));
}
