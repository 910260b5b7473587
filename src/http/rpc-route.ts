import type { Context } from "hono";
import { camelKeys } from "../a2a/field-names.ts";
import { isAgentRole, isHermesFleet } from "../a2a/hermes.ts";
import {
  type Dialect,
  idOf,
  type JsonRpcId,
  parseEnvelope,
  rpcErrorResponse,
  rpcResult,
} from "../a2a/jsonrpc.ts";
import { SSE_HEADERS, sseStream } from "../a2a/sse.ts";
import type { PushService } from "../push/service.ts";
import type { Replies } from "../receivers/a2a/postbacks.ts";
import { checkHops, HOPS_HEADER, readHops } from "../routing/hops.ts";
import type { Engine } from "../tasks/engine.ts";
import { checkDepth, parseJson } from "./json-body.ts";
import { asRelayError, readLimited, requireJson, resolveProfile, versionOf } from "./request.ts";
import { findMethod, profileFromParams } from "./rpc-methods.ts";
import type { AppEnv } from "./types.ts";

export interface RpcRouteOptions {
  engine: Engine;
  profiles: ReadonlySet<string>;
  maxBodyBytes: number;
  keepaliveMs: number;
  onOutcome?: (method: string, outcome: string) => void;
  push?: PushService | undefined;
  /** `server.max_hops`: requests forwarded more often than this get -32044 (default 4). */
  maxHops?: number;
  /** Queued receivers' post-backs (profiles with `reply_peer`). */
  replies?: Replies | undefined;
  /** An unexpected error (a bug): one log line. */
  onInternal?: (err: Error) => void;
}

/** `POST /a2a/{profile}` and `POST /a2a`: the A2A JSON-RPC binding, every dialect. */
export function rpcHandler(opts: RpcRouteOptions) {
  return async (c: Context<AppEnv>) => {
    let id: JsonRpcId = null;
    let dialect: Dialect = safeVersion(c.req.header("a2a-version")) ?? "0.3";
    let method = "(unparsed)";
    try {
      const version = c.req.header("a2a-version");
      const v = versionOf(version);
      requireJson(c.req.header("content-type"));
      const hops = readHops(c.req.header(HOPS_HEADER));
      checkHops(hops, opts.maxHops ?? 4);
      const text = await readLimited(c.req.raw, opts.maxBodyBytes);
      const body = parseJson(text);
      id = idOf(body);
      checkDepth(body);
      const envelope = parseEnvelope(body);
      const req = { ...envelope, params: camelKeys(envelope.params) };
      id = req.id;
      method = req.method;
      c.set("rpcMethod", method);
      if (isHermesFleet(version, req.method, req.params)) dialect = "hermes";
      else if (!v && isV1Body(req.method, req.params)) dialect = "1.0";
      const handler = findMethod(dialect, req.method);
      const peer = c.var.peer;
      const fromPath = c.req.param("profile");
      // a profile's reply_peer may post back to it without being allowed to send it turns
      const postback =
        dialect === "hermes" &&
        fromPath !== undefined &&
        opts.replies?.replyPeer(fromPath) === peer.name &&
        isAgentRole((req.params as { message?: { role?: string } }).message?.role);
      const profile = postback
        ? (fromPath as string)
        : fromPath !== undefined || SEND_METHODS.has(req.method)
          ? resolveProfile(fromPath ?? profileFromParams(req.params), peer, opts.profiles)
          : "";
      const pending = handler(opts.engine, {
        peer,
        profile,
        scoped: c.req.param("profile") !== undefined,
        dialect,
        params: req.params,
        signal: c.req.raw.signal,
        keepOpen: () => c.env?.keepOpen?.(),
        hops,
        push: opts.push,
        replies: opts.replies,
      });
      // the a2a_fleet client gives up after 30 s without a byte: a fleet answer that takes longer
      // is preceded by whitespace (valid before JSON) every keepalive interval
      const outcome = dialect === "hermes" ? await beforeKeepalive(pending, opts.keepaliveMs) : await pending;
      if (outcome === undefined) {
        const rpcId = id;
        const signal = c.req.raw.signal;
        const json = Promise.resolve(pending).then(
          (o) => {
            opts.onOutcome?.(method, "ok");
            return JSON.stringify(rpcResult(rpcId, o.kind === "result" ? o.result : null));
          },
          (err) => {
            const e = asRelayError(err, signal, opts.onInternal);
            opts.onOutcome?.(method, e.reason);
            return JSON.stringify(rpcErrorResponse(rpcId, e, "0.3"));
          },
        );
        return new Response(whitespaceUntil(json, opts.keepaliveMs), {
          status: 200,
          headers: { "content-type": "application/json" },
        });
      }
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
      const e = asRelayError(err, c.req.raw.signal, opts.onInternal);
      opts.onOutcome?.(method, e.reason);
      return c.json(
        rpcErrorResponse(id, e, dialect === "hermes" ? "0.3" : dialect),
        e.status as 200,
        e.headers,
      );
    }
  };
}

// internal

/** The outcome if it settles within `ms` (a rejection is thrown); undefined if it takes longer. */
async function beforeKeepalive<T>(p: Promise<T> | T, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A body of one space every `everyMs`, then `json`: JSON parsers skip leading whitespace. */
function whitespaceUntil(json: Promise<string>, everyMs: number): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(enc.encode(" "));
      timer = setInterval(() => ctl.enqueue(enc.encode(" ")), everyMs);
      void json.then((text) => {
        clearInterval(timer);
        try {
          ctl.enqueue(enc.encode(text));
          ctl.close();
        } catch {
          // the client went away meanwhile
        }
      });
    },
    cancel() {
      clearInterval(timer);
    },
  });
}

function safeVersion(h: string | undefined): "1.0" | "0.3" | undefined {
  try {
    return versionOf(h);
  } catch {
    return "1.0";
  }
}

const SEND_METHODS = new Set(["SendMessage", "SendStreamingMessage", "message/send", "message/stream"]);

/** A header-less request that uses v1.0 method names and v1.0-shaped parts: answer in v1.0. */
function isV1Body(method: string, params: unknown): boolean {
  if (method.includes("/")) return false;
  const parts = (params as { message?: { parts?: unknown } })?.message?.parts;
  if (!Array.isArray(parts)) return true;
  return !parts.some((p) => typeof p === "object" && p !== null && "kind" in p);
}
