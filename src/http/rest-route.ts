import { type Context, Hono, type MiddlewareHandler } from "hono";
import { camelKeys } from "../a2a/field-names.ts";
import { sseHeaders, sseStream } from "../a2a/sse.ts";
import { invalidParams, methodNotFound } from "../errors.ts";
import type { PushService } from "../push/service.ts";
import type { Engine } from "../tasks/engine.ts";
import { checkDepth, parseJson } from "./json-body.ts";
import { namer, requireJson } from "./request.ts";
import { findMethod } from "./rpc-methods.ts";
import type { AppEnv } from "./types.ts";

interface RestRouteOptions {
  engine: Engine;
  keepaliveMs: number;
  onOutcome?: (method: string, outcome: string) => void;
  push?: PushService | undefined;
}

/**
 * The A2A v1.0 HTTP+JSON binding, to mount under `/a2a/{profile}`. Each route becomes the same
 * (method, params) the JSON-RPC route dispatches, so both front doors share one implementation.
 * `before` (authentication, the front door's preamble) runs first on every route; errors are
 * thrown and rendered by http/errors.ts.
 */
export function restRoutes(opts: RestRouteOptions, before: MiddlewareHandler<AppEnv>[]): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const run = call(opts);
  r.use("*", ...before);
  r.use("/tasks/*", pathSegments);
  r.post("/message:send", async (c) => run(c, "SendMessage", await body(c)));
  r.post("/message:stream", async (c) => run(c, "SendStreamingMessage", await body(c)));
  r.get("/tasks", (c) => run(c, "ListTasks", listParams(c.req.query())));
  r.get("/extendedAgentCard", (c) => run(c, "GetExtendedAgentCard", {}));
  // a task id is one path segment without a colon; `{id}:cancel` and `{id}:subscribe` are its methods
  r.get("/tasks/:id{[^/:]+}", (c) =>
    run(c, "GetTask", { id: c.req.param("id"), ...num(c.req.query(), "historyLength") }),
  );
  r.post("/tasks/:call{[^/:]+:cancel}", (c) => run(c, "CancelTask", { id: taskOf(c.req.param("call")) }));
  r.on(["GET", "POST"], "/tasks/:call{[^/:]+:subscribe}", (c) =>
    run(c, "SubscribeToTask", { id: taskOf(c.req.param("call")) }),
  );
  r.post("/tasks/:id{[^/:]+}/pushNotificationConfigs", async (c) =>
    run(c, "CreateTaskPushNotificationConfig", { taskId: c.req.param("id"), ...(await bodyObject(c)) }),
  );
  r.get("/tasks/:id{[^/:]+}/pushNotificationConfigs", (c) =>
    run(c, "ListTaskPushNotificationConfigs", { taskId: c.req.param("id") }),
  );
  r.get("/tasks/:id{[^/:]+}/pushNotificationConfigs/:config", (c) =>
    run(c, "GetTaskPushNotificationConfig", { taskId: c.req.param("id"), id: c.req.param("config") }),
  );
  r.delete("/tasks/:id{[^/:]+}/pushNotificationConfigs/:config", (c) =>
    run(c, "DeleteTaskPushNotificationConfig", { taskId: c.req.param("id"), id: c.req.param("config") }),
  );
  // anything else under the profile: the binding's own "no such method" (404)
  r.on(["GET", "POST", "DELETE"], "/*", (c) => {
    const tail = new URL(c.req.url).pathname.slice(`/a2a/${c.req.param("profile")}`.length);
    throw methodNotFound(`${c.req.method} ${tail || "/"}`);
  });
  return r;
}

// internal

const A2A_JSON = "application/a2a+json";

/** `{id}:cancel` → the task id. */
function taskOf(call: string): string {
  return call.slice(0, call.lastIndexOf(":"));
}

function call(opts: RestRouteOptions) {
  return async (c: Context<AppEnv>, method: string, params: unknown) => {
    c.set("rpcMethod", method);
    const outcome = await findMethod("1.0", method)(opts.engine, {
      peer: c.var.peer,
      profile: c.var.profile,
      scoped: true,
      dialect: "1.0",
      hops: c.var.hops,
      push: opts.push,
      params,
      signal: c.req.raw.signal,
      keepOpen: () => c.env?.keepOpen?.(),
      named: namer(c),
    });
    opts.onOutcome?.(method, "ok");
    if (outcome.kind === "result") {
      return c.body(JSON.stringify(outcome.result ?? {}), 200, { "content-type": A2A_JSON });
    }
    const stream = sseStream(
      { start: outcome.start },
      { keepaliveMs: opts.keepaliveMs, signal: c.req.raw.signal },
    );
    return new Response(stream, { status: 200, headers: sseHeaders(opts.keepaliveMs) });
  };
}

/**
 * Hono hands a path segment it cannot percent-decode through as it is: a malformed encoding
 * (`%E0%A4%A`) in the task or push config id is a 400 naming it instead.
 */
const pathSegments: MiddlewareHandler<AppEnv> = async (c, next) => {
  const segments = new URL(c.req.url).pathname.split("/");
  // ["", "a2a", profile, "tasks", id, "pushNotificationConfigs", config]
  for (const [i, what] of [
    [4, "task id"],
    [6, "push config id"],
  ] as const) {
    const raw = segments[i];
    if (raw === undefined) continue;
    try {
      decodeURIComponent(raw);
    } catch {
      throw invalidParams(
        `the ${what} in the path is not valid percent-encoded UTF-8: ${raw.slice(0, 80)}`,
        what,
      );
    }
  }
  return next();
};

async function body(c: Context<AppEnv>): Promise<unknown> {
  requireJson(c.req.header("content-type"));
  return camelKeys(checkDepth(parseJson(await c.req.text())));
}

async function bodyObject(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const b = await body(c);
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
