import type { StreamResponse } from "../a2a/types.ts";
import { adopt, enqueue } from "./live.ts";
import { agentMessage, settle, sleep } from "./recording.ts";
import { applyEvent } from "./snapshot.ts";
import { resumeTurn } from "./turn.ts";
import { CancelReason, type EngineCore } from "./types.ts";

/**
 * Tasks left queued or running by a previous process: a turn its receiver can still finish (a
 * queued receiver's post-back) waits again; every other one is marked FAILED. Call once at start.
 * Returns how many failed.
 */
export async function recover(core: EngineCore): Promise<number> {
  const { deps } = core;
  const now = deps.now();
  for (const p of deps.profiles.values()) p.receiver.recover?.();
  const rows = deps.repo.unfinished().filter((row) => {
    const profile = deps.profiles.get(row.profile);
    const resumed = profile?.receiver.resume?.({
      taskId: row.id,
      peer: row.peer,
      contextId: row.contextId,
      message: row.task.history?.findLast((m) => m.role === "ROLE_USER"),
    });
    if (!profile || !resumed) return true;
    const live = adopt(row);
    core.live.set(row.id, live);
    enqueue(core, live, () => resumeTurn(core.turns, live, profile, resumed));
    return false;
  });
  await Promise.all(
    rows.map((row) => {
      const status = {
        state: "TASK_STATE_FAILED" as const,
        message: agentMessage(deps, row.task, "relay restarted while this task was queued or running"),
        timestamp: new Date(now).toISOString(),
      };
      const event: StreamResponse = { statusUpdate: { taskId: row.id, contextId: row.contextId, status } };
      const task = applyEvent(row.task, event);
      return deps.writer.run(() => deps.repo.update(row.id, task, row.seq + 1, now, event));
    }),
  );
  return rows.length;
}

/** Stop taking turns; wait up to `graceMs` for running ones, then fail what is left. */
export async function shutdown(core: EngineCore, graceMs: number): Promise<void> {
  core.closing = true;
  // turns that only wait for a post-back go on in the next process: nothing to wait for here
  for (const l of core.live.values()) {
    if (l.detachable) l.abort?.abort(new CancelReason("relay shutting down", "TASK_STATE_WORKING", true));
  }
  const running = [...core.live.values()];
  const all = Promise.all(running.map((l) => l.done));
  await Promise.race([all, sleep(core.deps.timers, graceMs)]);
  for (const l of core.live.values()) {
    if (l.start) core.queues.drop(l.queueKey, l.start);
    l.abort?.abort(
      l.resumable
        ? new CancelReason("relay shutting down", "TASK_STATE_WORKING", true)
        : new CancelReason("relay shutting down", "TASK_STATE_FAILED"),
    );
    if (!l.abort) {
      l.ticket?.refund();
      await settle(core, l, "TASK_STATE_FAILED", "relay shut down before this task started");
    }
  }
  await Promise.all([...core.live.values()].map((l) => l.done));
}
