import type { Task } from "../../a2a/types.ts";
import type { Timers } from "../../clock.ts";
import { sleep } from "../sleep.ts";
import type { TurnEmitter, TurnResult } from "../types.ts";
import type { Dialect } from "./dialect.ts";
import { apply, type Progress, parse } from "./fold.ts";
import { UpstreamError } from "./http.ts";
import type { Wire } from "./wire.ts";

/**
 * Following one forwarded turn to its end on the upstream, across broken connections. The first
 * leg sends the message (streamed when the wire can: its first event names the upstream task). A
 * leg that loses its connection, or whose stream goes silent, is followed by another: a
 * subscription to the upstream task when its id is known, else the same message sent again (its
 * messageId is derived from the relay's task, so the upstream's idempotency returns the task the
 * first send made instead of running the turn twice). Only the turn cap (the signal) ends the
 * wait; a connection that was never made on the first leg fails at once, as nothing was delivered.
 */

export interface Leg {
  d: Dialect;
  wire: Wire;
  params: unknown;
  st: Progress;
  emit: TurnEmitter;
  signal: AbortSignal;
  /** Send as a stream (when the wire can); else one blocking call. */
  stream: boolean;
  /** Waits between re-attach attempts (the last one repeats); default 0.5, 1, 2, 4 s. */
  backoffMs?: number[];
  /** The backoff's timers and clock (tests move them by hand); default the runtime's. */
  timers?: Timers | undefined;
  now?: (() => number) | undefined;
  /** The upstream task is known and already runs (a restart): follow it, send nothing. */
  attached?: boolean;
  /**
   * The messageId this leg's message carries. A continued task's id is known before its message
   * is delivered: a re-attach that finds that task still waiting for input without this message
   * in its history sends the message again instead of taking the old question for the answer.
   */
  messageId?: string | undefined;
}

/** What the turn last saw of the upstream while re-attaching (for the turn's failure text). */
export interface Outage {
  since: number;
  why: string;
  attempts: number;
}

export async function follow(x: Leg, outage?: (o: Outage | undefined) => void): Promise<TurnResult> {
  const backoff = x.backoffMs ?? [500, 1000, 2000, 4000];
  let attempts = 0;
  let since = 0;
  let resend = false;
  for (;;) {
    try {
      const sent = (attempts > 0 || x.attached) && !resend;
      resend = false;
      const r = sent && x.st.taskId ? await reattach(x) : await exchange(x);
      outage?.(undefined);
      return r;
    } catch (err) {
      if (x.signal.aborted) throw x.signal.reason;
      if (err instanceof NotDelivered) {
        // the path is back and the message never arrived: send it now (same messageId)
        resend = true;
        continue;
      }
      if (!reattachable(err, x, attempts)) throw err;
      const why = (err as UpstreamError).message;
      if (!attempts) {
        since = (x.now ?? Date.now)();
        x.emit.progress(`${why}; re-attaching to the upstream until it answers or the turn cap`);
      }
      attempts++;
      outage?.({ since, why, attempts });
      await sleep(backoff[Math.min(attempts - 1, backoff.length - 1)]!, x.signal, x.timers);
    }
  }
}

/** Re-attach to a known upstream task: its stream, or (not resubscribable) where GetTask says it is. */
async function reattach(x: Leg): Promise<TurnResult> {
  const { d, wire, st, emit, signal } = x;
  const id = st.taskId!;
  if (wire.subscribe) {
    try {
      // a subscription stays open across an interrupted state: it ends the turn there
      let first = true;
      for await (const raw of wire.subscribe(id, signal)) {
        const e = parse(d, raw);
        const opening = first && "task" in e;
        first = false;
        if (opening) {
          undelivered(x, e.task);
          // the task as it stood before it took up this message: its events follow
          if (unanswered(x, e.task)) continue;
        }
        const done = apply(e, st, emit, d.final?.(raw), true);
        if (done) return done;
      }
    } catch (err) {
      if (signal.aborted || isLinkFailure(err) || err instanceof NotDelivered) throw err;
      // not resubscribable (unsupported, or the task already ended): GetTask tells
    }
  }
  if (!wire.get) {
    throw new UpstreamError(`upstream unavailable: cannot follow task ${id} (no GetTask)`, "invalid");
  }
  const t = d.task(await bounded("GetTask", (s) => wire.get!(id, s), signal));
  undelivered(x, t);
  if (unanswered(x, t)) {
    throw new UpstreamError(
      `upstream task ${id} has message ${x.messageId} and has not answered it yet`,
      "unavailable",
      undefined,
      undefined,
      "lost",
    );
  }
  const done = apply({ task: t }, st, emit);
  if (done) return done;
  throw new UpstreamError(
    `upstream task ${id} is still ${t.status.state} and its stream ended`,
    "unavailable",
    undefined,
    undefined,
    "lost",
  );
}

