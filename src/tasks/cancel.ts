import type { Task } from "../a2a/types.ts";
import { isTerminal } from "../a2a/types.ts";
import { taskNotCancelable, taskNotFound } from "../errors.ts";
import { adopt } from "./live.ts";
import { snapshot } from "./queries.ts";
import { settle } from "./recording.ts";
import { CancelReason, type EngineCore } from "./types.ts";

/**
 * Cancel a task this peer owns: a queued turn is dropped, a running one aborted (and awaited), an
 * interrupted one (input-required) released on its receiver's side. Returns the task after it.
 */
export async function cancel(core: EngineCore, id: string, peer: string): Promise<Task> {
  const live = core.live.get(id);
  if (!live) {
    const row = core.deps.repo.get(id);
    if (!row || row.peer !== peer) throw taskNotFound(id);
    if (isTerminal(row.state)) throw taskNotCancelable(id, row.state);
    // interrupted (input-required): nothing runs here; let the receiver release its side (best
    // effort: the task is canceled here whatever it answers)
    await core.deps.profiles
      .get(row.profile)
      ?.receiver.cancelWaiting?.({ taskId: id, peer, contextId: row.contextId })
      .catch((err) => core.deps.logger?.warn({ err: String(err), task: id }, "receiver did not release"));
    const l = adopt(row);
    core.live.set(id, l);
    await settle(core, l, "TASK_STATE_CANCELED", "canceled by the peer");
    if (!l.unwritten) core.live.delete(id);
    return l.committed;
  }
  if (live.peer !== peer) throw taskNotFound(id);
  if (isTerminal(live.pending.status.state)) throw taskNotCancelable(id, live.pending.status.state);
  if (live.start && core.queues.drop(live.queueKey, live.start)) {
    live.ticket?.refund();
    live.busy = false;
    await settle(core, live, "TASK_STATE_CANCELED", "canceled by the peer before it started");
    if (!live.unwritten) core.live.delete(id);
    return live.committed;
  }
  live.abort?.abort(new CancelReason("canceled by the peer"));
  await live.done;
  return snapshot(core, id, peer);
}
