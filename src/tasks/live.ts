import { isSettled } from "../a2a/types.ts";
import { taskNotFound } from "../errors.ts";
import type { AdmissionTicket } from "./admission.ts";
import { ContextQueues } from "./context-queue.ts";
import type { TaskRow } from "./repo.ts";
import type { EngineCore, LiveTask } from "./types.ts";

/** A stored task this peer owns, as a live task (not yet in `core.live`). */
export function liveFromRow(core: EngineCore, id: string, peer: string): LiveTask {
  const row = core.deps.repo.get(id);
  if (!row || row.peer !== peer) throw taskNotFound(id);
  return adopt(row);
}

export function adopt(row: TaskRow): LiveTask {
  return {
    id: row.id,
    peer: row.peer,
    profile: row.profile,
    contextId: row.contextId,
    origin: row.origin === "local" ? "local" : "a2a",
    createdAt: row.createdAt,
    pending: row.task,
    pendingSeq: row.seq,
    committed: row.task,
    committedSeq: row.seq,
    queueKey: ContextQueues.key(row.profile, row.peer, row.contextId),
  };
}

/**
 * Queue a turn of `live` behind the turns of its conversation. `live.done` resolves once it has
 * run; a settled task whose state is written then leaves `core.live`.
 */
export function enqueue(
  core: EngineCore,
  live: LiveTask,
  run: () => Promise<void>,
  ticket?: AdmissionTicket,
): void {
  let resolveDone: () => void = () => {};
  live.done = new Promise<void>((r) => {
    resolveDone = r;
  });
  live.busy = true;
  const start = () => {
    live.start = undefined;
    run()
      .catch((err) => core.deps.logger?.error({ err: String(err), task: live.id }, "turn failed to finish"))
      .finally(() => {
        live.busy = false;
        core.queues.release(live.queueKey);
        // a task whose state is still being written stays here (its state lives in memory)
        if (isSettled(live.pending.status.state) && !live.unwritten) core.live.delete(live.id);
        resolveDone();
      });
  };
  live.start = start;
  live.ticket = ticket;
  core.queues.enqueue(live.queueKey, start);
}
