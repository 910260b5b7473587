import { textOf } from "../../a2a/types.ts";
import type { SessionStore } from "../../store/sessions.ts";
import type { Receiver, Turn, TurnEmitter, TurnResult } from "../types.ts";
import type { Dialect } from "./dialect.ts";
import { apply, failed, Progress, parse, TurnFailure } from "./fold.ts";
import { type FetchFn, type Upstream, UpstreamError } from "./http.ts";
import { isBusyReply, isQueuedAck, type Postbacks } from "./postbacks.ts";
import { type Binding, type Wire, wireFor } from "./wire.ts";

export { TurnFailure };

/**
 * One turn forwarded to an upstream A2A agent. The relay's task is what the caller sees; the
 * upstream task/context ids are recorded in the result's metadata and, per (profile, peer,
 * context), in the sessions table so the next turn continues the same upstream conversation (and,
 * after INPUT_REQUIRED, the same upstream task).
 */

export interface ForwardOptions {
  profile: string;
  dialect: Dialect;
  /**
   * Where, over which binding (default JSON-RPC) and with which headers (credential, hops) to
   * send this turn; may throw TurnFailure.
   */
  target(
    turn: Turn,
    signal: AbortSignal,
  ): Promise<{ url: string; headers: Record<string, string>; binding?: Binding }>;
  fetch: FetchFn;
  sessions: () => SessionStore | undefined;
  newId?: () => string;
  /** Bound on the best-effort upstream CancelTask after an abort. */
  cancelTimeoutMs?: number;
  /**
   * hermes-fleet with `reply_peer`: an answer ending in "[queued]" is an acknowledgement, and the
   * turn waits here for the receiver's post-back.
   */
  postbacks?: Postbacks | undefined;
}

type UpstreamSession = {
  contextId?: string | undefined;
  /** The upstream task waiting for input, and the relay task it belongs to. */
  taskId?: string;
  relayTaskId?: string;
  /** A queued receiver's post-back the relay task waits for, and when its turn cap runs out. */
  waiting?: { relayTaskId: string; deadline: number };
};

