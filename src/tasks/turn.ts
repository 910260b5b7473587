import type { Artifact, Message, StreamResponse, TaskState } from "../a2a/types.ts";
import { checkExpectedOutput } from "../brief/output.ts";
import { planTurn, withReplyTo } from "../brief/plan.ts";
import type { Brief } from "../brief/schema.ts";
import type { Timers } from "../clock.ts";
import { RelayError } from "../errors.ts";
import type { Resumed, TurnEmitter, TurnResult } from "../receivers/types.ts";
import type { AdmissionTicket } from "./admission.ts";
import { CancelReason, type LiveTask, type ProfileTarget, type TurnHost } from "./types.ts";

/**
 * Run one turn of a task on its receiver: WORKING, progress and artifacts as they come, then the
 * final state. Never throws: every outcome ends as a recorded state.
 */
export async function runTurn(
  host: TurnHost,
  live: LiveTask,
  profile: ProfileTarget,
  message: Message,
  ticket?: AdmissionTicket,
) {
  const { hooks } = host;
  if (isCanceledAlready(live)) return ticket?.refund();
  if (host.closing) {
    ticket?.refund();
    await host.settle(live, "TASK_STATE_FAILED", "relay shut down before this task started");
    return;
  }
  const plan = planTurn(message, profile.timeoutMs);
  if (plan.error) {
    ticket?.refund();
    await host.settle(live, "TASK_STATE_FAILED", plan.error);
    return;
  }
  live.pending = withReplyTo(live.pending, plan.brief);
  const abort = new AbortController();
  live.abort = abort;
  if (ticket && !(await admitted(host, live, ticket, abort.signal))) return;
  const ids = { taskId: live.id, contextId: live.contextId };
  // not awaited: the writer keeps events in order, and a fast receiver's whole turn then shares
  // one commit with it
  host.recordLater(live, {
    statusUpdate: { ...ids, status: { state: "TASK_STATE_WORKING", timestamp: host.iso() } },
  });
  const who = { peer: live.peer, profile: profile.name, origin: live.origin, ...ids };
  hooks.turnMessage?.({ ...who, dir: "in", message });
  const history = (live.pending.history ?? []).filter((m) => m.messageId !== message.messageId);
  await execute(host, live, profile, abort, {
    timeoutMs: plan.timeoutMs,
    limitText: plan.limitText,
    brief: plan.brief,
    ticket,
    run: (emit, signal) =>
      profile.receiver.run(
        {
          ...ids,
          peer: live.peer,
          profile: profile.name,
          origin: live.origin,
          message,
          history,
          timeoutMs: plan.timeoutMs,
          ...(plan.brief ? { brief: plan.brief } : {}),
          ...(live.hops !== undefined ? { hops: live.hops } : {}),
          ...(live.progress !== undefined ? { progress: live.progress } : {}),
          ...(live.request ? { request: live.request } : {}),
          ...(message.referenceTaskIds?.length
            ? { references: host.referenced(live.peer, message.referenceTaskIds) }
            : {}),
        },
        emit,
        signal,
      ),
  });
}

/**
 * Finish a turn a previous process left waiting (a queued receiver's post-back): the receiver's
 * `resume` waits for it again, under what is left of the turn cap.
 */
export async function resumeTurn(host: TurnHost, live: LiveTask, profile: ProfileTarget, resumed: Resumed) {
  const abort = new AbortController();
  live.abort = abort;
  await execute(host, live, profile, abort, {
    timeoutMs: Math.max(0, resumed.deadline - host.now()),
    limitText: "its turn cap (turn_timeout_s), counted from before the restart",
    run: resumed.run,
  });
}

interface Execution {
  timeoutMs: number;
  limitText: string;
  brief?: Brief | undefined;
  ticket?: AdmissionTicket | undefined;
  run: (emit: TurnEmitter, signal: AbortSignal) => Promise<TurnResult>;
}

