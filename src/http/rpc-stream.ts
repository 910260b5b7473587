import {
  isSettled,
  isTerminal,
  isUserMessageEvent,
  type Message,
  type StreamResponse,
  type Task,
} from "../a2a/types.ts";
import { eventToV03, messageToV03 } from "../a2a/v03.ts";
import type { Engine } from "../tasks/engine.ts";
import { view } from "../tasks/snapshot.ts";
import type { RpcCall, RpcOutcome } from "./types.ts";

/**
 * An upstream agent that answered with a Message (not a task) is answered to the caller with that
 * Message, as a transparent proxy would; the relay keeps its own task record of the turn.
 */
export function upstreamMessage(task: Task): Message | undefined {
  const up = task.metadata?.upstream as { reply?: unknown } | undefined;
  const reply = task.status.message;
  if (up?.reply !== "message" || task.status.state !== "TASK_STATE_COMPLETED" || !reply) return undefined;
  const { taskId: _, ...message } = reply;
  return message;
}

/**
 * A task's events as a stream. A streaming send ends at a terminal or interrupted state (the
 * caller must answer); a subscription ends only at a terminal one (spec 3.1.6): it goes on across
 * INPUT_REQUIRED and AUTH_REQUIRED while the task is continued.
 *
 * When the relay stops, a stream does not hold the stop: one whose task is interrupted (or becomes
 * so during the stop) ends at once, after its last event; once the engine's shutdown is over (the
 * grace spent, the turns that could finish settled) every stream still open ends. Nothing is
 * written to the task: the stream just ends, and the caller subscribes again after the restart.
 */
export function streamTask(
  engine: Engine,
  call: RpcCall,
  taskId: string,
  until: "settled" | "terminal",
  /** A forwarded send: hold the relay's own first events until the upstream says something. */
  forwarded = false,
  /** The caller's `historyLength` for the first event's task (a relay in front asks for 0). */
  historyLength?: number,
): RpcOutcome {
  const ends = until === "terminal" ? isTerminal : isSettled;
  call.keepOpen();
  return {
    kind: "stream",
    start(push, end) {
      const frame = (seq: number, e: StreamResponse) =>
        push({ id: seq, data: call.dialect === "1.0" ? e : eventToV03(e) });
      // the relay's snapshot and its bare WORKING are held back until the upstream's first word:
      // an upstream that answers with a Message then streams that one Message, as it would directly
      let held: Array<{ seq: number; event: StreamResponse }> | undefined = forwarded ? [] : undefined;
      const flush = () => {
        for (const h of held ?? []) frame(h.seq, h.event);
        held = undefined;
      };
      // an interrupted task has no turn to finish while the relay stops: its stream ends
      let interrupted = false;
      const w = engine.watch(taskId, call.peer.name, (e) => {
        if (isUserMessageEvent(e.event)) return;
        interrupted = isSettled(e.task.status.state);
        const settledNow = ends(e.task.status.state) || (interrupted && engine.stopping.aborted);
        if (held && settledNow) {
          const message = upstreamMessage(e.task);
          if (message) {
            push({ id: e.seq, data: call.dialect === "1.0" ? { message } : messageToV03(message) });
            return end();
          }
        }
        if (held && !settledNow && isBookkeeping(e.event)) return void held.push(e);
        flush();
        frame(e.seq, e.event);
        if (settledNow) end();
      });
      const first = { task: view(w.task, { historyLength }) };
      if (held) held.push({ seq: w.seq, event: first });
      else frame(w.seq, first);
      interrupted = isSettled(w.task.status.state);
      const stop = () => {
        flush();
        end();
      };
      const onStopping = () => {
        if (interrupted) stop();
      };
      if (ends(w.task.status.state) || engine.stopped.aborted) stop();
      else if (engine.stopping.aborted) onStopping();
      engine.stopping.addEventListener("abort", onStopping, { once: true });
      engine.stopped.addEventListener("abort", stop, { once: true });
      return () => {
        engine.stopping.removeEventListener("abort", onStopping);
        engine.stopped.removeEventListener("abort", stop);
        w.stop();
      };
    },
  };
}

/** The relay's own events of a forwarded turn: its start (WORKING, no message). */
function isBookkeeping(e: StreamResponse): boolean {
  return "statusUpdate" in e && !e.statusUpdate.status.message && !e.statusUpdate.metadata;
}
