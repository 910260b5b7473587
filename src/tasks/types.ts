import type { Message, StreamResponse, Task, TaskState } from "../a2a/types.ts";
import type { Timers } from "../clock.ts";
import type { Receiver, RequestExtras, TaskReference, Usage } from "../receivers/types.ts";
import type { StorageHealth } from "../store/health.ts";
import type { Writer } from "../store/writer.ts";
import type { Admission, AdmissionTicket } from "./admission.ts";
import type { TaskBus } from "./bus.ts";
import type { ContextQueues } from "./context-queue.ts";
import type { TaskRepo } from "./repo.ts";

export interface ProfileTarget {
  name: string;
  receiver: Receiver;
  timeoutMs: number;
}

interface EngineHooks {
  turnStarted?(profile: string): void;
  /** `queueMs`: from the turn's admission to its start (absent for a turn resumed after a restart). */
  turnFinished?(profile: string, state: TaskState, ms: number, queueMs?: number): void;
  /** A turn's input (dir "in", when it starts) and its final reply (dir "out"): transcripts. */
  turnMessage?(m: TurnMessage): void;
}

export interface TurnMessage {
  peer: string;
  profile: string;
  origin: "a2a" | "local";
  contextId: string;
  taskId: string;
  dir: "in" | "out";
  message: Message;
  state?: TaskState;
  usage?: Usage;
}

/**
 * Sees every task event inside the transaction that records it (the push outbox), and hears once
 * that transaction has committed.
 */
export interface EventSink {
  /** Synchronous, inside the writer's transaction. Returns true when it queued work. */
  written(taskId: string, event: StreamResponse, task: Task): boolean;
  committed(): void;
}

/** A failed write nobody awaits (the turn goes on): where it is reported. */
interface EngineLogger {
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
}

export interface EngineDeps {
  repo: TaskRepo;
  writer: Writer;
  profiles: ReadonlyMap<string, ProfileTarget>;
  now?: () => number;
  timers?: Timers;
  newId?: () => string;
  maxContextQueue?: number;
  hooks?: EngineHooks;
  admission?: Admission | undefined;
  events?: EventSink | undefined;
  /** Free disk and write health: refuses new tasks, hears of failed writes (absent: no checks). */
  storage?: StorageHealth | undefined;
  logger?: EngineLogger | undefined;
}

/** The engine's dependencies with their defaults filled in. */
export type ResolvedDeps = Required<
  Omit<EngineDeps, "hooks" | "admission" | "events" | "storage" | "logger">
> & {
  hooks: EngineHooks;
  admission?: Admission | undefined;
  events?: EventSink | undefined;
  storage?: StorageHealth | undefined;
  logger?: EngineLogger | undefined;
};

export interface SendInput {
  peer: string;
  profile: string;
  origin: "a2a" | "local";
  message: Message;
  /** Relay forwards before this one (`A2A-Relay-Hops`), passed to the receiver. */
  hops?: number;
  /** Someone may follow the turn's progress (a stream, or the task returned at once): see Turn. */
  progress?: boolean;
  /** The request's metadata and configuration, passed to the receiver (forwarded upstream). */
  request?: RequestExtras | undefined;
  /**
   * Whether a message already dispatched to task `taskId` came in this same request (what the
   * engine does not see, e.g. its push config): a retry only if so. Absent: nothing more to check.
   */
  sameRequest?: ((taskId: string) => boolean) | undefined;
  /** Runs inside the transaction that creates the task (e.g. storing its push config). */
  onCreated?: (taskId: string) => void;
}

/** A task with a turn queued or running in this process. */
export interface LiveTask {
  id: string;
  peer: string;
  profile: string;
  contextId: string;
  origin: "a2a" | "local";
  createdAt: number;
  pending: Task;
  pendingSeq: number;
  committed: Task;
  committedSeq: number;
  queueKey: string;
  hops?: number;
  progress?: boolean;
  request?: RequestExtras | undefined;
  start?: () => void;
  /** The running turn waits for a post-back and can be resumed by the next process. */
  detachable?: boolean;
  /** The turn can be resumed by the next process: a shutdown past the grace detaches it. */
  resumable?: boolean;
  /** A turn is queued or running for it in this process. */
  busy?: boolean;
  /**
   * Events whose write failed (disk full, I/O error), oldest first: the task's state lives in
   * memory and is written again, with backoff, until it lands.
   */
  unwritten?: Array<{ seq: number; event: StreamResponse; ts: number }>;
  rewriting?: boolean;
  /** When the turn queued now was admitted (engine clock): its queue time ends when it starts. */
  admittedAt?: number | undefined;
  /** The admission of the turn queued or running now (budgets). */
  ticket?: AdmissionTicket | undefined;
  abort?: AbortController;
  done?: Promise<void>;
}

/** What a turn (turn.ts) may do with the engine: record its task's events, read the clock. */
export interface TurnHost {
  readonly closing: boolean;
  readonly hooks: EngineHooks;
  readonly timers: Timers;
  now(): number;
  newId(): string;
  /** Record an event of the task; never rejects (a failed write is retried, see recording.ts). */
  record(live: LiveTask, event: StreamResponse): Promise<void>;
  /** `record` without waiting; an error is logged. */
  recordLater(live: LiveTask, event: StreamResponse): void;
  /** Record a final (or interrupted) status with an agent message saying `text`. */
  settle(live: LiveTask, state: TaskState, text: string): Promise<void>;
  agentMessage(task: Pick<Task, "id" | "contextId">, text: string): Message;
  iso(): string;
  /** Of a message's `referenceTaskIds`, the tasks that are `peer`'s own (see queries.ts). */
  referenced(peer: string, ids: readonly string[]): Record<string, TaskReference>;
}

/** The engine's state, shared by the files that make it up (dispatch, queries, recovery, ...). */
export interface EngineCore {
  readonly deps: ResolvedDeps;
  readonly bus: TaskBus;
  readonly queues: ContextQueues;
  readonly live: Map<string, LiveTask>;
  readonly turns: TurnHost;
  closing: boolean;
}

/**
 * Why a turn was aborted: a cancel (CANCELED), a timeout or a shutdown (FAILED); `detach`: a
 * shutdown leaves the task as it is on disk, for the next process to resume.
 */
export class CancelReason {
  constructor(
    readonly text: string,
    readonly state: TaskState = "TASK_STATE_CANCELED",
    readonly detach = false,
  ) {}
}
