import type { Context } from "hono";
import { camelKeys } from "../a2a/field-names.ts";
import { restError } from "../a2a/rest-errors.ts";
import { SSE_HEADERS, sseStream } from "../a2a/sse.ts";
import { invalidParams, methodNotFound } from "../errors.ts";
import type { PushService } from "../push/service.ts";
import { checkHops, HOPS_HEADER, readHops } from "../routing/hops.ts";
import type { Engine } from "../tasks/engine.ts";
import { checkDepth, parseJson } from "./json-body.ts";
import { asRelayError, readLimited, requireJson, resolveProfile, versionOf } from "./request.ts";
import { findMethod } from "./rpc-methods.ts";
import type { AppEnv } from "./types.ts";

export interface RestRouteOptions {
  engine: Engine;
  profiles: ReadonlySet<string>;
  maxBodyBytes: number;
  keepaliveMs: number;
  /** `server.max_hops` (see routing/hops.ts). */
  maxHops: number;
  onOutcome?: (method: string, outcome: string) => void;
  /** An unexpected error (a bug): one log line. */
  onInternal?: (err: Error) => void;
  push?: PushService | undefined;
}

const A2A_JSON = "application/a2a+json";

/**
 * The A2A v1.0 HTTP+JSON binding under `/a2a/{profile}/…`. Each REST call becomes the same
 * (method, params) the JSON-RPC route dispatches, so both front doors share one implementation.
 */
export function restHandler(opts: RestRouteOptions) {
  return async (c: Context<AppEnv>) => {
    let method = "(unrouted)";
    try {
      versionOf(c.req.header("a2a-version"));
      const hops = readHops(c.req.header(HOPS_HEADER));
      checkHops(hops, opts.maxHops);
      const profile = resolveProfile(c.req.param("profile"), c.var.peer, opts.profiles);
      const tail = c.req.path.slice(`/a2a/${c.req.param("profile")}`.length);
      const call = await route(c, tail, opts.maxBodyBytes);
      method = call.method;
      c.set("rpcMethod", method);
      const handler = findMethod("1.0", method);
      const outcome = await handler(opts.engine, {
        peer: c.var.peer,
        profile,
        scoped: true,
        dialect: "1.0",
        hops,
        push: opts.push,
        params: call.params,
        signal: c.req.raw.signal,
        keepOpen: () => c.env?.keepOpen?.(),
      });
      opts.onOutcome?.(method, "ok");
      if (outcome.kind === "result") {
        return c.body(JSON.stringify(outcome.result ?? {}), 200, { "content-type": A2A_JSON });
      }
      const stream = sseStream(
        { start: outcome.start },
        { keepaliveMs: opts.keepaliveMs, signal: c.req.raw.signal },
      );
      return new Response(stream, { status: 200, headers: SSE_HEADERS });
    } catch (err) {
      const e = asRelayError(err, c.req.raw.signal, opts.onInternal);
      opts.onOutcome?.(method, e.reason);
      const { status, body } = restError(e);
      return c.body(JSON.stringify(body), status as 400, { "content-type": A2A_JSON, ...e.headers });
    }
  };
}

// internal

async function route(
  c: Context<AppEnv>,
  tail: string,
  limit: number,
): Promise<{ method: string; params: unknown }> {
  const verb = c.req.method;
  const q = c.req.query();
  if (verb === "POST" && tail === "/message:send")
    return { method: "SendMessage", params: await body(c, limit) };
  if (verb === "POST" && tail === "/message:stream") {
    return { method: "SendStreamingMessage", params: await body(c, limit) };
  }
  if (verb === "GET" && tail === "/tasks") return { method: "ListTasks", params: listParams(q) };
  if (verb === "GET" && tail === "/extendedAgentCard") return { method: "GetExtendedAgentCard", params: {} };
  const m = /^\/tasks\/([^/:]+)(:cancel|:subscribe|\/pushNotificationConfigs(?:\/([^/]+))?)?$/.exec(tail);
  if (m) {
    const id = decodeSegment(m[1]!, "task id");
    const action = m[2];
    if (!action && verb === "GET") {
      return { method: "GetTask", params: { id, ...num(q, "historyLength") } };
    }
    if (action === ":cancel" && verb === "POST") return { method: "CancelTask", params: { id } };
    if (action === ":subscribe" && (verb === "POST" || verb === "GET"))
      return { method: "SubscribeToTask", params: { id } };
    if (action?.startsWith("/pushNotificationConfigs")) {
      const configId = m[3] ? decodeSegment(m[3], "push config id") : undefined;
      if (verb === "POST" && !configId) {
        return {
          method: "CreateTaskPushNotificationConfig",
          params: { taskId: id, ...(await bodyObject(c, limit)) },
        };
      }
      if (verb === "GET" && !configId)
        return { method: "ListTaskPushNotificationConfigs", params: { taskId: id } };
      if (verb === "GET")
        return { method: "GetTaskPushNotificationConfig", params: { taskId: id, id: configId } };
      if (verb === "DELETE")
        return { method: "DeleteTaskPushNotificationConfig", params: { taskId: id, id: configId } };
    }
  }
  throw methodNotFound(`${verb} ${tail || "/"}`);
}

/** A percent-encoded path segment; a malformed encoding (`%E0%A4%A`) is a 400 naming it. */
function decodeSegment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidParams(
      `the ${what} in the path is not valid percent-encoded UTF-8: ${raw.slice(0, 80)}`,
      what,
    );
  }
}

async function body(c: Context<AppEnv>, limit: number): Promise<unknown> {
  requireJson(c.req.header("content-type"));
  return camelKeys(checkDepth(parseJson(await readLimited(c.req.raw, limit))));
}

async function bodyObject(c: Context<AppEnv>, limit: number): Promise<Record<string, unknown>> {
  const b = await body(c, limit);
  if (typeof b !== "object" || b === null || Array.isArray(b))
    throw invalidParams("the body must be a JSON object");
  return b as Record<string, unknown>;
}

function num(q: Record<string, string>, key: string): Record<string, number> {
  if (q[key] === undefined) return {};
  const n = Number(q[key]);
  if (!Number.isInteger(n)) throw invalidParams(`${key} must be an integer`, key);
  return { [key]: n };
}

function listParams(q: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...num(q, "pageSize"), ...num(q, "historyLength") };
  for (const k of ["contextId", "status", "pageToken", "statusTimestampAfter"]) if (q[k]) out[k] = q[k];
  if (q.includeArtifacts !== undefined) {
    if (q.includeArtifacts !== "true" && q.includeArtifacts !== "false") {
      throw invalidParams("includeArtifacts must be true or false", "includeArtifacts");
    }
    out.includeArtifacts = q.includeArtifacts === "true";
  }
  return out;
}