export function forwardingReceiver(kind: string, opts: ForwardOptions): Receiver {
  const newId = opts.newId ?? (() => crypto.randomUUID());
  return {
    kind,
    async run(turn, emit, signal): Promise<TurnResult> {
      const began = Date.now();
      let up: Upstream;
      let wire: Wire;
      let binding: Binding;
      try {
        const t = await opts.target(turn, signal);
        up = { url: t.url, headers: { ...opts.dialect.headers, ...t.headers }, fetch: opts.fetch };
        binding = t.binding ?? "jsonrpc";
        wire = wireFor(binding, opts.dialect, up);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        return failed(err, undefined);
      }
      const key = { profile: opts.profile, peer: turn.peer, contextId: turn.contextId };
      const saved = (opts.sessions()?.get(key)?.data ?? {}) as UpstreamSession;
      const state = new Progress(up.url, opts.dialect.protocol, binding);
      state.contextId = saved.contextId;
      // the conversation's upstream task, while it waits for input, takes every next message of
      // the conversation: an answer to its question, or (an upstream that keeps memory per task and
      // ends each turn input-required, like the Gemini CLI's A2A server) the next turn
      const continuing = saved.taskId;
      // known from the start: a cancel or the turn cap reaches it even before its first event
      state.taskId = continuing;
      const m = turn.message;
      const out = {
        // starts with the caller's messageId (upstream agents key behaviour and retries on it) and
        // is fixed for this turn of the relay's task, so a re-send finds what it created
        messageId: `${m.messageId}.${turn.taskId}`,
        parts: m.parts,
        // a fleet node is told the conversation up front: its post-back names it (queued receivers)
        contextId: saved.contextId ?? (opts.dialect.protocol === "hermes-fleet" ? newId() : undefined),
        taskId: continuing,
        metadata: m.metadata,
        extensions: m.extensions,
        referenceTaskIds: m.referenceTaskIds,
        request: turn.request,
      };
      const link = linkAbort(signal, state);
      // opened before the dispatch: a fast receiver's post-back may beat its own acknowledgement
      const slot =
        opts.postbacks && out.contextId
          ? opts.postbacks.open(opts.profile, out.contextId, turn.taskId)
          : undefined;
      let late = false;
      let result: TurnResult | undefined;
      try {
        result = await exchange(opts.dialect, wire, out, state, emit, link.signal, turn.progress !== false);
        if (
          slot &&
          out.contextId &&
          result.state === "TASK_STATE_COMPLETED" &&
          isQueuedAck(textOf(result.parts))
        ) {
          emit.progress(textOf(result.parts));
          const waiting = { relayTaskId: turn.taskId, deadline: began + turn.timeoutMs };
          await opts
            .sessions()
            ?.put(key, out.contextId, { contextId: out.contextId, waiting } satisfies UpstreamSession);
          emit.waiting?.();
          late = true; // until the post-back is in
          result = postbackResult(await slot.wait(signal), state);
          late = false;
        }
      } catch (err) {
        if (!signal.aborted) result = failed(err, state);
      } finally {
        link.dispose();
        slot?.close(late);
      }
      if (signal.aborted || !result) {
        // the link to the upstream task survives a cancel or a timeout
        emit.metadata?.(state.metadata());
        await cancelUpstream(opts, wire, state.taskId);
        throw signal.reason;
      }
      const waiting = result.state === "TASK_STATE_INPUT_REQUIRED" ? state.taskId : undefined;
      if (state.contextId || saved.contextId) {
        // not awaited (a commit round per turn): the writer commits in order, so the session is on
        // disk before the turn's final state, and the conversation's next turn starts after that
        opts
          .sessions()
          ?.put(key, state.contextId ?? "", {
            contextId: state.contextId,
            ...(waiting ? { taskId: waiting, relayTaskId: turn.taskId } : {}),
          } satisfies UpstreamSession)
          .catch(() => {}); // a failing database fails the turn's own final write, which is reported
      }
      return result;
    },
    resume(task) {
      const key = { profile: opts.profile, peer: task.peer, contextId: task.contextId };
      const saved = (opts.sessions()?.get(key)?.data ?? {}) as UpstreamSession;
      const fleetCtx = saved.contextId;
      if (!opts.postbacks || saved.waiting?.relayTaskId !== task.taskId || !fleetCtx) return undefined;
      const slot = opts.postbacks.open(opts.profile, fleetCtx, task.taskId);
      return {
        deadline: saved.waiting.deadline,
        async run(emit, signal) {
          emit.waiting?.();
          let text: string;
          try {
            text = await slot.wait(signal);
          } catch (err) {
            slot.close(true);
            throw err;
          }
          slot.close(false);
          await opts.sessions()?.put(key, fleetCtx, { contextId: fleetCtx } satisfies UpstreamSession);
          const st = new Progress("(post-back)", opts.dialect.protocol);
          st.contextId = fleetCtx;
          return postbackResult(text, st);
        },
      };
    },
    async cancelWaiting(task) {
      const key = { profile: opts.profile, peer: task.peer, contextId: task.contextId };
      const saved = (opts.sessions()?.get(key)?.data ?? {}) as UpstreamSession;
      if (saved.relayTaskId !== task.taskId || !saved.taskId) return;
      const bound = AbortSignal.timeout(opts.cancelTimeoutMs ?? 3000);
      const probe = {
        ...task,
        profile: opts.profile,
        origin: "a2a",
        message: { messageId: "", role: "ROLE_USER", parts: [] },
        history: [],
        timeoutMs: 3000,
      } as unknown as Turn;
      try {
        const t = await opts.target(probe, bound);
        const up = { url: t.url, headers: { ...opts.dialect.headers, ...t.headers }, fetch: opts.fetch };
        await cancelUpstream(opts, wireFor(t.binding ?? "jsonrpc", opts.dialect, up), saved.taskId);
      } catch {
        // best effort: the relay's own task is canceled whatever the upstream says
      }
    },
  };
}

