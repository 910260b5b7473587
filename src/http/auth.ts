import type { MiddlewareHandler } from "hono";
import { ANONYMOUS, type TokenDirectory } from "../auth/peers.ts";
import { unauthenticated } from "../errors.ts";
import type { AppEnv } from "./types.ts";

const BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9\-._~+/]+=*)$/;
const MAX_CREDENTIAL = 8192;

/**
 * Identify the peer from its credential alone. Every failure gets the same 401 body, so nothing
 * tells a caller whether a peer or token exists.
 */
export function peerAuth(opts: {
  tokens: TokenDirectory;
  insecureNoAuth: boolean;
}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (!header && opts.insecureNoAuth) {
      c.set("peer", ANONYMOUS);
      return next();
    }
    const m = header && header.length <= MAX_CREDENTIAL ? BEARER.exec(header) : null;
    const peer = m ? opts.tokens.authenticate(m[1]!) : undefined;
    if (!peer) throw unauthenticated();
    c.set("peer", peer);
    return next();
  };
}

export function adminOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.var.peer.admin) throw unauthenticated("admin credential required");
    return next();
  };
}
