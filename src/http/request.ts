import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { mayUse, type Peer } from "../auth/peers.ts";
import {
  bodyTooLarge,
  contentEncodingNotSupported,
  contentTypeNotSupported,
  profileForbidden,
  profileNotFound,
  versionNotSupported,
} from "../errors.ts";
import { checkHops, HOPS_HEADER, readHops } from "../routing/hops.ts";
import type { AppEnv, Binding } from "./types.ts";

/** Request checks shared by the front doors (JSON-RPC, HTTP+JSON, /send). */

interface FrontDoorOptions {
  profiles: ReadonlySet<string>;
  /** `server.max_hops`: requests forwarded more often than this get -32044. */
  maxHops: number;
  /** `server.max_body_bytes`: a larger body is refused (413) before it is parsed. */
  maxBodyBytes: number;
}

/**
 * The middleware every front door runs, in order: its binding goes on the request first (so that
 * every error, a refused credential included, renders in the binding's shape), then
 * authentication, then the preamble they share (`A2A-Version`, the hop count, the profile named in
 * the path: REST and /send; JSON-RPC may name it in the body, so its handler resolves it), then
 * Hono's body limit.
 */
export function frontDoor(
  binding: Binding,
  auth: MiddlewareHandler<AppEnv>,
  opts: FrontDoorOptions,
): [
  MiddlewareHandler<AppEnv>,
  MiddlewareHandler<AppEnv>,
  MiddlewareHandler<AppEnv>,
  MiddlewareHandler<AppEnv>,
] {
  const enter: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set("binding", binding);
    // JSON-RPC errors answer in the header's dialect until the body says otherwise (a bad one: v1.0)
    if (binding === "jsonrpc") c.set("dialect", headerDialect(c.req.header("a2a-version")));
    return next();
  };
  const preamble: MiddlewareHandler<AppEnv> = async (c, next) => {
    versionOf(c.req.header("a2a-version"));
    // a gzip body would otherwise fail as "not valid JSON", which does not say what to fix
    const encoding = c.req.header("content-encoding")?.trim().toLowerCase();
    if (encoding && encoding !== "identity") throw contentEncodingNotSupported(encoding);
    const hops = readHops(c.req.header(HOPS_HEADER));
    checkHops(hops, opts.maxHops);
    c.set("hops", hops);
    if (binding !== "jsonrpc")
      c.set("profile", resolveProfile(c.req.param("profile"), c.var.peer, opts.profiles));
    return next();
  };
  const limit = bodyLimit({
    maxSize: opts.maxBodyBytes,
    onError: () => {
      throw bodyTooLarge(opts.maxBodyBytes);
    },
  });
  return [enter, auth, preamble, limit];
}

/** `A2A-Version` → "1.0" | "0.3"; undefined when absent; throws -32009 for anything else. */
export function versionOf(h: string | undefined): "1.0" | "0.3" | undefined {
  if (h === undefined) return undefined;
  const v = h.trim();
  if (v === "1.0" || v === "1.0.0" || v === "1") return "1.0";
  if (v === "0.3" || v === "0.3.0" || v === "") return "0.3";
  throw versionNotSupported(h);
}

/** Accept JSON bodies only (`application/json` or `application/a2a+json`). */
export function requireJson(contentType: string | undefined): void {
  const ct = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct !== "application/json" && ct !== "application/a2a+json") throw contentTypeNotSupported(ct);
}

/** The profile a request addresses, checked against the peer's rights. */
export function resolveProfile(name: string | undefined, peer: Peer, profiles: ReadonlySet<string>): string {
  const allowed = [...profiles].filter((p) => mayUse(peer, p));
  const chosen = name ?? peer.defaultProfile ?? (allowed.length === 1 ? allowed[0] : undefined);
  if (!chosen || !profiles.has(chosen)) throw profileNotFound(chosen ?? "(none given)", allowed);
  if (!mayUse(peer, chosen)) throw profileForbidden(chosen, peer.name);
  return chosen;
}

/** Puts the task a call creates or names (and its profile) on the request, for its log line. */
export function namer(c: Context<AppEnv>) {
  return (taskId: string, profile?: string) => {
    c.set("task", taskId);
    if (profile) c.set("profile", profile);
  };
}

// internal

function headerDialect(h: string | undefined): "1.0" | "0.3" {
  try {
    return versionOf(h) ?? "0.3";
  } catch {
    return "1.0";
  }
}
