import { isSettled, type Message, type Part, type StreamResponse, textOf } from "../../a2a/types.ts";
import type { TurnEmitter, TurnResult } from "../types.ts";
import type { Dialect } from "./dialect.ts";
import { UpstreamError } from "./http.ts";

/**
 * Folding upstream answers into one relay turn: progress and artifacts as they come, the final
 * upstream state as the turn's result, failures as FAILED with `{code, reason}` metadata.
 */

/** A turn that cannot be forwarded: becomes FAILED with this text and `{code, reason}` metadata. */
export class TurnFailure extends Error {
  constructor(
    message: string,
    readonly code = -32045,
    readonly reason = "UPSTREAM_UNAVAILABLE",
  ) {
    super(message);
  }
}

/** What is known about the upstream side of the turn so far. */
export class Progress {
  #taskId: string | undefined;
  onTaskId: () => void = () => {};
  get taskId(): string | undefined {
    return this.#taskId;
  }
  set taskId(id: string | undefined) {
    const first = !this.#taskId && id;
    this.#taskId = id;
    if (first) this.onTaskId();
  }
  contextId: string | undefined;
  artifacts: Part[][] = [];
  constructor(
    readonly url: string,
    readonly protocol: string,
    readonly binding = "jsonrpc",
  ) {}
  metadata() {
    return {
      upstream: {
        url: this.url,
        protocol: this.protocol,
        binding: this.binding,
        ...(this.taskId ? { taskId: this.taskId } : {}),
        ...(this.contextId ? { contextId: this.contextId } : {}),
      },
    };
  }
}

export function parse(d: Dialect, raw: unknown): StreamResponse {
  try {
    return d.event(raw);
  } catch (err) {
    throw new UpstreamError(
      `upstream unavailable: unexpected answer (${err instanceof Error ? err.message.slice(0, 200) : "?"})`,
      "invalid",
    );
  }
}

/** Fold one upstream event into the turn; a result when the upstream task settled. */
export function apply(e: StreamResponse, st: Progress, emit: TurnEmitter): TurnResult | undefined {
  if ("message" in e) {
    st.contextId = e.message.contextId ?? st.contextId;
    return { state: "TASK_STATE_COMPLETED", parts: nonEmpty(e.message.parts), metadata: st.metadata() };
  }
  if ("artifactUpdate" in e) {
    const u = e.artifactUpdate;
    st.taskId ??= u.taskId;
    st.artifacts.push(u.artifact.parts);
    emit.artifact(u.artifact, {
      ...(u.append !== undefined ? { append: u.append } : {}),
      ...(u.lastChunk !== undefined ? { lastChunk: u.lastChunk } : {}),
    });
    return undefined;
  }
  const status = "task" in e ? e.task.status : e.statusUpdate.status;
  if ("task" in e) {
    st.taskId = e.task.id;
    st.contextId = e.task.contextId || st.contextId;
    if (isSettled(status.state) && !st.artifacts.length) {
      // a blocking answer: its artifacts were never streamed
      for (const a of e.task.artifacts ?? []) emit.artifact(a, { lastChunk: true });
      st.artifacts = (e.task.artifacts ?? []).map((a) => a.parts);
    }
  } else {
    st.taskId ??= e.statusUpdate.taskId;
    st.contextId ??= e.statusUpdate.contextId;
  }
  if (!isSettled(status.state)) {
    const text = textOf(status.message?.parts ?? []);
    if (text && !("task" in e)) emit.progress(text);
    return undefined;
  }
  return final(status.state, status.message, st);
}

function final(state: string, message: Message | undefined, st: Progress): TurnResult {
  const parts = message?.parts.length ? message.parts : st.artifacts.flat();
  const metadata = st.metadata();
  switch (state) {
    case "TASK_STATE_COMPLETED":
      return { state: "TASK_STATE_COMPLETED", parts: nonEmpty(parts), metadata };
    case "TASK_STATE_INPUT_REQUIRED":
    case "TASK_STATE_AUTH_REQUIRED":
      return { state: "TASK_STATE_INPUT_REQUIRED", parts: nonEmpty(parts, "input required"), metadata };
    case "TASK_STATE_REJECTED":
      return {
        state: "TASK_STATE_REJECTED",
        parts: nonEmpty(parts, "rejected by the upstream agent"),
        metadata,
      };
    case "TASK_STATE_CANCELED":
      return {
        state: "TASK_STATE_FAILED",
        parts: [{ text: `the upstream agent canceled its task${textOf(parts) ? `: ${textOf(parts)}` : ""}` }],
        metadata,
      };
    default:
      return { state: "TASK_STATE_FAILED", parts: nonEmpty(parts, "the upstream agent failed"), metadata };
  }
}

export function failed(err: unknown, st: Progress | undefined): TurnResult {
  const meta = st?.metadata() ?? {};
  if (err instanceof TurnFailure) {
    return {
      state: "TASK_STATE_FAILED",
      parts: [{ text: err.message }],
      metadata: { ...meta, error: { code: err.code, reason: err.reason } },
    };
  }
  if (err instanceof UpstreamError) {
    const error =
      err.kind === "rpc"
        ? { code: err.code, reason: err.reason ?? "UPSTREAM_ERROR" }
        : { code: -32045, reason: "UPSTREAM_UNAVAILABLE" };
    // the upstream relay declined to run the turn at all (a budget, e.g. max_turns_per_context)
    const state = err.kind === "rpc" && err.code === -32042 ? "TASK_STATE_REJECTED" : "TASK_STATE_FAILED";
    return { state, parts: [{ text: err.message }], metadata: { ...meta, error } };
  }
  throw err;
}

function nonEmpty(parts: Part[], fallback = ""): Part[] {
  return parts.length ? parts : [{ text: fallback }];
}
