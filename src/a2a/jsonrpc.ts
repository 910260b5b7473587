import type { RelayError } from "../errors.ts";
import { invalidRequest } from "../errors.ts";

export type JsonRpcId = string | number | null;
export type Dialect = "1.0" | "0.3" | "hermes";

interface JsonRpcRequest {
  id: JsonRpcId;
  method: string;
  params: unknown;
}

/** Validate a JSON-RPC 2.0 request envelope (after JSON.parse). Batches are not supported. */
export function parseEnvelope(body: unknown): JsonRpcRequest {
  if (Array.isArray(body))
    throw invalidRequest("batch requests are not supported; send one request per call");
  if (typeof body !== "object" || body === null) throw invalidRequest("the request must be a JSON object");
  const b = body as Record<string, unknown>;
  if (b.jsonrpc !== "2.0") throw invalidRequest('"jsonrpc" must be "2.0"');
  if (typeof b.method !== "string" || !b.method) throw invalidRequest('"method" must be a non-empty string');
  const id = b.id;
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") {
    throw invalidRequest('"id" must be a string, a number or null');
  }
  if (b.params !== undefined && (typeof b.params !== "object" || b.params === null)) {
    throw invalidRequest('"params" must be an object');
  }
  return { id: (id ?? null) as JsonRpcId, method: b.method, params: b.params ?? {} };
}

/** Best effort: the id of a request that failed validation, so the error can echo it. */
export function idOf(body: unknown): JsonRpcId {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const id = (body as Record<string, unknown>).id;
    if (typeof id === "string" || typeof id === "number") return id;
  }
  return null;
}

export function rpcResult(id: JsonRpcId, result: unknown) {
  return { jsonrpc: "2.0" as const, id, result };
}

/** A RelayError as a google.rpc.ErrorInfo (v1.0 JSON-RPC `error.data[]`, HTTP+JSON `details[]`). */
export function errorInfo(err: RelayError) {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.data ?? {})) {
    if (v !== undefined) meta[k] = Array.isArray(v) ? v.join(",") : String(v);
  }
  return {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: err.reason,
    domain: err.domain,
    ...(Object.keys(meta).length ? { metadata: meta } : {}),
  };
}

/**
 * A RelayError as a JSON-RPC error object. v1.0: `data` is a list of google.rpc.ErrorInfo;
 * v0.3 and the fleet dialect: `data` is a plain object with the reason.
 */
function rpcError(err: RelayError, dialect: Dialect) {
  const data = dialect === "1.0" ? [errorInfo(err)] : { reason: err.reason, ...(err.data ?? {}) };
  return { code: err.code, message: err.message, data };
}

export function rpcErrorResponse(id: JsonRpcId, err: RelayError, dialect: Dialect) {
  return { jsonrpc: "2.0" as const, id, error: rpcError(err, dialect) };
}
