import { KEEPALIVE_HEADER } from "../../a2a/sse.ts";
import { readSse } from "../../a2a/sse-read.ts";
import type { FetchFn } from "../../fetch.ts";
import { sleep as delay } from "../sleep.ts";
import { netReason, neverConnected, probeTcp, watchSilence } from "./reach.ts";
/**
 * The outbound JSON-RPC client of `a2a`/`remote` profiles (HTTP+JSON: rest.ts): one POST per
 * call, a JSON answer or an SSE stream of answers. Every failure becomes an `UpstreamError` whose
 * text a person can act on and which never contains a credential.
 */

export interface Upstream {
  url: string;
  /** Auth, `A2A-Version`, hop count. */
  headers: Record<string, string>;
  fetch: FetchFn;
  /**
   * How long the upstream has to accept a connection (`server.connect_timeout_s`): a request
   * without an answer by then has its path checked, and fails at once if no connection opens.
   */
  connectTimeoutMs?: number | undefined;
}

/**
 * Whether an unavailable upstream got anything: "connect" (no connection was ever made: nothing
 * was delivered, safe to report at once), or "lost" (the connection broke or went silent after
 * the request may have arrived: the turn re-attaches).
 */
export type LinkFailure = "connect" | "lost";

export type UpstreamErrorKind = "unavailable" | "refused" | "rpc" | "invalid";

export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly kind: UpstreamErrorKind,
    readonly code?: number,
    readonly reason?: string,
    readonly link?: LinkFailure,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

/** Call a method and return its `result`. */
export async function rpcCall(up: Upstream, method: string, params: unknown, signal: AbortSignal) {
  const id = crypto.randomUUID();
  const res = await post(up, { jsonrpc: "2.0", id, method, params }, "application/json", signal);
  const body = await readJson(res, signal);
  return resultOf(body, id, res.status);
}

/**
 * Call a streaming method and yield each event's `result`. A server that answers with plain JSON
 * (an error before the first event, or no streaming support) yields that one result or throws.
 */
export async function* rpcStream(
  up: Upstream,
  method: string,
  params: unknown,
  signal: AbortSignal,
): AsyncGenerator<unknown> {
  const id = crypto.randomUUID();
  const res = await post(up, { jsonrpc: "2.0", id, method, params }, "text/event-stream", signal);
  const type = res.headers.get("content-type") ?? "";
  if (!type.includes("text/event-stream")) {
    yield resultOf(await readJson(res, signal), id, res.status);
    return;
  }
  for await (const data of streamEvents(res, signal, up.url)) yield resultOf(data, id, 200);
}

/** The JSON of each event of an upstream's SSE answer (both bindings). */
export async function* streamEvents(res: Response, signal: AbortSignal, url = ""): AsyncGenerator<unknown> {
  if (!res.body) throw new UpstreamError("upstream unavailable: empty event stream", "unavailable");
  // a relay upstream announces its keepalive interval: three of them without a byte is a dead path
  const keepalive = Number(res.headers.get(KEEPALIVE_HEADER));
  const silenceMs = keepalive > 0 ? keepalive * 3000 : 0;
  const body = silenceMs
    ? watchSilence(
        res.body,
        silenceMs,
        () =>
          new UpstreamError(
            `upstream unavailable: its event stream went silent for ${silenceMs / 1000} s (${safeUrl(url)})`,
            "unavailable",
            undefined,
            undefined,
            "lost",
          ),
      )
    : res.body;
  for await (const frame of sseFrames(body, signal)) {
    let data: unknown;
    try {
      // VoltAgent's A2A server starts each event's data with an RS (U+001E, as in a JSON text
      // sequence, RFC 7464): not JSON, yet nothing else is wrong with its events
      data = JSON.parse(frame.data.startsWith(RS) ? frame.data.slice(1) : frame.data);
    } catch {
      throw new UpstreamError("upstream unavailable: an event in its stream is not JSON", "invalid");
    }
    yield data;
  }
}

// internal

const RETRIES_MS = [100, 400];
const RS = "\u001e";

function post(up: Upstream, body: unknown, accept: string, signal: AbortSignal): Promise<Response> {
  const headers = { "content-type": "application/json", accept, ...up.headers };
  return deliver(up, up.url, { method: "POST", headers, body: JSON.stringify(body) }, signal);
}

/**
 * One request, retried only when the connection was refused (it never reached the server). With
 * `up.connectTimeoutMs`, an answer that is slow to start has its path checked: when no connection
 * to the upstream opens within the timeout, the request fails as "connect" (nothing delivered).
 */
export async function deliver(
  up: Upstream,
  url: string,
  request: Omit<RequestInit, "signal">,
  signal: AbortSignal,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const dark = new AbortController();
    const init: RequestInit = {
      ...request,
      signal: up.connectTimeoutMs ? AbortSignal.any([signal, dark.signal]) : signal,
    };
    try {
      const pending = up.fetch(url, init);
      return up.connectTimeoutMs ? await pathChecked(pending, url, up.connectTimeoutMs, dark) : await pending;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof UpstreamError) throw err;
      const refused = isConnectionRefused(err);
      const wait = RETRIES_MS[attempt];
      if (refused && wait !== undefined) {
        await delay(wait, signal);
        continue;
      }
      throw new UpstreamError(
        `upstream unavailable: ${netReason(err)} (${safeUrl(url)})`,
        "unavailable",
        undefined,
        undefined,
        refused || neverConnected(err) ? "connect" : "lost",
      );
    }
  }
}

