/**
 * The canonical model: A2A v1.0 JSON shapes. The engine speaks only these; v0.3 and the older
 * Hermes fleet dialect are translated at the edge (a2a/v03.ts, a2a/hermes.ts).
 */
import { z } from "zod";

export const TASK_STATES = [
  "TASK_STATE_SUBMITTED",
  "TASK_STATE_WORKING",
  "TASK_STATE_COMPLETED",
  "TASK_STATE_FAILED",
  "TASK_STATE_CANCELED",
  "TASK_STATE_INPUT_REQUIRED",
  "TASK_STATE_REJECTED",
  "TASK_STATE_AUTH_REQUIRED",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

const TERMINAL = new Set<TaskState>([
  "TASK_STATE_COMPLETED",
  "TASK_STATE_FAILED",
  "TASK_STATE_CANCELED",
  "TASK_STATE_REJECTED",
]);
const INTERRUPTED = new Set<TaskState>(["TASK_STATE_INPUT_REQUIRED", "TASK_STATE_AUTH_REQUIRED"]);

export const isTerminal = (s: TaskState): boolean => TERMINAL.has(s);
/** A state at which a blocking call returns and a stream closes. */
export const isSettled = (s: TaskState): boolean => TERMINAL.has(s) || INTERRUPTED.has(s);

const Metadata = z.record(z.string(), z.unknown());

const CONTROL = /\p{Cc}/u;

/**
 * A contextId, taskId or messageId a caller sends: 1 to 256 characters, no control characters
 * (they end up in log lines, transcript lines and response headers, where a newline breaks).
 */
export const IdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !CONTROL.test(s), { message: "must not contain control characters" });

/** Whether a caller's id has a control character (what IdSchema refuses). */
export const hasControlChars = (s: string): boolean => CONTROL.test(s);

export const PartSchema = z
  .object({
    text: z.string().optional(),
    raw: z.string().optional(),
    url: z.string().optional(),
    data: z.unknown().optional(),
    mediaType: z.string().optional(),
    filename: z.string().optional(),
    metadata: Metadata.optional(),
  })
  .refine((p) => [p.text, p.raw, p.url, p.data].filter((v) => v !== undefined).length === 1, {
    message: "a part must have exactly one of text, raw, url, data",
  });
export type Part = z.infer<typeof PartSchema>;

const RoleSchema = z.enum(["ROLE_USER", "ROLE_AGENT"]);

export const MessageSchema = z.object({
  messageId: IdSchema,
  contextId: IdSchema.optional(),
  taskId: IdSchema.optional(),
  role: RoleSchema,
  parts: z.array(PartSchema).min(1),
  metadata: Metadata.optional(),
  extensions: z.array(z.string()).optional(),
  referenceTaskIds: z.array(z.string()).optional(),
});
export type Message = z.infer<typeof MessageSchema>;

export interface TaskStatus {
  state: TaskState;
  message?: Message;
  timestamp?: string;
}

export interface Artifact {
  artifactId: string;
  name?: string;
  description?: string;
  parts: Part[];
  metadata?: Record<string, unknown>;
  extensions?: string[];
}

export interface Task {
  id: string;
  contextId: string;
  status: TaskStatus;
  artifacts?: Artifact[];
  history?: Message[];
  metadata?: Record<string, unknown>;
}

interface TaskStatusUpdateEvent {
  taskId: string;
  contextId: string;
  status: TaskStatus;
  metadata?: Record<string, unknown>;
}

interface TaskArtifactUpdateEvent {
  taskId: string;
  contextId: string;
  artifact: Artifact;
  append?: boolean;
  lastChunk?: boolean;
  metadata?: Record<string, unknown>;
}

export type StreamResponse =
  | { task: Task }
  | { message: Message }
  | { statusUpdate: TaskStatusUpdateEvent }
  | { artifactUpdate: TaskArtifactUpdateEvent };

export const SendMessageParamsSchema = z.object({
  tenant: z.string().optional(),
  message: MessageSchema,
  configuration: z
    .object({
      acceptedOutputModes: z.array(z.string()).optional(),
      taskPushNotificationConfig: z.unknown().optional(),
      historyLength: z.number().int().min(0).optional(),
      returnImmediately: z.boolean().optional(),
    })
    .optional(),
  metadata: Metadata.optional(),
});
export type SendMessageParams = z.infer<typeof SendMessageParamsSchema>;

export const GetTaskParamsSchema = z.object({
  tenant: z.string().optional(),
  id: IdSchema,
  historyLength: z.number().int().min(0).optional(),
});

export const TaskIdParamsSchema = z.object({
  tenant: z.string().optional(),
  id: IdSchema,
  metadata: Metadata.optional(),
});

export const ListTasksParamsSchema = z.object({
  tenant: z.string().optional(),
  contextId: IdSchema.optional(),
  status: z.enum(TASK_STATES).optional(),
  pageSize: z.number().int().min(1).max(100).optional(),
  pageToken: z.string().optional(),
  historyLength: z.number().int().min(0).optional(),
  statusTimestampAfter: z.string().datetime({ offset: true }).optional(),
  includeArtifacts: z.boolean().optional(),
});
export type ListTasksParams = z.infer<typeof ListTasksParamsSchema>;

export interface ListTasksResult {
  tasks: Task[];
  nextPageToken: string;
  pageSize: number;
  totalSize: number;
}

/** The first text of a message's parts, joined; what most receivers consume. */
/**
 * The caller's own message recorded on a task (a follow-up turn): it joins the history, but it is
 * no event for the caller: in a stream a Message is the agent's answer.
 */
export function isUserMessageEvent(e: StreamResponse): boolean {
  return "message" in e && e.message.role === "ROLE_USER";
}

/** Parts for a person to read: text as it is, data as compact JSON, files by name or URL. */
export function partsText(parts: readonly Part[] | undefined): string {
  return (parts ?? [])
    .map((p) => {
      if (p.text !== undefined) return p.text;
      if (p.data !== undefined) return JSON.stringify(p.data);
      return `[file ${p.filename ?? p.url ?? p.mediaType ?? "bytes"}]`;
    })
    .join("\n");
}

export function textOf(parts: readonly Part[]): string {
  return parts
    .map((p) => p.text)
    .filter((t): t is string => typeof t === "string")
    .join("\n");
}
