import type { SessionKey, SessionStore } from "../../store/sessions.ts";
import type { RequestExtras, TurnResult } from "../types.ts";
import type { Binding } from "./wire.ts";

/** What an `a2a` profile keeps per (profile, peer, conversation) in the sessions table. */
export type UpstreamSession = {
  contextId?: string | undefined;
  /** The upstream task waiting for input, and the relay task it belongs to. */
  taskId?: string;
  relayTaskId?: string;
  /** A queued receiver's post-back the relay task waits for, and when its turn cap runs out. */
  waiting?: { relayTaskId: string; deadline: number };
  /** The upstream task of a turn in flight: a restarted relay re-attaches to it until `deadline`. */
  inflight?: Inflight;
};

export interface Inflight {
  relayTaskId: string;
  taskId: string;
  deadline: number;
  binding?: Binding;
  /**
   * A continued turn (its upstream task known before its message is delivered): the messageId it
   * sends and the request's extras, so a restarted relay that finds the message never arrived can
   * send it again (the message itself is the relay task's).
   */
  resend?: { messageId: string; request?: RequestExtras | undefined; referenceTaskIds?: string[] };
}

/**
 * The conversation after a turn that ended with `result`: its upstream context, and the upstream
 * task while it waits for input (the conversation's next message goes to that task).
 */
export function afterTurn(
  contextId: string | undefined,
  result: TurnResult,
  upstreamTaskId: string | undefined,
  relayTaskId: string,
): UpstreamSession {
  const waiting = result.state === "TASK_STATE_INPUT_REQUIRED" ? upstreamTaskId : undefined;
  return { contextId, ...(waiting ? { taskId: waiting, relayTaskId } : {}) };
}

/** Where the conversation is kept, and where a failed write of it is told. */
export interface SessionSink {
  profile: string;
  sessions: () => SessionStore | undefined;
  log?: ((fields: Record<string, unknown>, msg: string) => void) | undefined;
}

/** Write the conversation (`what` names it in the log line if the write fails). */
export function saveSession(
  o: SessionSink,
  key: SessionKey,
  contextId: string,
  data: UpstreamSession,
  relayTaskId: string,
  what: string,
): Promise<void> {
  return (
    o
      .sessions()
      ?.put(key, contextId, data)
      .catch((err) =>
        o.log?.({ profile: o.profile, taskId: relayTaskId, err: String(err) }, `could not record ${what}`),
      ) ?? Promise.resolve()
  );
}