/** Run the receiver under the turn cap, forward its progress, record its outcome. */
async function execute(
  host: TurnHost,
  live: LiveTask,
  profile: ProfileTarget,
  abort: AbortController,
  x: Execution,
) {
  const { hooks, timers } = host;
  const newId = () => host.newId();
  const started = host.now();
  // how long the turn waited for its conversation and its budget slot since it was admitted
  const queueMs = live.admittedAt === undefined ? undefined : Math.max(0, started - live.admittedAt);
  live.admittedAt = undefined;
  const timer = timers.setTimeout(
    () => abort.abort(new CancelReason(`turn exceeded ${x.limitText}`, "TASK_STATE_FAILED")),
    x.timeoutMs,
  );
  hooks.turnStarted?.(profile.name);
  const ids = { taskId: live.id, contextId: live.contextId };
  const who = { peer: live.peer, profile: profile.name, origin: live.origin, ...ids };

  let artifacts = 0;
  let note: string | undefined;
  const emit: TurnEmitter = {
    progress(content, metadata) {
      if (abort.signal.aborted) return;
      const message =
        typeof content === "string"
          ? host.agentMessage(live.pending, content)
          : {
              ...host.agentMessage(live.pending, ""),
              parts: content.parts,
              ...(content.metadata ? { metadata: content.metadata } : {}),
            };
      const status = { state: "TASK_STATE_WORKING" as const, message, timestamp: host.iso() };
      host.recordLater(live, { statusUpdate: { ...ids, status, ...(metadata ? { metadata } : {}) } });
    },
    artifact(artifact, opts) {
      if (abort.signal.aborted) return;
      artifacts++;
      host.recordLater(live, { artifactUpdate: { ...ids, artifact, ...opts } });
    },
    waiting() {
      live.detachable = true;
    },
    resumable() {
      live.resumable = true;
    },
    abortNote(text) {
      note = text;
    },
    metadata(m) {
      live.pending = { ...live.pending, metadata: { ...live.pending.metadata, ...m } };
    },
  };

  let state: TaskState;
  let result: Omit<TurnResult, "state">;
  try {
    const r = await raceAbort(x.run(emit, abort.signal), abort.signal, timers);
    state = r.state;
    result = r;
  } catch (err) {
    const reason = abort.signal.aborted ? abort.signal.reason : undefined;
    if (reason instanceof CancelReason && reason.detach) {
      // a shutdown leaves a turn that waits for a post-back to the next process (see resumeTurn)
      timers.clearTimeout(timer);
      return;
    }
    if (reason instanceof CancelReason) {
      state = reason.state;
      result = { parts: [{ text: note ? `${reason.text}; ${note}` : reason.text }] };
    } else {
      state = "TASK_STATE_FAILED";
      result = { parts: [{ text: `receiver error: ${errorText(err)}` }] };
    }
  } finally {
    timers.clearTimeout(timer);
  }
  // a JSON Schema expected_output: validate the answer, return it as the `result` artifact
  const checked = checkExpectedOutput(x.brief, { state, parts: result.parts }, newId);
  state = checked.state;
  result = { ...result, parts: checked.parts };
  x.ticket?.settle(result.usage);
  const reply = await finish(host, live, state, result, newId, artifacts > 0, checked.artifact);
  hooks.turnMessage?.({
    ...who,
    dir: "out",
    message: reply,
    state,
    ...(result.usage ? { usage: result.usage } : {}),
  });
  hooks.turnFinished?.(profile.name, state, host.now() - started, queueMs);
}

// internal