// internal

/** A queued receiver's post-back as the turn's outcome: its answer, or FAILED when it was busy. */
function postbackResult(text: string, st: Progress): TurnResult {
  if (isBusyReply(text)) {
    return {
      state: "TASK_STATE_FAILED",
      parts: [{ text: `the queued receiver was busy and did not run the turn: ${text}` }],
      metadata: { ...st.metadata(), error: { code: -32043, reason: "CONTEXT_BUSY" } },
    };
  }
  return { state: "TASK_STATE_COMPLETED", parts: [{ text }], metadata: st.metadata() };
}

async function exchange(
  d: Dialect,
  wire: Wire,
  out: Parameters<Dialect["sendParams"]>[0],
  st: Progress,
  emit: TurnEmitter,
  signal: AbortSignal,
  /** Stream upstream (when it can) only if someone may follow the turn's progress. */
  progress: boolean,
): Promise<TurnResult> {
  const params = d.sendParams(out);
  let events: AsyncIterable<unknown>;
  if (wire.stream && progress) events = wire.stream(params, signal);
  else events = once(wire.send(params, signal));
  let seen = false;
  try {
    for await (const raw of events) {
      seen = true;
      const done = apply(parse(d, raw), st, emit, d.final?.(raw));
      if (done) return done;
    }
  } catch (err) {
    // an upstream without streaming: fall back to a blocking send (nothing was accepted yet)
    if (!seen && wire.stream && isNoStreaming(err)) {
      const done = apply(parse(d, await wire.send(params, signal)), st, emit);
      if (done) return done;
    } else throw err;
  }
  // a v1.0 stream closes after an interrupted state: that was the turn's end
  if (st.pending) return st.pending;
  // the stream ended before a final state: follow the task once more, then ask where it is
  if (st.taskId && wire.subscribe) {
    try {
      // a subscription stays open across an interrupted state: it ends the turn there
      for await (const raw of wire.subscribe(st.taskId, signal)) {
        const done = apply(parse(d, raw), st, emit, d.final?.(raw), true);
        if (done) return done;
      }
    } catch (err) {
      if (signal.aborted) throw err;
      // not resubscribable (unsupported, or the task already ended): GetTask tells
    }
  }
  if (st.taskId && wire.get) {
    const t = d.task(await wire.get(st.taskId, signal));
    const done = apply({ task: t }, st, emit);
    if (done) return done;
    throw new UpstreamError(
      `upstream unavailable: its stream ended while task ${st.taskId} was ${t.status.state}`,
      "unavailable",
    );
  }
  throw new UpstreamError("upstream unavailable: it answered without a task or a message", "invalid");
}

/**
 * The signal for upstream I/O. On abort it fires at once if the upstream task id is known, else
 * when it becomes known or after a second: so a cancel that comes early can still name the task.
 */
function linkAbort(signal: AbortSignal, state: Progress) {
  const io = new AbortController();
  const stop = () => io.abort(signal.reason);
  let grace: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    if (state.taskId) stop();
    else grace = setTimeout(stop, 1000);
  };
  state.onTaskId = () => {
    if (signal.aborted) stop();
  };
  if (signal.aborted) stop();
  else signal.addEventListener("abort", onAbort, { once: true });
  return {
    signal: io.signal,
    dispose() {
      signal.removeEventListener("abort", onAbort);
      if (grace) clearTimeout(grace);
    },
  };
}

async function cancelUpstream(opts: ForwardOptions, wire: Wire, taskId: string | undefined): Promise<void> {
  if (!taskId || !wire.cancel) return;
  const bound = AbortSignal.timeout(opts.cancelTimeoutMs ?? 3000);
  await wire.cancel(taskId, bound).catch(() => {});
}

function isNoStreaming(err: unknown): boolean {
  return err instanceof UpstreamError && err.kind === "rpc" && (err.code === -32601 || err.code === -32004);
}

async function* once<T>(p: Promise<T>): AsyncGenerator<T> {
  yield await p;
}
