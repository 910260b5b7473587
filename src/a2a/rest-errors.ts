import type { RelayError } from "../errors.ts";
import { errorInfo } from "./jsonrpc.ts";

/**
 * A RelayError in the HTTP+JSON binding's shape (google.rpc.Status JSON, spec v1.0.1 §11.6), for
 * the HTTP status it is sent with (http/errors.ts decides it).
 */
export function restError(err: RelayError, status: number): Record<string, unknown> {
  return {
    error: {
      code: status,
      status: PRECONDITION.has(err.code) ? "FAILED_PRECONDITION" : (STATUS_NAMES[status] ?? "UNKNOWN"),
      message: err.message,
      details: [errorInfo(err)],
    },
  };
}

// internal

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
