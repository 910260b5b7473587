/**
 * One error taxonomy for the whole relay. Every error a caller can see is a RelayError with a
 * JSON-RPC code, a stable reason string, an HTTP status and a CLI exit code. Errors become
 * responses only in http/errors.ts and exit codes only in main.ts.
 */

export type ErrorData = Record<string, string | number | boolean | string[] | undefined>;

export class RelayError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: number;
  readonly exitCode: number;
  readonly data: ErrorData | undefined;
  /** "a2a-protocol.org" for spec errors, "a2a-relay" for ours. */
  readonly domain: string;
  readonly headers: Record<string, string>;

  constructor(opts: {
    code: number;
    reason: string;
    message: string;
    status?: number;
    exitCode?: number;
    data?: ErrorData;
    domain?: string;
    headers?: Record<string, string>;
  }) {
    super(opts.message);
    this.name = "RelayError";
    this.code = opts.code;
    this.reason = opts.reason;
    this.status = opts.status ?? 200;
    this.exitCode = opts.exitCode ?? 1;
    this.data = opts.data;
    this.domain = opts.domain ?? "a2a-relay";
    this.headers = opts.headers ?? {};
  }
}

const SPEC = "a2a-protocol.org";

// JSON-RPC 2.0 standard errors
export const parseError = (message = "request body is not valid JSON") =>
  new RelayError({ code: -32700, reason: "PARSE_ERROR", message, domain: SPEC, exitCode: 2 });
export const invalidRequest = (message: string) =>
  new RelayError({ code: -32600, reason: "INVALID_REQUEST", message, domain: SPEC, exitCode: 2 });
export const methodNotFound = (method: string) =>
  new RelayError({
    code: -32601,
    reason: "METHOD_NOT_FOUND",
    message: `method not found: ${method}`,
    domain: SPEC,
    exitCode: 2,
    data: { method },
  });
export const invalidParams = (message: string, path?: string) =>
  new RelayError({
    code: -32602,
    reason: "INVALID_PARAMS",
    message,
    domain: SPEC,
    exitCode: 2,
    data: path === undefined ? undefined : { path },
  });
export const internalError = (message = "internal error") =>
  new RelayError({ code: -32603, reason: "INTERNAL", message, domain: SPEC });
/** Free disk below `store.min_free_mb`, or the database cannot be written: nothing new starts. */
export const storageUnavailable = (why: string) =>
  new RelayError({
    code: -32047,
    reason: "STORAGE_UNAVAILABLE",
    message: `storage unavailable: ${why}; new tasks are refused until it recovers`,
    status: 503,
    headers: { "Retry-After": "5" },
  });
/**
 * The fleet's shared budget store (Postgres) cannot be reached and `[budgets] on_store_down` is
 * "refuse": a budgeted peer's new dispatch is refused (unbudgeted peers are never affected).
 * `store` is the URL without credentials.
 */
export const budgetStoreUnavailable = (store: string, why: string) =>
  new RelayError({
    code: -32048,
    reason: "BUDGET_STORE_UNAVAILABLE",
    message: `the shared budget store ${store} is unavailable (${why}); budgeted dispatches are refused until it returns`,
    status: 503,
    headers: { "Retry-After": "5" },
    data: { store },
  });
/** The caller went away before its answer was ready (nobody reads this; it names the outcome). */
export const clientClosed = () =>
  new RelayError({
    code: -32603,
    reason: "CLIENT_CLOSED",
    message: "the client closed the request",
    status: 499,
  });

// A2A errors (-32001..-32009 keep their spec meaning)
export const taskNotFound = (id: string) =>
  new RelayError({
    code: -32001,
    reason: "TASK_NOT_FOUND",
    message: `task not found: ${id}`,
    domain: SPEC,
    data: { taskId: id },
  });
export const taskNotCancelable = (id: string, state: string) =>
  new RelayError({
    code: -32002,
    reason: "TASK_NOT_CANCELABLE",
    message: `task ${id} is ${state} and can no longer be canceled`,
    domain: SPEC,
    data: { taskId: id, state },
  });
export const pushNotSupported = (peer?: string) =>
  new RelayError({
    code: -32003,
    reason: "PUSH_NOTIFICATION_NOT_SUPPORTED",
    message:
      peer === undefined
        ? "push notifications are not supported by this relay"
        : `push notifications are not enabled for peer "${peer}" (set push_hosts in [peers.${peer}])`,
    domain: SPEC,
  });