// internal

/** A re-attach found that this leg's message never reached the upstream task. */
class NotDelivered extends Error {}

/**
 * Throws NotDelivered when `task`, as the upstream has it now, still waits for input (or auth)
 * and its history, which it sends, lacks this leg's message: the continued turn's send was lost
 * before the upstream took it, so the question it shows is the previous turn's.
 */
function undelivered(x: Leg, task: Task): void {
  if (!x.messageId || !x.params) return;
  const state = task.status.state;
  if (state !== "TASK_STATE_INPUT_REQUIRED" && state !== "TASK_STATE_AUTH_REQUIRED") return;
  const history = task.history;
  if (!history?.length || history.some((m) => m.messageId === x.messageId)) return;
  throw new NotDelivered(`upstream task ${task.id} never got message ${x.messageId}`);
}

/**
 * Whether `task` still waits for input (or auth) with the question this leg's message answers:
 * the message is the last in its history and the question it shows is older (earlier in that
 * history). The upstream took the message and has not started on it yet (an SDK agent stores it
 * before its executor runs), so the turn waits for what comes next rather than take the old
 * question for the answer. A status message missing from the history tells nothing: taken as is.
 */
function unanswered(x: Leg, task: Task): boolean {
  if (!x.messageId) return false;
  const state = task.status.state;
  if (state !== "TASK_STATE_INPUT_REQUIRED" && state !== "TASK_STATE_AUTH_REQUIRED") return false;
  const history = task.history ?? [];
  const mine = history.findIndex((m) => m.messageId === x.messageId);
  if (mine < 0 || mine !== history.length - 1) return false;
  const asked = task.status.message?.messageId;
  if (!asked) return false;
  const at = history.findIndex((m) => m.messageId === asked);
  return at >= 0 && at < mine;
}

/** A short upstream call within the turn: an answer within 30 s, or a broken connection. */
const CALL_MS = 30_000;

async function bounded<T>(
  what: string,
  call: (s: AbortSignal) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  const timer = AbortSignal.timeout(CALL_MS);
  try {
    return await call(AbortSignal.any([signal, timer]));
  } catch (err) {
    if (timer.aborted && !signal.aborted) {
      throw new UpstreamError(
        `upstream unavailable: no answer to ${what} within ${CALL_MS / 1000} s`,
        "unavailable",
        undefined,
        undefined,
        "lost",
      );
    }
    throw err;
  }
}

async function exchange(x: Leg): Promise<TurnResult> {
  const { d, wire, params, st, emit, signal } = x;
  let events: AsyncIterable<unknown>;
  const streamed = !!(wire.stream && x.stream);
  if (streamed) events = wire.stream!(params, signal);
  else events = once(wire.send(params, signal));
  let seen = false;
  try {
    for await (const raw of events) {
      seen = true;
      const done = apply(parse(d, raw), st, emit, d.final?.(raw), false, streamed);
      if (done) return done;
    }
  } catch (err) {
    // an upstream without streaming: fall back to a blocking send (nothing was accepted yet)
    if (!seen && wire.stream && x.stream && isNoStreaming(err)) {
      const done = apply(parse(d, await wire.send(params, signal)), st, emit);
      if (done) return done;
    } else throw err;
  }
  // a v1.0 stream closes after an interrupted state: that was the turn's end
  if (st.pending) return st.pending;
  // the stream ended before a final state: follow the task
  if (st.taskId) return reattach(x);
  throw new UpstreamError("upstream unavailable: it answered without a task or a message", "invalid");
}

/**
 * Whether a failed leg is worth another: the connection broke or went silent (or, after the first
 * leg, could not be made) and the upstream's task can be found again, by id or by re-sending.
 */
function reattachable(err: unknown, x: Leg, attempts: number): boolean {
  if (!isLinkFailure(err)) return false;
  // tasks are what can be found again; a fleet node has none
  if (!x.d.get) return false;
  if (!x.st.taskId && err.link === "connect") {
    // the first send never reached the upstream: say so now (nothing runs there)
    if (attempts === 0) return false;
    // a re-send refused: the upstream's process is down, and a task it may have had dies with it
    // (a relay fails what it ran when it restarts); wait for it only when its task is known
    if (/connection refused/.test(err.message)) return false;
  }
  return true;
}

function isLinkFailure(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError && err.kind === "unavailable" && err.link !== undefined;
}

function isNoStreaming(err: unknown): boolean {
  return err instanceof UpstreamError && err.kind === "rpc" && (err.code === -32601 || err.code === -32004);
}

async function* once<T>(p: Promise<T>): AsyncGenerator<T> {
  yield await p;
}
