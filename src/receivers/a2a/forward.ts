import { textOf } from "../../a2a/types.ts";
import type { Timers } from "../../clock.ts";
import type { FetchFn } from "../../fetch.ts";
import type { SessionStore } from "../../store/sessions.ts";
import type { Receiver, TaskReference, Turn, TurnResult } from "../types.ts";
import { follow, type Outage } from "./attach.ts";
import { UpstreamCancels } from "./cancels.ts";
import type { Dialect } from "./dialect.ts";
import { failed, Progress, TurnFailure } from "./fold.ts";
import type { Upstream } from "./http.ts";
import { abortNote, neverReached, postbackNote, postbackResult, refusedOutright } from "./outcome.ts";
import { isQueuedAck, type Postbacks } from "./postbacks.ts";
import { type ResumedTask, resumeInflight } from "./resume.ts";
import { afterTurn, type Inflight, saveSession, type UpstreamSession } from "./session.ts";
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
   * send this turn, and what to add to its failure when the upstream refuses it outright (`hint`);
   * may throw TurnFailure.
   */
  target(
    turn: Turn,
    signal: AbortSignal,
  ): Promise<{ url: string; headers: Record<string, string>; binding?: Binding; hint?: string }>;
  fetch: FetchFn;
  /** How long the upstream has to accept a connection (`server.connect_timeout_s`). */
  connectTimeoutMs?: number | undefined;
  sessions: () => SessionStore | undefined;
  log?: ((fields: Record<string, unknown>, msg: string) => void) | undefined;
  newId?: () => string;
  /** Bound on the best-effort upstream CancelTask after an abort. */
  cancelTimeoutMs?: number;
  /**
   * hermes-fleet with `reply_peer`: an answer ending in "[queued]" is an acknowledgement, and the
   * turn waits here for the receiver's post-back.
   */
  postbacks?: Postbacks | undefined;
  /** Timers and clock of the re-attach backoff (default the runtime's). */
  timers?: Timers | undefined;
  now?: (() => number) | undefined;
}

