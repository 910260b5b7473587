import type { Dialect } from "./dialect.ts";
import { rpcCall, rpcStream, type Upstream } from "./http.ts";
import { restCall, restStream, taskPath } from "./rest.ts";

/** `binding` of a forwarding profile once decided for a turn. */
export type Binding = "jsonrpc" | "rest";

/**
 * The calls a forwarded turn makes, over one binding. Results are raw answers in the dialect's
 * shape (REST: v1.0 objects); the dialect parses them. Undefined: the binding/dialect lacks it.
 */
export interface Wire {
  send(params: unknown, signal: AbortSignal): Promise<unknown>;
  stream: ((params: unknown, signal: AbortSignal) => AsyncIterable<unknown>) | undefined;
  get: ((id: string, signal: AbortSignal) => Promise<unknown>) | undefined;
  cancel: ((id: string, signal: AbortSignal) => Promise<unknown>) | undefined;
  subscribe: ((id: string, signal: AbortSignal) => AsyncIterable<unknown>) | undefined;
}

export function wireFor(binding: Binding, d: Dialect, up: Upstream): Wire {
  return binding === "rest" ? restWire(up) : rpcWire(d, up);
}

// internal

function rpcWire(d: Dialect, up: Upstream): Wire {
  const { stream, get, cancel, subscribe } = d;
  return {
    send: (params, signal) => rpcCall(up, d.send, params, signal),
    stream: stream ? (params, signal) => rpcStream(up, stream, params, signal) : undefined,
    get: get ? (id, signal) => rpcCall(up, get, d.idParams(id), signal) : undefined,
    cancel: cancel ? (id, signal) => rpcCall(up, cancel, d.idParams(id), signal) : undefined,
    subscribe: subscribe ? (id, signal) => rpcStream(up, subscribe, d.idParams(id), signal) : undefined,
  };
}

/** HTTP+JSON: v1.0 only (the receivers refuse REST with another protocol at start). */
function restWire(up: Upstream): Wire {
  return {
    send: (params, signal) => restCall(up, "POST", "/message:send", params, signal),
    stream: (params, signal) => restStream(up, "/message:stream", params, signal),
    get: (id, signal) => restCall(up, "GET", taskPath(id), undefined, signal),
    cancel: (id, signal) => restCall(up, "POST", taskPath(id, ":cancel"), {}, signal),
    subscribe: (id, signal) => restStream(up, taskPath(id, ":subscribe"), {}, signal),
  };
}