/**
 * The answer, unless it is slow to start and no connection to the upstream opens within `ms`:
 * then the request is aborted and fails as "connect". A path that is up leaves the request alone.
 */
async function pathChecked(
  pending: Promise<Response>,
  url: string,
  ms: number,
  dark: AbortController,
): Promise<Response> {
  const checkAfter = Math.min(1000, ms / 2);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const path = await probeTcp(url, ms - checkAfter);
      if (path.ok) return;
      const what = path.why === "timed out" ? `no connection within ${ms / 1000} s` : path.why;
      const err = new UpstreamError(
        `upstream unavailable: ${what} (${safeUrl(url)})`,
        "unavailable",
        undefined,
        undefined,
        "connect",
      );
      dark.abort(err);
      reject(err);
    }, checkAfter);
  });
  try {
    return await Promise.race([pending, check]);
  } finally {
    clearTimeout(timer);
  }
}

async function readJson(res: Response, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new UpstreamError(
      `upstream unavailable: connection lost (${netReason(err)})`,
      "unavailable",
      undefined,
      undefined,
      "lost",
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw httpError(res.status, undefined, text);
  }
  if (res.status >= 400 && !isRpcError(body)) throw httpError(res.status, body, text);
  return body;
}

function resultOf(body: unknown, id: string, status: number): unknown {
  if (typeof body !== "object" || body === null) {
    throw new UpstreamError("upstream unavailable: the answer is not a JSON-RPC object", "invalid");
  }
  const b = body as { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: unknown };
  if (isRpcError(b)) {
    const e = b.error as { code: number; message?: unknown; data?: unknown };
    const reason = reasonOf(e.data);
    const msg = typeof e.message === "string" ? e.message.slice(0, 500) : "error";
    throw new UpstreamError(
      `upstream error ${e.code}${reason ? ` ${reason}` : ""}: ${msg}`,
      "rpc",
      e.code,
      reason,
    );
  }
  if (b.jsonrpc !== "2.0" || !("result" in b)) {
    throw new UpstreamError(
      `upstream unavailable: the answer (HTTP ${status}) is not a JSON-RPC 2.0 result`,
      "invalid",
    );
  }
  if (b.id !== id && b.id !== null && b.id !== undefined) {
    throw new UpstreamError("upstream unavailable: the answer's id does not match the request", "invalid");
  }
  return b.result;
}

function isRpcError(b: unknown): boolean {
  const e = (b as { error?: { code?: unknown } } | null)?.error;
  return typeof e === "object" && e !== null && typeof e.code === "number";
}

function reasonOf(data: unknown): string | undefined {
  const first = Array.isArray(data) ? data[0] : data;
  const r = (first as { reason?: unknown } | null)?.reason;
  return typeof r === "string" ? r : undefined;
}

function httpError(status: number, body: unknown, text: string): UpstreamError {
  const detail =
    typeof (body as { error?: unknown } | null)?.error === "string"
      ? String((body as { error: string }).error)
      : text.replace(/\s+/g, " ").trim().slice(0, 200);
  if (status === 401 || status === 403) {
    return new UpstreamError(
      `upstream refused the relay's credential (HTTP ${status}${detail ? `: ${detail}` : ""})`,
      "refused",
    );
  }
  if (status >= 400) {
    return new UpstreamError(
      `upstream unavailable: HTTP ${status}${detail ? ` (${detail})` : ""}`,
      "unavailable",
    );
  }
  return new UpstreamError("upstream unavailable: the answer is not JSON", "invalid");
}

/** Parse an SSE body into frames (comments skipped); `event: error` frames are data too. */
export async function* sseFrames(body: ReadableStream<Uint8Array>, signal: AbortSignal) {
  const broken = (err: unknown) =>
    signal.aborted
      ? signal.reason
      : err instanceof UpstreamError
        ? err
        : new UpstreamError(
            `upstream unavailable: stream broken (${netReason(err)})`,
            "unavailable",
            undefined,
            undefined,
            "lost",
          );
  for await (const e of readSse(body, broken)) yield { data: e.data };
}

export function isConnectionRefused(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown; message?: unknown }; message?: unknown };
  const code = String(e?.code ?? e?.cause?.code ?? "");
  // Deno says "fetch failed" and puts "Connection refused" in `cause`
  const text = `${String(e?.message ?? "")} ${String(e?.cause?.message ?? "")}`;
  return code === "ConnectionRefused" || code === "ECONNREFUSED" || /refused/i.test(text);
}

/** Why a request failed, in words a person reads (see reach.ts). */
export function describe(err: unknown): string {
  return netReason(err);
}

/** The URL without userinfo or query (which might carry secrets). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}
