import type { Message } from "../../a2a/types.ts";
import type { Timers } from "../../clock.ts";
import { sleep } from "../sleep.ts";
import type { Resumed } from "../types.ts";
import { follow, type Outage } from "./attach.ts";
import type { UpstreamCancels } from "./cancels.ts";
import type { Dialect } from "./dialect.ts";
import { failed, Progress, TurnFailure } from "./fold.ts";
import { abortNote } from "./outcome.ts";
import { afterTurn, type Inflight, type SessionSink, saveSession, type UpstreamSession } from "./session.ts";
import type { Binding, Wire } from "./wire.ts";

/** The relay task a restarted relay picks up, with the message of its turn. */
export interface ResumedTask {
  taskId: string;
  peer: string;
  contextId: string;
  message?: Message | undefined;
}

export interface ResumeDeps extends SessionSink {
  dialect: Dialect;
  timers?: Timers | undefined;
  now?: (() => number) | undefined;
  /** The wire to the upstream outside a turn (throws TurnFailure while its card cannot be read). */
  wireOf(task: ResumedTask, signal: AbortSignal): Promise<{ wire: Wire; url: string; binding: Binding }>;
  cancels: UpstreamCancels;
}

/**
 * A forwarded turn in flight when the previous process stopped: follow its upstream task until it
 * settles or the turn cap (as set before the restart) runs out. A continued turn whose message the
 * upstream task never got (its send was lost) sends it again, from the relay task's own record.
 */
export function resumeInflight(
  d: ResumeDeps,
  task: ResumedTask,
  saved: UpstreamSession,
  inflight: Inflight,
): Resumed {
  const key = { profile: d.profile, peer: task.peer, contextId: task.contextId };
  return {
    deadline: inflight.deadline,
    async run(emit, signal) {
      emit.resumable?.();
      emit.progress(`relay restarted: re-attaching to upstream task ${inflight.taskId}`);
      let target: Awaited<ReturnType<ResumeDeps["wireOf"]>>;
      for (let attempt = 0; ; attempt++) {
        try {
          target = await d.wireOf(task, signal);
          break;
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          // the upstream's card cannot be read yet (the path is still down): try again
          if (!(err instanceof TurnFailure) || err.reason !== "UPSTREAM_UNAVAILABLE") {
            return failed(err, undefined);
          }
          await sleep(Math.min(500 * 2 ** attempt, 4000), signal, d.timers);
        }
      }
      const st = new Progress(target.url, d.dialect.protocol, target.binding);
      st.taskId = inflight.taskId;
      st.contextId = saved.contextId;
      const again = resendParams(d.dialect, task, saved, inflight);
      let outage: Outage | undefined;
      try {
        const r = await follow(
          {
            d: d.dialect,
            wire: target.wire,
            params: again,
            messageId: again ? inflight.resend?.messageId : undefined,
            st,
            emit,
            signal,
            stream: true,
            timers: d.timers,
            now: d.now,
            attached: true,
          },
          (o) => {
            outage = o;
          },
        );
        const after = afterTurn(st.contextId, r, st.taskId, task.taskId);
        await saveSession(d, key, st.contextId ?? "", after, task.taskId, "the upstream conversation");
        return r;
      } catch (err) {
        if (!signal.aborted) return failed(err, st);
        emit.metadata?.(st.metadata());
        if ((signal.reason as { detach?: unknown })?.detach) throw signal.reason;
        const cancel = await d.cancels.request({
          relayTaskId: task.taskId,
          peer: task.peer,
          upstreamTaskId: inflight.taskId,
          since: Date.now(),
        });
        emit.abortNote?.(abortNote(st, outage, cancel));
        throw signal.reason;
      }
    },
  };
}

// internal

/**
 * The send of a continued turn, rebuilt as it went out before the restart (its messageId is
 * derived from the relay task's message, so it is the same message), if it is that turn's.
 */
function resendParams(d: Dialect, task: ResumedTask, saved: UpstreamSession, inflight: Inflight): unknown {
  const m = task.message;
  const resend = inflight.resend;
  if (!m || !resend || resend.messageId !== `${m.messageId}.${task.taskId}`) return undefined;
  return d.sendParams({
    messageId: resend.messageId,
    parts: m.parts,
    contextId: saved.contextId,
    taskId: inflight.taskId,
    metadata: m.metadata,
    extensions: m.extensions,
    referenceTaskIds: resend.referenceTaskIds ?? m.referenceTaskIds,
    request: resend.request,
  });
}
