import type { MiddlewareHandler } from "hono";
import type { CertificatePeers } from "../auth/cert-peers.ts";
import type { JwtVerifier } from "../auth/jwt.ts";
import type { AuthThrottle } from "../auth/limiter.ts";
import { ANONYMOUS, type Peer, type TokenDirectory } from "../auth/peers.ts";
import { forbidden, tooManyAuthFailures, unauthenticated } from "../errors.ts";
import type { AppEnv } from "./types.ts";

const BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9\-._~+/]+=*)$/;
const MAX_CREDENTIAL = 8192;

interface PeerAuthOptions {
  tokens: TokenDirectory;
  /** Accept JWTs (`Authorization: Bearer <jwt>`) from peers with `[peers.NAME.jwt]`. */
  jwt?: JwtVerifier | undefined;
  /** Answer 429 to a credential, or an address's bad credentials, after too many failures. */
  limiter?: AuthThrottle | undefined;
  insecureNoAuth: boolean;
  /** Peers identified by their verified client certificate when they send no credential. */
  certs?: CertificatePeers | undefined;
  /** Told about each refusal: the address and a short reason code, never the credential. */
  onFailure?: ((info: { addr: string; why: string }) => void) | undefined;
}

/**
 * Identify the peer from its credential: a JWT (told apart by its shape) or a static token; with no
 * credential, from a client certificate mapped by `[peers.X.tls]`.
 * Every failure gets the same 401 body, so nothing tells a caller whether a peer or token exists.
 */
export function peerAuth(opts: PeerAuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // the peer's address costs a system call: looked up only when something has failed lately
    const addrOf = () => c.env?.remoteAddress || "unknown";
    const header = c.req.header("authorization");
    const limiter = opts.limiter;
    if (limiter && !limiter.idle) {
      const wait = limiter.credentialWait(addrOf(), header);
      if (wait > 0) throw tooManyAuthFailures(wait, "credential");
    }
    // no credential: a verified client certificate that names a peer identifies it
    const cert = !header && opts.certs?.size ? c.env?.clientCertificate : undefined;
    const byCert = cert ? opts.certs?.identify(cert) : undefined;
    if (byCert) {
      c.set("peer", byCert);
      return next();
    }
    if (!header && opts.insecureNoAuth) {
      c.set("peer", ANONYMOUS);
      return next();
    }
    const r = await identify(header, opts);
    if (!r.peer) {
      const addr = addrOf();
      limiter?.fail(addr, header);
      // a flood of distinct bad credentials: 429, and no log line for each
      const wait = limiter?.addressWait(addr) ?? 0;
      if (wait > 0) throw tooManyAuthFailures(wait, "address");
      opts.onFailure?.({ addr, why: r.why });
      throw unauthenticated();
    }
    c.set("peer", r.peer);
    return next();
  };
}

/**
 * The same check for a credential that does not come in a header (the status page's login form):
 * a JWT or a static token, the same throttle and the same failure report. The peer, or why not in
 * words for a person (one sentence for every bad credential, as the 401 is one body).
 */
export function credentialCheck(opts: PeerAuthOptions) {
  return async (credential: string, addr: string): Promise<{ peer: Peer } | { why: string }> => {
    const header = `Bearer ${credential}`;
    const limiter = opts.limiter;
    if (limiter && !limiter.idle && limiter.credentialWait(addr, header) > 0)
      return { why: "too many failed sign-ins: wait a minute and try again" };
    const r = await identify(header, opts);
    if (r.peer) return { peer: r.peer };
    limiter?.fail(addr, header);
    if ((limiter?.addressWait(addr) ?? 0) > 0)
      return { why: "too many failed sign-ins: wait a minute and try again" };
    opts.onFailure?.({ addr, why: r.why });
    return { why: "that is not a token of this relay, nor a JWT it accepts" };
  };
}

/** `/admin/*`: an authenticated peer that is not `admin` gets 403 (its credential is fine). */
export function adminOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.var.peer.admin) throw forbidden(`peer "${c.var.peer.name}" is not an admin peer`);
    return next();
  };
}

// internal

async function identify(
  header: string | undefined,
  opts: PeerAuthOptions,
): Promise<{ peer: Peer; why?: undefined } | { peer?: undefined; why: string }> {
  if (!header) return { why: "no credential" };
  if (header.length > MAX_CREDENTIAL) return { why: "credential too long" };
  const m = BEARER.exec(header);
  if (!m) return { why: "not a Bearer credential" };
  const credential = m[1]!;
  if (opts.jwt) {
    const r = await opts.jwt.verify(credential);
    if (r.kind === "ok") return { peer: r.peer };
    if (r.kind === "refused") return { why: `jwt: ${r.why}` };
  }
  const peer = opts.tokens.authenticate(credential);
  return peer ? { peer } : { why: "unknown token" };
}
