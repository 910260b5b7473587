import { deliver, describe, streamEvents, type Upstream, UpstreamError } from "./http.ts";

/**
 * The outbound HTTP+JSON (REST) client of `a2a`/`remote` profiles, A2A v1.0 only: `up.url` is the
 * interface's base URL (`…/message:send`, `…/tasks/{id}` hang off it). Answers are bare v1.0
 * objects; errors are `{"error":{code, status, message, details}}` and become the same
 * `UpstreamError`s as over JSON-RPC (the code comes from the ErrorInfo `reason`).
 */

/** One REST call; resolves to the parsed JSON answer. */
export async function restCall(
  up: Upstream,
  verb: "GET" | "POST",
  path: string,
  body: unknown,
  signal: AbortSignal,
): Promise<unknown> {
  const res = await open(up, verb, path, body, "application/a2a+json, application/json", signal);
  return answer(res, await readText(res, signal));
}

/** A streaming call (`message:stream`, `tasks/{id}:subscribe`): yields each bare StreamResponse. */
export async function* restStream(
  up: Upstream,
  path: string,
  body: unknown,
  signal: AbortSignal,
): AsyncGenerator<unknown> {
  const res = await open(up, "POST", path, body, "text/event-stream", signal);
  if (!(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    yield answer(res, await readText(res, signal));
    return;
  }
  for await (const data of streamEvents(res, signal, up.url)) {
    const err = a2aError(data, 200);
    if (err) throw err;
    yield data;
  }
}

/** The path of a task operation: `/tasks/{id}` + `:cancel` / `:subscribe`. */
export function taskPath(id: string, action = ""): string {
  return `/tasks/${encodeURIComponent(id)}${action}`;
}

// internal

function open(
  up: Upstream,
  verb: "GET" | "POST",
  path: string,
  body: unknown,
  accept: string,
  signal: AbortSignal,
): Promise<Response> {
  const url = `${up.url.replace(/\/+$/, "")}${path}`;
  const headers: Record<string, string> = { accept, ...up.headers };
  if (verb === "POST") headers["content-type"] = "application/a2a+json";
  return deliver(
    up,
    url,
    { method: verb, headers, ...(verb === "POST" ? { body: JSON.stringify(body ?? {}) } : {}) },
    signal,
  );
}

async function readText(res: Response, signal: AbortSignal): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new UpstreamError(
      `upstream unavailable: connection lost (${describe(err)})`,
      "unavailable",
      undefined,
      undefined,
      "lost",
    );
  }
}

function answer(res: Response, text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.status === 401 || res.status === 403) {
    const msg = messageOf(body) ?? text.replace(/\s+/g, " ").trim().slice(0, 200);
    throw new UpstreamError(
      `upstream refused the relay's credential (HTTP ${res.status}${msg ? `: ${msg}` : ""})`,
      "refused",
    );
  }
  const err = a2aError(body, res.status);
  if (err) throw err;
  if (res.status >= 400) {
    const detail = text.replace(/\s+/g, " ").trim().slice(0, 200);
    throw new UpstreamError(
      `upstream unavailable: HTTP ${res.status}${detail ? ` (${detail})` : ""}`,
      "unavailable",
    );
  }
  if (typeof body !== "object" || body === null) {
    throw new UpstreamError(`upstream unavailable: the answer (HTTP ${res.status}) is not JSON`, "invalid");
  }
  return body;
}

/** `{"error":{code, status, message, details:[{reason}]}}` as an UpstreamError, else undefined. */
function a2aError(body: unknown, status: number): UpstreamError | undefined {
  const e = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (typeof e !== "object" || e === null || Array.isArray(e)) return undefined;
  if (typeof e.message !== "string" && typeof e.status !== "string") return undefined;
  const details = Array.isArray(e.details) ? (e.details as Array<Record<string, unknown>>) : [];
  const info = details.find((d) => typeof d?.reason === "string");
  const reason = typeof info?.reason === "string" ? info.reason : undefined;
  const code = (reason ? REASON_CODES[reason] : undefined) ?? -32603;
  const msg = (messageOf(body) ?? "error").slice(0, 500);
  const label = reason ?? (typeof e.status === "string" ? e.status : `HTTP ${status}`);
  return new UpstreamError(`upstream error ${code} ${label}: ${msg}`, "rpc", code, reason);
}

function messageOf(body: unknown): string | undefined {
  const m = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof m === "string" ? m : undefined;
}

/** ErrorInfo reasons (spec v1.0 and this relay's own) → their JSON-RPC codes. */
const REASON_CODES: Record<string, number> = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  TASK_NOT_FOUND: -32001,
  TASK_NOT_CANCELABLE: -32002,
  PUSH_NOTIFICATION_NOT_SUPPORTED: -32003,
  UNSUPPORTED_OPERATION: -32004,
  CONTENT_TYPE_NOT_SUPPORTED: -32005,
  INVALID_AGENT_RESPONSE: -32006,
  EXTENDED_AGENT_CARD_NOT_CONFIGURED: -32007,
  EXTENSION_SUPPORT_REQUIRED: -32008,
  VERSION_NOT_SUPPORTED: -32009,
  PROFILE_NOT_FOUND: -32040,
  PROFILE_FORBIDDEN: -32041,
  FORBIDDEN: -32041,
  BUDGET_EXCEEDED: -32042,
  CONTEXT_BUSY: -32043,
  HOP_LIMIT: -32044,
  UPSTREAM_UNAVAILABLE: -32045,
  OUTBOUND_CREDENTIAL_MISSING: -32045,
  TASK_FAILED: -32046,
  UNAUTHENTICATED: -32050,
};