export function forwardingReceiver(kind: string, opts: ForwardOptions): Receiver {
  const newId = opts.newId ?? (() => crypto.randomUUID());
  /** The wire to the upstream outside a turn (a cancel, a re-attach after a restart). */
  const wireOf = async (task: ResumedTask, signal: AbortSignal) => {
    const probe = {
      ...task,
      profile: opts.profile,
      origin: "a2a",
      message: { messageId: "", role: "ROLE_USER", parts: [] },
      history: [],
      timeoutMs: 3000,
    } as unknown as Turn;
    const t = await opts.target(probe, signal);
    const binding = t.binding ?? "jsonrpc";
    return { wire: wireFor(binding, opts.dialect, upstream(opts, t)), url: t.url, binding };
  };
  const cancels = new UpstreamCancels({
    profile: opts.profile,
    sessions: opts.sessions,
    log: opts.log,
    tryMs: opts.cancelTimeoutMs ?? 3000,
    wire: async (c, signal) =>
      (await wireOf({ taskId: c.relayTaskId, peer: c.peer, contextId: "" }, signal)).wire,
  });
  return {
    kind,
    async run(turn, emit, signal): Promise<TurnResult> {
      const began = Date.now();
      let up: Upstream;
      let wire: Wire;
      let binding: Binding;
      let hint: string | undefined;
      try {
        const t = await opts.target(turn, signal);
        hint = t.hint;
        up = upstream(opts, t);
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
      const deadline = began + turn.timeoutMs;
      // the upstream task is written down as soon as it is known: a restart re-attaches to it,
      // and a shutdown leaves the turn to the next process instead of failing it
      const remember = () => {
        if (!state.taskId || opts.dialect.protocol === "hermes-fleet") return;
        emit.metadata?.(state.metadata());
        emit.resumable?.();
        const inflight: Inflight = { relayTaskId: turn.taskId, taskId: state.taskId, deadline, binding };
        if (continuing)
          inflight.resend = {
            messageId: out.messageId,
            request: turn.request,
            // as sent (none left is an empty list, not the relay's ids again)
            ...(m.referenceTaskIds?.length ? { referenceTaskIds: out.referenceTaskIds ?? [] } : {}),
          };
        const contextId = state.contextId ?? saved.contextId;
        void saveSession(
          opts,
          key,
          contextId ?? "",
          { ...saved, contextId, inflight },
          turn.taskId,
          "the upstream task",
        );
      };
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
        referenceTaskIds: upstreamReferences(m.referenceTaskIds, turn.references, up.url),
        request: turn.request,
      };
      const link = linkAbort(signal, state, remember);
      if (continuing) remember();
      let outage: Outage | undefined;
      // opened before the dispatch: a fast receiver's post-back may beat its own acknowledgement
      const slot =
        opts.postbacks && out.contextId
          ? opts.postbacks.open(opts.profile, out.contextId, turn.taskId)
          : undefined;
      let late = false;
      let result: TurnResult | undefined;
      try {
        result = await follow(
          {
            d: opts.dialect,
            wire,
            params: opts.dialect.sendParams(out),
            st: state,
            // a caller that only waits for the outcome gets no progress (as a blocking call would)
            emit: turn.progress === false ? { ...emit, progress: () => {} } : emit,
            signal: link.signal,
            // streamed whenever the wire can: its first event names the upstream task
            stream: true,
            messageId: out.messageId,
            timers: opts.timers,
            now: opts.now,
          },
          (o) => {
            outage = o;
          },
        );
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
        if (!signal.aborted)
          result = failed(refusedOutright(neverReached(err, state), state, opts.profile, hint), state);
      } finally {
        link.dispose();
        slot?.close(late);
      }
      if (signal.aborted || !result) {
        // the link to the upstream task survives a cancel or a timeout
        emit.metadata?.(state.metadata());
        // a shutdown hands the turn to the next process: the upstream task goes on
        if ((signal.reason as { detach?: unknown })?.detach) throw signal.reason;
        const cancel = state.taskId
          ? await cancels.request({
              relayTaskId: turn.taskId,
              peer: turn.peer,
              upstreamTaskId: state.taskId,
              since: Date.now(),
            })
          : undefined;
        emit.abortNote?.(
          late && out.contextId
            ? postbackNote(out.contextId, up.url, slot?.refusedFrom())
            : abortNote(state, outage, cancel),
        );
        throw signal.reason;
      }
      if (state.contextId || saved.contextId) {
        // not awaited (a commit round per turn): the writer commits in order, so the session is on
        // disk before the turn's final state, and the conversation's next turn starts after that
        const after = afterTurn(state.contextId, result, state.taskId, turn.taskId);
        void saveSession(opts, key, state.contextId ?? "", after, turn.taskId, "the upstream conversation");
      }
      return result;
    },
    resume(task) {
      const key = { profile: opts.profile, peer: task.peer, contextId: task.contextId };
      const saved = (opts.sessions()?.get(key)?.data ?? {}) as UpstreamSession;
      const inflight = saved.inflight;
      if (inflight?.relayTaskId === task.taskId) {
        const deps = { ...opts, wireOf, cancels, timers: opts.timers, now: opts.now };
        return resumeInflight(deps, task, saved, inflight);
      }
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
            if (signal.aborted) emit.abortNote?.(postbackNote(fleetCtx, undefined, slot.refusedFrom()));
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
    recover() {
      cancels.resumePending();
    },
    async cancelWaiting(task) {
      const key = { profile: opts.profile, peer: task.peer, contextId: task.contextId };
      const saved = (opts.sessions()?.get(key)?.data ?? {}) as UpstreamSession;
      if (saved.relayTaskId !== task.taskId || !saved.taskId) return;
      await cancels.request({
        relayTaskId: task.taskId,
        peer: task.peer,
        upstreamTaskId: saved.taskId,
        since: Date.now(),
      });
    },
  };
}

// internal

function upstream(opts: ForwardOptions, t: { url: string; headers: Record<string, string> }): Upstream {
  return {
    url: t.url,
    headers: { ...opts.dialect.headers, ...t.headers },
    fetch: opts.fetch,
    connectTimeoutMs: opts.connectTimeoutMs,
  };
}

/**
 * The signal for upstream I/O. On abort it fires at once if the upstream task id is known, else
 * when it becomes known or after a second: so a cancel that comes early can still name the task.
 */
function linkAbort(signal: AbortSignal, state: Progress, known: () => void) {
  const io = new AbortController();
  const stop = () => io.abort(signal.reason);
  let grace: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    if (state.taskId) stop();
    else grace = setTimeout(stop, 1000);
  };
  state.onTaskId = () => {
    known();
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

/**
 * A message's `referenceTaskIds` as this upstream knows them: a task of the relay that was a turn
 * on the same upstream becomes the upstream's task; one that was not (another upstream, a local
 * receiver) is left out, since the id means nothing there; an id that names no task of this peer's
 * is passed on as it came.
 */
function upstreamReferences(
  ids: string[] | undefined,
  references: Record<string, TaskReference> | undefined,
  url: string,
): string[] | undefined {
  if (!ids?.length) return ids;
  const out = new Set<string>();
  for (const id of ids) {
    const ref = references?.[id];
    if (!ref) {
      out.add(id);
      continue;
    }
    const up = ref.metadata?.upstream as { url?: unknown; taskId?: unknown } | undefined;
    if (up?.url === url && typeof up.taskId === "string") out.add(up.taskId);
  }
  return out.size ? [...out] : undefined;
}
