import { z } from "zod";
import { hermesRequest, messageFromHermesAnswer } from "../../a2a/hermes.ts";
import {
  type Message,
  MessageSchema,
  PartSchema,
  type StreamResponse,
  TASK_STATES,
  type Task,
} from "../../a2a/types.ts";
import { eventFromV03, messageToV03, taskFromV03 } from "../../a2a/v03.ts";
import type { RequestExtras } from "../types.ts";

/**
 * How an `a2a` receiver speaks to its upstream, per `protocol`: method names, headers, the shape
 * of the message it sends, and how answers become canonical v1.0 stream events. Pure.
 */

export type Protocol = "1.0" | "0.3" | "hermes-fleet";

interface OutboundMessage {
  messageId: string;
  parts: Message["parts"];
  contextId?: string | undefined;
  taskId?: string | undefined;
  /** The caller's message fields, forwarded as sent. */
  metadata?: Record<string, unknown> | undefined;
  extensions?: string[] | undefined;
  referenceTaskIds?: string[] | undefined;
  /** The caller's request `metadata` and forwardable `configuration`. */
  request?: RequestExtras | undefined;
}

export interface Dialect {
  protocol: Protocol;
  headers: Record<string, string>;
  send: string;
  /** Undefined: the dialect cannot stream (send blocks until the answer). */
  stream: string | undefined;
  get: string | undefined;
  cancel: string | undefined;
  /** Re-attach to a task's event stream (its events come as `stream` events do). */
  subscribe: string | undefined;
  sendParams(m: OutboundMessage): unknown;
  idParams(id: string): unknown;
  /** A `send` result or stream event as a v1.0 stream event; throws on anything else. */
  event(result: unknown): StreamResponse;
  /** A `get`/`cancel` result as a Task. */
  task(result: unknown): Task;
  /** Whether a raw stream event says it ends the turn (v0.3 `final`); undefined: it does not say. */
  final?(result: unknown): boolean | undefined;
}

export function dialectOf(protocol: Protocol, newId: () => string = () => crypto.randomUUID()): Dialect {
  if (protocol === "1.0") return V1;
  if (protocol === "0.3") return V03;
  return hermes(newId);
}

// internal

const Meta = z.record(z.string(), z.unknown());
const Status = z.object({
  state: z.enum(TASK_STATES),
  message: MessageSchema.optional(),
  timestamp: z.string().optional(),
});
const ArtifactSchema = z
  .object({
    artifactId: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    parts: z.array(PartSchema),
    metadata: Meta.optional(),
  })
  .passthrough();
const TaskSchema = z.object({
  id: z.string().min(1),
  contextId: z.string(),
  status: Status,
  artifacts: z.array(ArtifactSchema).optional(),
  history: z.array(MessageSchema).optional(),
  metadata: Meta.optional(),
});
const V1Event = z.union([
  z.object({ task: TaskSchema }),
  z.object({ message: MessageSchema }),
  z.object({
    statusUpdate: z.object({
      taskId: z.string(),
      contextId: z.string(),
      status: Status,
      metadata: Meta.optional(),
    }),
  }),
  z.object({
    artifactUpdate: z.object({
      taskId: z.string(),
      contextId: z.string(),
      artifact: ArtifactSchema,
      append: z.boolean().optional(),
      lastChunk: z.boolean().optional(),
      metadata: Meta.optional(),
    }),
  }),
]);

const V1: Dialect = {
  protocol: "1.0",
  headers: { "A2A-Version": "1.0" },
  send: "SendMessage",
  stream: "SendStreamingMessage",
  get: "GetTask",
  cancel: "CancelTask",
  subscribe: "SubscribeToTask",
  sendParams: (m) => ({ message: outbound(m), ...extras(m.request) }),
  idParams: (id) => ({ id }),
  event: (r) => V1Event.parse(r) as StreamResponse,
  task: (r) => TaskSchema.parse(r) as Task,
};

const V03: Dialect = {
  protocol: "0.3",
  headers: {},
  send: "message/send",
  stream: "message/stream",
  get: "tasks/get",
  cancel: "tasks/cancel",
  subscribe: "tasks/resubscribe",
  sendParams: (m) => {
    const e = extras(m.request);
    // v0.3 servers read a configuration without `blocking` as non-blocking
    if (e.configuration) e.configuration = { ...e.configuration, blocking: true };
    return { message: messageToV03(outbound(m)), ...e };
  },
  idParams: (id) => ({ id }),
  event: (r) => eventFromV03(asObject(r)),
  task: (r) => taskFromV03(asObject(r)),
  final: (r) => {
    const e = r as { kind?: unknown; final?: unknown };
    return e?.kind === "status-update" && typeof e.final === "boolean" ? e.final : undefined;
  },
};

function hermes(newId: () => string): Dialect {
  return {
    protocol: "hermes-fleet",
    headers: {},
    send: "SendMessage",
    stream: undefined,
    get: undefined,
    cancel: undefined,
    subscribe: undefined,
    sendParams: (m) =>
      hermesRequest(
        m.parts
          .map((p) => p.text)
          .filter((t): t is string => typeof t === "string")
          .join("\n"),
        m.contextId,
      ),
    idParams: (id) => ({ id }),
    event: (r) => ({ message: messageFromHermesAnswer(r, newId) }),
    task: () => {
      throw new Error("the hermes-fleet dialect has no tasks");
    },
  };
}

/** The caller's message as the upstream gets it: the relay's ids, the caller's fields. */
function outbound(m: OutboundMessage): Message {
  return {
    messageId: m.messageId,
    role: "ROLE_USER",
    parts: m.parts,
    ...(m.contextId ? { contextId: m.contextId } : {}),
    ...(m.taskId ? { taskId: m.taskId } : {}),
    ...(m.metadata ? { metadata: m.metadata } : {}),
    ...(m.extensions?.length ? { extensions: m.extensions } : {}),
    ...(m.referenceTaskIds?.length ? { referenceTaskIds: m.referenceTaskIds } : {}),
  };
}

/**
 * Request-level fields (same names in v1.0 and v0.3). The relay keeps its own record of the
 * conversation, so it asks for no history back (`historyLength: 0`): the upstream's answer then
 * never carries the request's text again.
 */
function extras(r: RequestExtras | undefined): {
  metadata?: unknown;
  configuration: Record<string, unknown>;
} {
  return {
    ...(r?.metadata ? { metadata: r.metadata } : {}),
    configuration: { ...r?.configuration, historyLength: 0 },
  };
}

function asObject(r: unknown): Record<string, unknown> {
  if (typeof r !== "object" || r === null || Array.isArray(r)) throw new Error("not an object");
  return r as Record<string, unknown>;
}
