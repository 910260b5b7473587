import type { Context } from "hono";
import { camelKeys } from "../a2a/field-names.ts";
import { isAgentRole, isHermesFleet } from "../a2a/hermes.ts";
import { idOf, parseEnvelope, rpcResult } from "../a2a/jsonrpc.ts";
import { sseHeaders, sseStream } from "../a2a/sse.ts";
import type { PushService } from "../push/service.ts";
import type { Replies } from "../receivers/a2a/postbacks.ts";
import type { Engine } from "../tasks/engine.ts";
import { rpcErrorBody, toRelayError } from "./errors.ts";
import { checkDepth, parseJson } from "./json-body.ts";
import { namer, requireJson, resolveProfile, versionOf } from "./request.ts";
import { findMethod, profileFromParams } from "./rpc-methods.ts";
import type { AppEnv } from "./types.ts";

interface RpcRouteOptions {
  engine: Engine;
  profiles: ReadonlySet<string>;
  keepaliveMs: number;
  /** Whitespace before a slow fleet-dialect answer at least this often. */
  fleetQuietMs: number;
  /** Told each request's outcome ("ok"; errors are counted where they are rendered). */
  onOutcome?: (method: string, outcome: string) => void;
  push?: PushService | undefined;
  /** Queued receivers' post-backs (profiles with `reply_peer`). */
  replies?: Replies | undefined;
  /** An unexpected error (a bug): one log line. */
  onInternal?: (err: Error) => void;
}

/**
 * `POST /a2a/{profile}` and `POST /a2a`: the A2A JSON-RPC binding, every dialect. Runs after the
 * front door's preamble (http/request.ts); errors are thrown and rendered by http/errors.ts.
 */
export function rpcHandler(opts: RpcRouteOptions) {
  return async (c: Context<AppEnv>) => {
    c.set("rpcMethod", "(unparsed)");
    const version = c.req.header("a2a-version");
    const v = versionOf(version);
    requireJson(c.req.header("content-type"));
    const body = parseJson(await c.req.text());
    c.set("rpcId", idOf(body));
    checkDepth(body);
    const envelope = parseEnvelope(body);
    const req = { ...envelope, params: camelKeys(envelope.params) };
    const id = req.id;
    const method = req.method;
    c.set("rpcId", id);
    c.set("rpcMethod", method);
    let dialect = c.var.dialect;
    if (isHermesFleet(version, req.method, req.params)) dialect = "hermes";
    else if (!v && isV1Body(req.method, req.params)) dialect = "1.0";
    c.set("dialect", dialect);
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
      scoped: fromPath !== undefined,
      dialect,
      params: req.params,
      signal: c.req.raw.signal,
      keepOpen: () => c.env?.keepOpen?.(),
      hops: c.var.hops,
      push: opts.push,
      replies: opts.replies,
      named: namer(c),
    });
    // the a2a_fleet client gives up after 30 s without a byte: a fleet answer that takes longer
    // is preceded by whitespace (valid before JSON) every keepalive interval
    const outcome = dialect === "hermes" ? await beforeKeepalive(pending, opts.fleetQuietMs) : await pending;
    if (outcome === undefined) {
      const json = Promise.resolve(pending).then(
        (o) => {
          opts.onOutcome?.(method, "ok");
          return JSON.stringify(rpcResult(id, o.kind === "result" ? o.result : null));
        },
        (err) => {
          // the status line has gone out: the error is rendered into the body already begun
          const e = toRelayError(err, c.req.raw.signal, opts.onInternal);
          opts.onOutcome?.(method, e.reason);
          return JSON.stringify(rpcErrorBody(c, e));
        },
      );
      return new Response(whitespaceUntil(json, opts.fleetQuietMs), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    }
    opts.onOutcome?.(method, "ok");
    if (outcome.kind === "result") return c.json(rpcResult(id, outcome.result));
    const stream = sseStream(
      {
        start: (push, end) => outcome.start((f) => push({ ...f, data: rpcResult(id, f.data) }), end),
      },
      { keepaliveMs: opts.keepaliveMs, signal: c.req.raw.signal },
    );
    return new Response(stream, { status: 200, headers: sseHeaders(opts.keepaliveMs) });
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

const SEND_METHODS = new Set(["SendMessage", "SendStreamingMessage", "message/send", "message/stream"]);

/** A header-less request that uses v1.0 method names and v1.0-shaped parts: answer in v1.0. */
function isV1Body(method: string, params: unknown): boolean {
  if (method.includes("/")) return false;
  const parts = (params as { message?: { parts?: unknown } })?.message?.parts;
  if (!Array.isArray(parts)) return true;
  return !parts.some((p) => typeof p === "object" && p !== null && "kind" in p);
}
