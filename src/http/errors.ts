import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { rpcErrorResponse } from "../a2a/jsonrpc.ts";
import { restError } from "../a2a/rest-errors.ts";
import { clientClosed, internalError, RelayError } from "../errors.ts";
import type { AppEnv, Binding } from "./types.ts";

/**
 * The one place errors become HTTP responses. Front doors throw; `app.onError` hands every error
 * here, and the request's binding (set by its preamble) decides the shape: a JSON-RPC error
 * object, a google.rpc.Status (HTTP+JSON), or a line of text (`/send`). The status comes from
 * `httpStatus`, one table for every binding.
 */

/** Whatever a request threw, as a RelayError: a caller that went away is CLIENT_CLOSED. */
export function toRelayError(
  err: unknown,
  signal: AbortSignal,
  onInternal?: (err: Error) => void,
): RelayError {
  if (err instanceof RelayError) return err;
  if (signal.aborted) return clientClosed();
  const e = err instanceof Error ? err : new Error(String(err));
  onInternal?.(e);
  return internalError(e.message);
}

/**
 * The HTTP status of an error in a binding. The relay's own statuses (the contract's table: 401,
 * 403, 409, 413, 415, 429, 502, 503, 508, …) are carried by the error itself and hold in every
 * binding. Otherwise JSON-RPC answers 200 (the error is in the body), and the bindings that carry
 * the outcome in the status (HTTP+JSON, /send) use the A2A spec's mapping of the error code.
 */
export function httpStatus(err: RelayError, binding: Binding): number {
  if (err.status >= 400) return err.status;
  if (binding === "jsonrpc") return 200;
  return CODE_STATUS[err.code] ?? 400;
}

/** The JSON-RPC error body for `c`'s request (its id and dialect). */
export function rpcErrorBody(c: Context<AppEnv>, err: RelayError) {
  const dialect = c.var.dialect ?? "0.3";
  return rpcErrorResponse(c.var.rpcId ?? null, err, dialect === "hermes" ? "0.3" : dialect);
}

/**
 * Render any error of a request in its binding's shape (`app.onError`); `onFrontDoorError` is told
 * each error of a front door (JSON-RPC, HTTP+JSON, /send) as the RelayError it was rendered as.
 */
export function renderError(
  c: Context<AppEnv>,
  thrown: Error,
  onInternal: (err: Error) => void,
  onFrontDoorError?: (err: RelayError) => void,
): Response {
  if (thrown instanceof HTTPException) return thrown.getResponse();
  const binding = c.var.binding;
  if (!binding && !(thrown instanceof RelayError)) {
    onInternal(thrown);
    return c.json({ error: "internal error" }, 500);
  }
  const err = toRelayError(thrown, c.req.raw.signal, onInternal);
  if (binding) onFrontDoorError?.(err);
  const headers = err.headers;
  switch (binding) {
    case "jsonrpc":
      return c.json(rpcErrorBody(c, err), httpStatus(err, binding) as 200, headers);
    case "rest": {
      const status = httpStatus(err, binding);
      return c.body(JSON.stringify(restError(err, status)), status as 400, {
        "content-type": "application/a2a+json",
        ...headers,
      });
    }
    case "send":
      return c.text(`error: ${err.message} (${err.reason})\n`, httpStatus(err, binding) as 400, headers);
    default:
      // cards, health and admin: the relay's JSON error with its own status
      return c.json(
        {
          jsonrpc: "2.0",
          id: null,
          error: { code: err.code, message: err.message, data: { reason: err.reason } },
        },
        err.status as 401,
        headers,
      );
  }
}

// internal

/** The A2A spec's HTTP mapping of JSON-RPC and A2A error codes (HTTP+JSON binding, §5.4). */
const CODE_STATUS: Record<number, number> = {
  [-32700]: 400, // parse error
  [-32600]: 400, // invalid request
  [-32601]: 404, // method (REST: route) not found
  [-32602]: 400, // invalid params
  [-32603]: 500, // internal
  [-32001]: 404, // TaskNotFound
  [-32002]: 400, // TaskNotCancelable
  [-32003]: 400, // PushNotificationNotSupported
  [-32004]: 400, // UnsupportedOperation
  [-32005]: 415, // ContentTypeNotSupported
  [-32006]: 500, // InvalidAgentResponse
  [-32007]: 400, // ExtendedAgentCardNotConfigured
  [-32008]: 400, // ExtensionSupportRequired
  [-32009]: 400, // VersionNotSupported
  [-32040]: 404, // PROFILE_NOT_FOUND: JSON-RPC answers 200, a path naming no profile is a 404
};