export const unsupportedOperation = (message: string) =>
  new RelayError({ code: -32004, reason: "UNSUPPORTED_OPERATION", message, domain: SPEC });
export const contentTypeNotSupported = (type: string) =>
  new RelayError({
    code: -32005,
    reason: "CONTENT_TYPE_NOT_SUPPORTED",
    message: `content type not supported: ${type || "(none)"}; send application/json`,
    domain: SPEC,
    status: 415,
    exitCode: 2,
  });
/** A compressed request body (`Content-Encoding`): the relay reads bodies as sent, never inflated. */
export const contentEncodingNotSupported = (encoding: string) =>
  new RelayError({
    code: -32005,
    reason: "CONTENT_TYPE_NOT_SUPPORTED",
    message: `content encoding not supported: ${encoding}; send the body without Content-Encoding`,
    domain: SPEC,
    status: 415,
    exitCode: 2,
  });
export const invalidAgentResponse = (message: string) =>
  new RelayError({ code: -32006, reason: "INVALID_AGENT_RESPONSE", message, domain: SPEC, exitCode: 6 });
export const extendedCardNotConfigured = () =>
  new RelayError({
    code: -32007,
    reason: "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
    message: "this relay has no extended agent card",
    domain: SPEC,
  });
export const versionNotSupported = (version: string) =>
  new RelayError({
    code: -32009,
    reason: "VERSION_NOT_SUPPORTED",
    message: `A2A-Version ${version} is not supported; use 1.0 or 0.3`,
    domain: SPEC,
    exitCode: 2,
  });

// Relay errors (-32040..-32059), names from the contract
export const unauthenticated = (message = "missing or invalid credential") =>
  new RelayError({
    code: -32050,
    reason: "UNAUTHENTICATED",
    message,
    status: 401,
    exitCode: 3,
    headers: { "WWW-Authenticate": 'Bearer realm="a2a-relay"' },
  });
export const profileNotFound = (profile: string, allowed: string[]) =>
  new RelayError({
    code: -32040,
    reason: "PROFILE_NOT_FOUND",
    message: `unknown profile "${profile}"; this peer may use: ${allowed.join(", ") || "(none)"}`,
    data: { profile, profiles: allowed },
    exitCode: 2,
  });
export const profileForbidden = (profile: string, peer: string) =>
  new RelayError({
    code: -32041,
    reason: "PROFILE_FORBIDDEN",
    message: `peer "${peer}" may not use profile "${profile}"`,
    status: 403,
    exitCode: 3,
    data: { profile, peer },
  });
export const contextBusy = (contextId: string, queued: number) =>
  new RelayError({
    code: -32043,
    reason: "CONTEXT_BUSY",
    message: `a turn is running on context ${contextId} and ${queued} more are queued; retry later`,
    status: 409,
    data: { contextId, queued },
  });
export const hopLimit = (hops: number, max: number) =>
  new RelayError({
    code: -32044,
    reason: "HOP_LIMIT",
    message: `this dispatch has already been forwarded ${hops} times (max_hops ${max}); refusing to forward it again (a relay loop?)`,
    status: 508,
    data: { hops, max },
  });
export const budgetExceeded = (b: {
  peer: string;
  limit: string;
  used: number;
  max: number;
  resetAt?: string | undefined;
  retryAfterS?: number | undefined;
  /** The task the refusal ended (a turn refused when it was about to start). */
  taskId?: string | undefined;
}) =>
  new RelayError({
    code: -32042,
    reason: "BUDGET_EXCEEDED",
    message: `budget exceeded for peer "${b.peer}": ${b.limit} ${b.used} of ${b.max}${
      b.resetAt
        ? `; resets at ${b.resetAt}`
        : b.retryAfterS !== undefined
          ? `; retry after ${Math.max(1, Math.ceil(b.retryAfterS))} s`
          : "; does not reset by itself (a2a-relay budget reset PEER)"
    }`,
    status: 429,
    exitCode: 4,
    data: { peer: b.peer, limit: b.limit, used: b.used, max: b.max, resetAt: b.resetAt, taskId: b.taskId },
    headers:
      b.retryAfterS === undefined ? {} : { "Retry-After": String(Math.max(1, Math.ceil(b.retryAfterS))) },
  });
