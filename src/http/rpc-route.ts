import type { Context } from "hono";
import { isHermesFleet } from "../a2a/hermes.ts";
import {
  type Dialect,
  idOf,
  type JsonRpcId,
  parseEnvelope,
  rpcErrorResponse,
  rpcResult,
} from "../a2a/jsonrpc.ts";
import { SSE_HEADERS, sseStream } from "../a2a/sse.ts";
import { mayUse, type Peer } from "../auth/peers.ts";
import {
  bodyTooLarge,
  contentTypeNotSupported,
  internalError,
  parseError,
  profileForbidden,
  profileNotFound,
  RelayError,
  versionNotSupported,
} from "../errors.ts";
import type { Engine } from "../tasks/engine.ts";
import { findMethod, profileFromParams } from "./rpc-methods.ts";
import type { AppEnv } from "./types.ts";

export interface RpcRouteOptions {
  engine: Engine;
  profiles: ReadonlySet<string>;
  maxBodyBytes: number;
  keepaliveMs: number;
  onOutcome?: (method: string, outcome: string) => void;
}

/** `POST /a2a/{profile}` and `POST /a2a`: the A2A JSON-RPC binding, every dialect. */
export function rpcHandler(opts: RpcRouteOptions) {
  return async (c: Context<AppEnv>) => {
    let id: JsonRpcId = null;
    let dialect: Dialect = versionOf(c.req.header("a2a-version")) ?? "0.3";
    let method = "(unparsed)";
    try {
      const version = c.req.header("a2a-version");
      const v = versionOf(version);
      if (version !== undefined && !v) throw versionNotSupported(version);
      const ct = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (ct !== "application/json" && ct !== "application/a2a+json") throw contentTypeNotSupported(ct);
      const text = await readLimited(c.req.raw, opts.maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw parseError();
      }
      id = idOf(body);
      const req = parseEnvelope(body);
      id = req.id;
      method = req.method;
      c.set("rpcMethod", method);
      if (isHermesFleet(version, req.method, req.params)) dialect = "hermes";
      else if (!v && isV1Body(req.method, req.params)) dialect = "1.0";
      const handler = findMethod(dialect, req.method);
      const peer = c.var.peer;
      const fromPath = c.req.param("profile");
      const profile =
        fromPath !== undefined || SEND_METHODS.has(req.method)
          ? resolveProfile(fromPath, req.params, peer, opts.profiles)
          : "";
      const outcome = await handler(opts.engine, {
        peer,
        profile,
        scoped: c.req.param("profile") !== undefined,
        dialect,
        params: req.params,
        signal: c.req.raw.signal,
        keepOpen: () => c.env?.keepOpen?.(),
      });
      opts.onOutcome?.(method, "ok");
      if (outcome.kind === "result") return c.json(rpcResult(id, outcome.result));
      const rpcId = id;
      const stream = sseStream(
        {
          start: (push, end) => outcome.start((f) => push({ ...f, data: rpcResult(rpcId, f.data) }), end),
        },
        { keepaliveMs: opts.keepaliveMs, signal: c.req.raw.signal },
      );
      return new Response(stream, { status: 200, headers: SSE_HEADERS });
    } catch (err) {
      const e =
        err instanceof RelayError ? err : internalError(err instanceof Error ? err.message : String(err));
      opts.onOutcome?.(method, e.reason);
      if (!(err instanceof RelayError)) console.error(err);
      return c.json(
        rpcErrorResponse(id, e, dialect === "hermes" ? "0.3" : dialect),
        e.status as 200,
        e.headers,
      );
    }
  };
}

// internal

const SEND_METHODS = new Set(["SendMessage", "SendStreamingMessage", "message/send", "message/stream"]);

function versionOf(h: string | undefined): "1.0" | "0.3" | undefined {
  if (h === undefined) return undefined;
  const v = h.trim();
  if (v === "1.0" || v === "1.0.0" || v === "1") return "1.0";
  if (v === "0.3" || v === "0.3.0" || v === "") return "0.3";
  return undefined;
}

/** A header-less request that uses v1.0 method names and v1.0-shaped parts: answer in v1.0. */
function isV1Body(method: string, params: unknown): boolean {
  if (method.includes("/")) return false;
  const parts = (params as { message?: { parts?: unknown } })?.message?.parts;
  if (!Array.isArray(parts)) return true;
  return !parts.some((p) => typeof p === "object" && p !== null && "kind" in p);
}

function resolveProfile(
  fromPath: string | undefined,
  params: unknown,
  peer: Peer,
  profiles: ReadonlySet<string>,
) {
  const name = fromPath ?? profileFromParams(params) ?? peer.defaultProfile ?? soleProfile(peer, profiles);
  const allowed = [...profiles].filter((p) => mayUse(peer, p));
  if (!name || !profiles.has(name)) throw profileNotFound(name ?? "(none given)", allowed);
  if (!mayUse(peer, name)) throw profileForbidden(name, peer.name);
  return name;
}

function soleProfile(peer: Peer, profiles: ReadonlySet<string>): string | undefined {
  const allowed = [...profiles].filter((p) => mayUse(peer, p));
  return allowed.length === 1 ? allowed[0] : undefined;
}

/** Read a request body, refusing (without buffering it whole) one larger than `limit` bytes. */
async function readLimited(req: Request, limit: number): Promise<string> {
  const len = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(len) && len > limit) throw bodyTooLarge(limit);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
