import { z } from "zod";
import type {
  Artifact,
  Message,
  Part,
  SendMessageParams,
  StreamResponse,
  Task,
  TaskState,
  TaskStatus,
} from "./types.ts";
import { IdSchema, isSettled } from "./types.ts";

/**
 * A2A v0.3 at the edge: `kind`-tagged objects, kebab-case states, `blocking` instead of
 * `returnImmediately`, `final` on the last status update. Pure functions, both directions.
 */

const STATE_TO_V03: Record<TaskState, string> = {
  TASK_STATE_SUBMITTED: "submitted",
  TASK_STATE_WORKING: "working",
  TASK_STATE_COMPLETED: "completed",
  TASK_STATE_FAILED: "failed",
  TASK_STATE_CANCELED: "canceled",
  TASK_STATE_INPUT_REQUIRED: "input-required",
  TASK_STATE_REJECTED: "rejected",
  TASK_STATE_AUTH_REQUIRED: "auth-required",
};
const STATE_FROM_V03 = Object.fromEntries(Object.entries(STATE_TO_V03).map(([k, v]) => [v, k])) as Record<
  string,
  TaskState
>;

export const stateToV03 = (s: TaskState): string => STATE_TO_V03[s];
export const stateFromV03 = (s: string): TaskState | undefined => STATE_FROM_V03[s];

const Meta = z.record(z.string(), z.unknown());
const FileV03 = z.object({
  bytes: z.string().optional(),
  uri: z.string().optional(),
  mimeType: z.string().optional(),
  name: z.string().optional(),
});
const PartV03 = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("text"), text: z.string(), metadata: Meta.optional() }),
  z.object({ kind: z.literal("file"), file: FileV03, metadata: Meta.optional() }),
  z.object({ kind: z.literal("data"), data: z.unknown(), metadata: Meta.optional() }),
]);
export const MessageV03 = z.object({
  kind: z.literal("message").optional(),
  messageId: IdSchema,
  role: z.enum(["user", "agent"]),
  parts: z.array(PartV03).min(1),
  contextId: IdSchema.optional(),
  taskId: IdSchema.optional(),
  metadata: Meta.optional(),
  extensions: z.array(z.string()).optional(),
  referenceTaskIds: z.array(z.string()).optional(),
});
export const SendParamsV03 = z.object({
  message: MessageV03,
  configuration: z
    .object({
      blocking: z.boolean().optional(),
      historyLength: z.number().int().min(0).optional(),
      acceptedOutputModes: z.array(z.string()).optional(),
      pushNotificationConfig: z.unknown().optional(),
    })
    .optional(),
  metadata: Meta.optional(),
});

function partFromV03(p: z.infer<typeof PartV03>): Part {
  const meta = p.metadata ? { metadata: p.metadata } : {};
  if (p.kind === "text") return { text: p.text, ...meta };
  if (p.kind === "data") return { data: p.data, mediaType: "application/json", ...meta };
  const f = p.file;
  const base = {
    ...(f.mimeType ? { mediaType: f.mimeType } : {}),
    ...(f.name ? { filename: f.name } : {}),
    ...meta,
  };
  return f.bytes !== undefined ? { raw: f.bytes, ...base } : { url: f.uri ?? "", ...base };
}

function partToV03(p: Part): Record<string, unknown> {
  const meta = p.metadata ? { metadata: p.metadata } : {};
  if (p.text !== undefined) return { kind: "text", text: p.text, ...meta };
  if (p.data !== undefined) return { kind: "data", data: p.data, ...meta };
  const file: Record<string, unknown> = {};
  if (p.raw !== undefined) file.bytes = p.raw;
  if (p.url !== undefined) file.uri = p.url;
  if (p.mediaType) file.mimeType = p.mediaType;
  if (p.filename) file.name = p.filename;
  return { kind: "file", file, ...meta };
}

export function messageFromV03(m: z.infer<typeof MessageV03>): Message {
  return {
    messageId: m.messageId,
    role: m.role === "user" ? "ROLE_USER" : "ROLE_AGENT",
    parts: m.parts.map(partFromV03),
    ...sameNamedFields(m, true),
  };
}

export function sendParamsFromV03(p: z.infer<typeof SendParamsV03>): SendMessageParams {
  const c = p.configuration;
  return {
    message: messageFromV03(p.message),
    configuration: {
      returnImmediately: c?.blocking === false,
      ...(c?.historyLength !== undefined ? { historyLength: c.historyLength } : {}),
      ...(c?.acceptedOutputModes ? { acceptedOutputModes: c.acceptedOutputModes } : {}),
    },
    ...(p.metadata ? { metadata: p.metadata } : {}),
  };
}

export function messageToV03(m: Message): Record<string, unknown> {
  return {
    kind: "message",
    messageId: m.messageId,
    role: m.role === "ROLE_USER" ? "user" : "agent",
    parts: m.parts.map(partToV03),
    ...sameNamedFields(m, false),
  };
}

/**
 * The message fields v0.3 and v1.0 name alike, where present; `keepEmpty`: an empty
 * `extensions` or `referenceTaskIds` list is kept (read from v0.3), else left out (written to it).
 */
