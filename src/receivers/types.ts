import type { Artifact, Message, Part, TaskState } from "../a2a/types.ts";
import type { Brief } from "../brief/schema.ts";

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

/** Everything a receiver needs to run one turn. Nothing here comes from the message but `message` (and `brief`, parsed from it). */
export interface Turn {
  taskId: string;
  contextId: string;
  /** The authenticated peer (from the credential, never from the message). */
  peer: string;
  profile: string;
  origin: "a2a" | "local";
  message: Message;
  /** All earlier messages of this task (oldest first), for receivers that keep no session. */
  history: Message[];
  /** Wall-clock cap for this turn, in milliseconds (lowered by the brief's `deadline_s`). */
  timeoutMs: number;
  /** The message's structured brief, validated at the edge (render it with `promptText`). */
  brief?: Brief;
  /** Relay forwards this dispatch went through before reaching us (`A2A-Relay-Hops`; absent = 0). */
  hops?: number;
  /**
   * Someone may follow this turn's progress: the dispatch was a stream, or returned the task at
   * once. False when the caller only waits for the outcome (a blocking SendMessage): a forwarding
   * receiver then makes a blocking call upstream instead of a stream (cheaper on both sides).
   */
  progress?: boolean;
  /** The request's own `metadata` and forwardable `configuration`, for receivers that forward it. */
  request?: RequestExtras;
  /**
   * The tasks the message's `referenceTaskIds` name that are this peer's own, by id: a forwarding
   * receiver names their upstream tasks instead (the upstream knows nothing of the relay's ids).
   */
  references?: Record<string, TaskReference>;
}

/** A task of the relay that a message refers to. */
export interface TaskReference {
  profile: string;
  metadata?: Record<string, unknown>;
}

/** What a SendMessage carried besides its message, as a forwarding receiver passes it on. */
export interface RequestExtras {
  metadata?: Record<string, unknown>;
  configuration?: { acceptedOutputModes?: string[]; historyLength?: number };
}

/** What a receiver reports while it works. */
export interface TurnEmitter {
  /**
   * Progress shown to streaming clients (TaskStatusUpdate, state WORKING): a short line, or an
   * upstream agent's message whole (text, data and file parts, its metadata); `metadata` goes on
   * the status update itself.
   */
  progress(content: string | ProgressMessage, metadata?: Record<string, unknown>): void;
  /** Task metadata known before the turn ends (e.g. the upstream task): kept whatever happens. */
  metadata?(m: Record<string, unknown>): void;
  /** An artifact (or a chunk of one, with append). */
  artifact(artifact: Artifact, opts?: { append?: boolean; lastChunk?: boolean }): void;
  /**
   * The turn now waits for something from outside (a queued receiver's post-back) and `resume`
   * can pick it up after a restart: a shutdown then leaves it running on disk instead of failing it.
   */
  waiting?(): void;
  /**
   * The turn can be picked up by the next process (`resume`: a forwarded turn whose upstream task
   * is known): a shutdown that outlasts the grace leaves it running on disk instead of failing it.
   */
  resumable?(): void;
  /** A line the receiver adds to the failure text when the turn is canceled or runs out. */
  abortNote?(text: string): void;
}

export interface TurnResult {
  state: Extract<
    TaskState,
    "TASK_STATE_COMPLETED" | "TASK_STATE_FAILED" | "TASK_STATE_INPUT_REQUIRED" | "TASK_STATE_REJECTED"
  >;
  /** The agent's final reply; becomes the status message and (for COMPLETED) an artifact. */
  parts: Part[];
  usage?: Usage;
  /** Extra task metadata (e.g. the CLI session id). */
  metadata?: Record<string, unknown>;
}

/**
 * A receiver runs turns for one profile. It must stop promptly when `signal` aborts (cancel,
 * timeout, shutdown) and must never throw for an agent-side failure: it returns FAILED with a
 * message a person can act on. A throw is treated as an internal failure of the relay.
 */
export interface Receiver {
  readonly kind: string;
  run(turn: Turn, emit: TurnEmitter, signal: AbortSignal): Promise<TurnResult>;
  /**
   * A task waiting for input (no turn running) is canceled: release what the receiver keeps for
   * it elsewhere (an upstream task). Best effort and bounded; optional.
   */
  cancelWaiting?(task: { taskId: string; peer: string; contextId: string }): Promise<void>;
  /**
   * A task a previous process left running whose turn this receiver can still finish (a queued
   * receiver's post-back, waited for across the restart); undefined: the task failed with it.
   */
  resume?(task: { taskId: string; peer: string; contextId: string; message?: Message }): Resumed | undefined;
  /** Work a previous process left for the receiver itself (e.g. upstream cancels to deliver). */
  recover?(): void;
}

/** A turn picked up again after a restart. */
export interface Resumed {
  /** When the turn's cap runs out (epoch ms), as it was set before the restart. */
  deadline: number;
  run(emit: TurnEmitter, signal: AbortSignal): Promise<TurnResult>;
}

/** An agent's progress message as it came: its parts and metadata. */
interface ProgressMessage {
  parts: Part[];
  metadata?: Record<string, unknown>;
}
