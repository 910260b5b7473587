import { z } from "zod";
import { IdSchema } from "../a2a/types.ts";
import { invalidParams, pushNotSupported } from "../errors.ts";
import type { Engine } from "../tasks/engine.ts";
import type { PushService } from "./service.ts";
import type { PushConfig } from "./store.ts";

/**
 * The push-config methods of both dialects, v1.0 (`CreateTaskPushNotificationConfig` …, flat
 * `TaskPushNotificationConfig`) and v0.3 (`tasks/pushNotificationConfig/*`, config nested under
 * `pushNotificationConfig`). Only the owner of a task may see or change its configs.
 */

export interface PushCall {
  peer: string;
  dialect: "1.0" | "0.3" | "hermes";
  params: unknown;
}

export type PushMethod = "create" | "get" | "list" | "delete";

export async function pushMethod(
  kind: PushMethod,
  engine: Engine,
  push: PushService | undefined,
  call: PushCall,
): Promise<unknown> {
  if (!push) throw pushNotSupported();
  // a peer that may not use push hears so first, whatever task it names (as the SDK answers)
  if (!push.enabledFor(call.peer)) throw pushNotSupported(call.peer);
  const v1 = call.dialect === "1.0";
  const p = parse(paramsOf(v1, kind), call.params) as Record<string, unknown>;
  const taskId = String(v1 ? p.taskId : kind === "create" ? p.taskId : p.id);
  engine.snapshot(taskId, call.peer); // -32001 unless this peer owns the task
  switch (kind) {
    case "create": {
      const input = v1 ? p : (p.pushNotificationConfig as Record<string, unknown>);
      const auth = input.authentication as
        | { scheme?: string; schemes?: string[]; credentials?: string }
        | undefined;
      const c = push.prepare(call.peer, taskId, {
        ...input,
        ...(auth
          ? {
              authentication: {
                scheme: auth.scheme ?? auth.schemes?.[0] ?? "Bearer",
                credentials: auth.credentials,
              },
            }
          : {}),
      });
      return show(await push.put(call.peer, c), v1);
    }
    case "get": {
      const id = String(v1 ? p.id : (p.pushNotificationConfigId ?? ""));
      const c = id ? push.get(taskId, id) : push.list(taskId)[0];
      if (!c)
        throw invalidParams(`task ${taskId} has no push notification config`, "pushNotificationConfigId");
      return show(c, v1);
    }
    case "list": {
      const configs = push.list(taskId).map((c) => show(c, v1));
      return v1 ? { configs, nextPageToken: "" } : configs;
    }
    case "delete":
      await push.delete(taskId, String(v1 ? p.id : p.pushNotificationConfigId));
      return v1 ? {} : null;
  }
}

/** The push config a SendMessage carries (v1.0 `taskPushNotificationConfig`, v0.3 `pushNotificationConfig`). */
export function pushConfigOf(params: unknown): unknown {
  const c = (params as { configuration?: Record<string, unknown> })?.configuration;
  return c?.taskPushNotificationConfig ?? c?.pushNotificationConfig;
}

// internal

/** The params of each push method in each dialect, built at the first push call (not at start). */
let schemas: Record<"v1" | "v03", Record<PushMethod, z.ZodType>> | undefined;
const paramsOf = (v1: boolean, kind: PushMethod): z.ZodType => {
  const Id = IdSchema;
  schemas ??= {
    v1: {
      create: z.object({ taskId: Id }).passthrough(),
      get: z.object({ taskId: Id, id: Id }),
      list: z.object({ taskId: Id }).passthrough(),
      delete: z.object({ taskId: Id, id: Id }),
    },
    v03: {
      create: z.object({ taskId: Id, pushNotificationConfig: z.record(z.string(), z.unknown()) }),
      get: z.object({ id: Id, pushNotificationConfigId: Id.optional() }).passthrough(),
      list: z.object({ id: Id }).passthrough(),
      delete: z.object({ id: Id, pushNotificationConfigId: Id }),
    },
  };
  return schemas[v1 ? "v1" : "v03"][kind];
};

function parse(schema: z.ZodType, value: unknown): unknown {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  const path = i.path.map(String).join(".");
  throw invalidParams(`invalid params${path ? ` at ${path}` : ""}: ${i.message}`, path || undefined);
}

/** A config as the caller's dialect shows it; credentials are never echoed back. */
function show(c: PushConfig, v1: boolean): Record<string, unknown> {
  const auth = c.authentication ? { scheme: c.authentication.scheme } : undefined;
  if (v1) return { taskId: c.taskId, id: c.id, url: c.url, ...(auth ? { authentication: auth } : {}) };
  return {
    taskId: c.taskId,
    pushNotificationConfig: {
      id: c.id,
      url: c.url,
      ...(auth ? { authentication: { schemes: [auth.scheme] } } : {}),
    },
  };
}
