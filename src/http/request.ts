import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { mayUse, type Peer } from "../auth/peers.ts";
import {
  bodyTooLarge,
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
 * The preamble every front door shares, after authentication: the binding (which decides how
 * errors render), `A2A-Version`, the hop count, the profile named in the path (REST and /send;
 * JSON-RPC may name it in the body, so its handler resolves it), then Hono's body limit.
 */
export function frontDoor(binding: Binding, opts: FrontDoorOptions): MiddlewareHandler<AppEnv>[] {
  const preamble: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set("binding", binding);
    const header = c.req.header("a2a-version");
    if (binding === "jsonrpc") {
      // errors before the body says otherwise answer in the header's dialect (v1.0 for a bad one)
      let v: "1.0" | "0.3" | undefined = "1.0";
      try {
        v = versionOf(header);
      } finally {
        c.set("dialect", v ?? "0.3");
      }
    } else {
      versionOf(header);
    }
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
  return [preamble, limit];
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