async function finish(
  host: TurnHost,
  live: LiveTask,
  state: TaskState,
  result: Omit<TurnResult, "state">,
  newId: () => string,
  /** The receiver streamed its own artifacts: the reply then goes only into the status message. */
  hasArtifacts: boolean,
  /** The validated `result` of a brief's JSON Schema; it replaces the text answer artifact. */
  resultArtifact?: Artifact,
) {
  const ids = { taskId: live.id, contextId: live.contextId };
  // the turn's own usage rides on its answer, where a relay in front reads it for its budgets
  const reply: Message = {
    messageId: newId(),
    role: "ROLE_AGENT",
    parts: result.parts,
    ...ids,
    ...(result.usage ? { metadata: { usage: result.usage } } : {}),
  };
  const events: StreamResponse[] = [];
  if (state === "TASK_STATE_COMPLETED" && resultArtifact) {
    events.push({ artifactUpdate: { ...ids, artifact: resultArtifact, lastChunk: true } });
  } else if (
    state === "TASK_STATE_COMPLETED" &&
    result.parts.length &&
    !hasArtifacts &&
    // an upstream's Message answer stays a message (the caller gets it as one), not an artifact
    (result.metadata?.upstream as { reply?: unknown } | undefined)?.reply !== "message"
  ) {
    events.push({
      artifactUpdate: {
        ...ids,
        artifact: { artifactId: newId(), name: "response", parts: result.parts },
        lastChunk: true,
      },
    });
  }
  const metadata = mergeUsage(live.pending.metadata, result);
  if (metadata) live.pending = { ...live.pending, metadata };
  for (const e of events) host.recordLater(live, e);
  await host.record(live, {
    statusUpdate: { ...ids, status: { state, message: reply, timestamp: host.iso() } },
  });
  return reply;
}

/** Wait for the turn's slot (budgets). False when it will not run; it is then settled here. */
async function admitted(host: TurnHost, live: LiveTask, ticket: AdmissionTicket, signal: AbortSignal) {
  try {
    await ticket.acquire(signal);
    return true;
  } catch (err) {
    ticket.refund();
    const reason = signal.aborted ? signal.reason : undefined;
    if (reason instanceof CancelReason) await host.settle(live, reason.state, reason.text);
    else {
      // keep the typed refusal (a budget's -32042) so a caller still waiting can be told exactly that
      if (err instanceof RelayError) {
        const error = {
          code: err.code,
          reason: err.reason,
          message: err.message,
          data: err.data ?? {},
          source: "admission",
        };
        live.pending = { ...live.pending, metadata: { ...live.pending.metadata, error } };
      }
      await host.settle(live, "TASK_STATE_REJECTED", errorText(err));
    }
    return false;
  }
}

/**
 * The task's metadata after a turn: the receiver's, and usage added up over the turns. A turn
 * whose receiver reported no usage adds none: unknown is not zero.
 */
function mergeUsage(meta: Record<string, unknown> | undefined, result: Omit<TurnResult, "state">) {
  if (!result.usage) return result.metadata ? { ...meta, ...result.metadata } : meta;
  const prev = (meta?.usage ?? {}) as { inputTokens?: number; outputTokens?: number; costUsd?: number };
  const u = result.usage ?? {};
  const usage = {
    inputTokens: (prev.inputTokens ?? 0) + (u.inputTokens ?? 0),
    outputTokens: (prev.outputTokens ?? 0) + (u.outputTokens ?? 0),
    ...(prev.costUsd !== undefined || u.costUsd !== undefined
      ? { costUsd: (prev.costUsd ?? 0) + (u.costUsd ?? 0) }
      : {}),
  };
  return { ...meta, ...result.metadata, usage };
}

function isCanceledAlready(live: LiveTask): boolean {
  return live.pending.status.state === "TASK_STATE_CANCELED";
}

/**
 * Settle when the receiver does, or when the signal aborts: then give the receiver a short grace
 * to wind down (kill its processes) before moving on, even if it ignores the signal. An aborted
 * turn always rejects with the abort reason, whatever the receiver returned.
 */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal, timers: Timers, graceMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: unknown;
    const onAbort = () => {
      timer = timers.setTimeout(() => reject(signal.reason), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    const settle = (fn: () => void) => {
      signal.removeEventListener("abort", onAbort);
      if (timer !== undefined) timers.clearTimeout(timer);
      if (signal.aborted) reject(signal.reason);
      else fn();
    };
    p.then(
      (v) => settle(() => resolve(v)),
      (e) => settle(() => reject(e)),
    );
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