function sameNamedFields(
  m: Pick<Message, "contextId" | "taskId" | "metadata" | "extensions" | "referenceTaskIds">,
  keepEmpty: boolean,
): Pick<Message, "contextId" | "taskId" | "metadata" | "extensions" | "referenceTaskIds"> {
  const has = (l: string[] | undefined): l is string[] => l !== undefined && (keepEmpty || l.length > 0);
  return {
    ...(m.contextId ? { contextId: m.contextId } : {}),
    ...(m.taskId ? { taskId: m.taskId } : {}),
    ...(m.metadata ? { metadata: m.metadata } : {}),
    ...(has(m.extensions) ? { extensions: m.extensions } : {}),
    ...(has(m.referenceTaskIds) ? { referenceTaskIds: m.referenceTaskIds } : {}),
  };
}

function statusToV03(s: TaskStatus): Record<string, unknown> {
  return {
    state: stateToV03(s.state),
    ...(s.message ? { message: messageToV03(s.message) } : {}),
    ...(s.timestamp ? { timestamp: s.timestamp } : {}),
  };
}

function artifactToV03(a: Artifact): Record<string, unknown> {
  return { ...a, parts: a.parts.map(partToV03) };
}

export function taskToV03(t: Task): Record<string, unknown> {
  return {
    kind: "task",
    id: t.id,
    contextId: t.contextId,
    status: statusToV03(t.status),
    ...(t.artifacts?.length ? { artifacts: t.artifacts.map(artifactToV03) } : {}),
    history: (t.history ?? []).map(messageToV03),
    ...(t.metadata ? { metadata: t.metadata } : {}),
  };
}

/** A stream event in v0.3 shape; the status update that settles the task carries `final: true`. */
export function eventToV03(e: StreamResponse): Record<string, unknown> {
  if ("task" in e) return taskToV03(e.task);
  if ("message" in e) return messageToV03(e.message);
  if ("statusUpdate" in e) {
    const u = e.statusUpdate;
    return {
      kind: "status-update",
      taskId: u.taskId,
      contextId: u.contextId,
      status: statusToV03(u.status),
      final: isSettled(u.status.state),
      ...(u.metadata ? { metadata: u.metadata } : {}),
    };
  }
  const u = e.artifactUpdate;
  return {
    kind: "artifact-update",
    taskId: u.taskId,
    contextId: u.contextId,
    artifact: artifactToV03(u.artifact),
    ...(u.append !== undefined ? { append: u.append } : {}),
    ...(u.lastChunk !== undefined ? { lastChunk: u.lastChunk } : {}),
    ...(u.metadata ? { metadata: u.metadata } : {}),
  };
}

// ---- reading v0.3 objects from upstream agents (routing) ----

export function taskFromV03(t: Record<string, unknown>): Task {
  const status = (t.status ?? {}) as Record<string, unknown>;
  const msg = status.message as z.infer<typeof MessageV03> | undefined;
  return {
    id: String(t.id),
    contextId: String(t.contextId),
    status: {
      state: stateFromV03(String(status.state)) ?? "TASK_STATE_WORKING",
      ...(msg ? { message: messageFromV03(MessageV03.parse(msg)) } : {}),
      ...(status.timestamp ? { timestamp: String(status.timestamp) } : {}),
    },
    artifacts: ((t.artifacts ?? []) as Array<Record<string, unknown>>).map((a) => ({
      ...(a as object),
      artifactId: String(a.artifactId),
      parts: z.array(PartV03).parse(a.parts).map(partFromV03),
    })),
    history: ((t.history ?? []) as unknown[]).map((m) => messageFromV03(MessageV03.parse(m))),
    ...(t.metadata ? { metadata: t.metadata as Record<string, unknown> } : {}),
  };
}

/**
 * A v0.3 stream event or `message/send` result (kind-tagged) as a v1.0 stream event. A result
 * with no `kind` that has a task's `id`, `contextId` and `status` is a task: VoltAgent's A2A
 * server sends its tasks (every event of its streams) without the tag.
 */
export function eventFromV03(e: Record<string, unknown>): StreamResponse {
  const untaggedTask = e.kind === undefined && "id" in e && "contextId" in e && "status" in e;
  switch (untaggedTask ? "task" : e.kind) {
    case "task":
      return { task: taskFromV03(e) };
    case "message":
      return { message: messageFromV03(MessageV03.parse(e)) };
    case "status-update": {
      const t = taskFromV03({ id: e.taskId, contextId: e.contextId, status: e.status });
      return {
        statusUpdate: {
          taskId: t.id,
          contextId: t.contextId,
          status: t.status,
          ...(e.metadata ? { metadata: e.metadata as Record<string, unknown> } : {}),
        },
      };
    }
    case "artifact-update": {
      const a = (e.artifact ?? {}) as Record<string, unknown>;
      return {
        artifactUpdate: {
          taskId: String(e.taskId),
          contextId: String(e.contextId),
          artifact: {
            ...(a as object),
            artifactId: String(a.artifactId),
            parts: z.array(PartV03).parse(a.parts).map(partFromV03),
          },
          ...(typeof e.append === "boolean" ? { append: e.append } : {}),
          ...(typeof e.lastChunk === "boolean" ? { lastChunk: e.lastChunk } : {}),
        },
      };
    }
    default:
      throw new Error(`unknown v0.3 event kind ${JSON.stringify(e.kind)}`);
  }
}