export const upstreamUnavailable = (message: string) =>
  new RelayError({ code: -32045, reason: "UPSTREAM_UNAVAILABLE", message, status: 502, exitCode: 6 });
export const bodyTooLarge = (limit: number) =>
  new RelayError({
    code: -32600,
    reason: "BODY_TOO_LARGE",
    message: `request body is larger than max_body_bytes (${limit})`,
    status: 413,
    exitCode: 2,
    data: { limit },
  });
/** A JSON body nested deeper than the limit (http/json-body.ts); checked right after JSON.parse. */
export const bodyTooDeep = (limit: number) =>
  new RelayError({
    code: -32600,
    reason: "BODY_TOO_DEEP",
    message: `request body nests arrays/objects deeper than ${limit} levels (the limit)`,
    exitCode: 2,
    domain: SPEC,
    data: { limit },
  });
export const forbidden = (message: string) =>
  new RelayError({ code: -32041, reason: "FORBIDDEN", message, status: 403, exitCode: 3 });

/** Discovery: no live relay holds the lease a profile names (-32045). */
export const leaseUnavailable = (name: string, why = "") =>
  new RelayError({
    code: -32045,
    reason: "UPSTREAM_UNAVAILABLE",
    message: `no live relay holds lease "${name}"${why ? ` (${why})` : ""}`,
    status: 502,
    exitCode: 6,
    data: { lease: name },
  });
/**
 * Too many failed authentications (same code family as 401): of this credential from this
 * address, or of distinct credentials from this address. 429 for a while.
 */
export const tooManyAuthFailures = (retryAfterS: number, scope: "credential" | "address" = "address") =>
  new RelayError({
    code: -32051,
    reason: "TOO_MANY_AUTH_FAILURES",
    message: `too many failed authentications ${scope === "credential" ? "with this credential from this address" : "with different credentials from this address"}; retry in ${retryAfterS} s`,
    status: 429,
    exitCode: 3,
    headers: { "Retry-After": String(retryAfterS) },
  });
/** This relay cannot build the credential a route to another relay needs (no key, no token). */
export const outboundCredentialMissing = (message: string) =>
  new RelayError({
    code: -32045,
    reason: "OUTBOUND_CREDENTIAL_MISSING",
    message,
    status: 502,
    exitCode: 3,
  });

/** Client side (CLI): a wait bounded by `--timeout` ran out. Never sent on the wire. */
export const timedOut = (message: string, taskId?: string) =>
  new RelayError({
    code: -32000,
    reason: "TIMED_OUT",
    message,
    status: 504,
    exitCode: 5,
    data: taskId ? { taskId } : undefined,
  });
/** Client side (CLI): Ctrl-C or SIGTERM while waiting; exit 130 like any interrupted command. */
export const interrupted = (signal: string, taskId?: string) =>
  new RelayError({
    code: -32000,
    reason: "INTERRUPTED",
    message: `interrupted by ${signal}${taskId ? `; task ${taskId} keeps running: a2a-relay tasks get ${taskId}` : ""}`,
    status: 499,
    exitCode: 130,
    data: taskId ? { taskId } : undefined,
  });
/** Client side (CLI): an agent card that fails validation; `problems` names each bad field. */
export const invalidAgentCard = (url: string, problems: string[]) =>
  new RelayError({
    code: -32006,
    reason: "INVALID_AGENT_CARD",
    message: `invalid agent card at ${url}: ${problems.join("; ")}`,
    domain: SPEC,
    exitCode: 1,
    data: { url, problems },
  });

/** Configuration and usage errors; main turns them into exit code 2. */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The relay stopped while a blocking caller that cannot follow a task (the fleet dialect) waited:
 * the turn goes on in the next process, where the task has its answer.
 */
export const relayStopped = (taskId: string) =>
  new RelayError({
    code: -32049,
    reason: "RELAY_STOPPED",
    message: `the relay stopped before task ${taskId} ended; the turn goes on when it starts again: a2a-relay tasks get ${taskId}`,
    // 200 as every fleet answer: the plugin's client shows a JSON-RPC error whole, other statuses cut
    data: { taskId },
  });

/** A turn that ended FAILED/REJECTED/CANCELED, for dialects that can only answer with a message. */
export const taskFailed = (taskId: string, state: string, text: string) =>
  new RelayError({
    code: -32046,
    reason: "TASK_FAILED",
    message: `task ${taskId} ended ${state}: ${text}`,
    data: { taskId, state },
  });
