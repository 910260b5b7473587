import type { RelayError } from "../errors.ts";

/**
 * A RelayError in the HTTP+JSON binding's shape (google.rpc.Status JSON, spec v1.0.1 §11.6), with
 * the HTTP status of the spec's error mapping table (§5.4). Relay errors keep their own status.
 */
export function restError(err: RelayError): { status: number; body: Record<string, unknown> } {
  const status = restStatus(err);
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.data ?? {})) {
    if (v !== undefined) meta[k] = Array.isArray(v) ? v.join(",") : String(v);
  }
  return {
    status,
    body: {
      error: {
        code: status,
        status: PRECONDITION.has(err.code) ? "FAILED_PRECONDITION" : (STATUS_NAMES[status] ?? "UNKNOWN"),
        message: err.message,
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: err.reason,
            domain: err.domain,
            ...(Object.keys(meta).length ? { metadata: meta } : {}),
          },
        ],
      },
    },
  };
}

// internal

function restStatus(err: RelayError): number {
  switch (err.code) {
    case -32001:
    case -32040:
    case -32601:
      return 404;
    case -32002:
    case -32003:
    case -32004:
    case -32007:
    case -32008:
    case -32009:
    case -32700:
    case -32602:
      return 400;
    case -32005:
      return 415; // the spec's mapping of ContentTypeNotSupportedError
    case -32600:
      return err.status === 413 ? 413 : 400;
    case -32006:
    case -32603:
      return 500;
    default:
      return Math.max(err.status, 400);
  }
}

const PRECONDITION = new Set([-32002, -32003, -32004, -32007, -32008, -32009]);

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  413: "INVALID_ARGUMENT",
  415: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  508: "ABORTED",
};
