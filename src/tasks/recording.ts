import type { Message, StreamResponse, Task, TaskState } from "../a2a/types.ts";
import { isSettled } from "../a2a/types.ts";
import { applyEvent } from "./snapshot.ts";
import type { EngineCore, LiveTask, ResolvedDeps } from "./types.ts";

/**
 * Record an event: compute the new snapshot now, publish it after its commit. Never rejects: if
 * the write fails, the state is kept and published from memory (waiting callers get their
 * answer) and written again, in order, with backoff until it lands (see `rewrite`).
 */
export function record(core: EngineCore, live: LiveTask, event: StreamResponse): Promise<void> {
  const { deps } = core;
  const task = applyEvent(live.pending, event);
  const seq = ++live.pendingSeq;
  live.pending = task;
  const now = deps.now();
  if (live.unwritten) {
    // earlier writes of this task failed: this one waits its turn behind them
    live.unwritten.push({ seq, event, ts: now });
    publish(core, live, seq, event, task);
    return Promise.resolve();
  }
  const sink = deps.events;
  return deps.writer
    .run(
      () => {
        const { repo, writer } = deps;
        repo.appendEvent(live.id, seq, now, event);
        // a fast turn changes its task several times in one transaction: write the row once
        writer.defer(`tasks:${live.id}`, () => repo.writeSnapshot(live.id, task, seq, now));
        return sink?.written(live.id, event, task) ?? false;
      },
      () => publish(core, live, seq, event, task),
    )
    .then(
      (queued) => {
        if (queued) sink?.committed();
      },
      (err) => {
        deps.storage?.failed(err);
        live.unwritten ??= [];
        live.unwritten.push({ seq, event, ts: now });
        publish(core, live, seq, event, task);
        rewrite(core, live);
      },
    );
}

/**
 * `record` for a caller that does not wait (a turn's progress): an error past the failed-write
 * path (a push sink that throws) is logged, never dropped.
 */
export function recordLater(core: EngineCore, live: LiveTask, event: StreamResponse): void {
  record(core, live, event).catch((err) =>
    core.deps.logger?.warn({ err: String(err), task: live.id }, "task event not recorded"),
  );
}

export function settle(core: EngineCore, live: LiveTask, state: TaskState, text: string): Promise<void> {
  const status = { state, message: agentMessage(core.deps, live.pending, text), timestamp: iso(core.deps) };
  return record(core, live, { statusUpdate: { taskId: live.id, contextId: live.contextId, status } });
}

export function agentMessage(
  deps: ResolvedDeps,
  task: Pick<Task, "id" | "contextId">,
  text: string,
): Message {
  return {
    messageId: deps.newId(),
    role: "ROLE_AGENT",
    parts: [{ text }],
    taskId: task.id,
    contextId: task.contextId,
  };
}

export function iso(deps: ResolvedDeps): string {
  return new Date(deps.now()).toISOString();
}

/** Wait `ms` on the engine's timers; a real timer does not keep the process alive. */
export function sleep(timers: ResolvedDeps["timers"], ms: number): Promise<void> {
  return new Promise((r) => {
    const h = timers.setTimeout(r, ms) as { unref?: () => void } | undefined;
    h?.unref?.();
  });
}

// internal

function publish(core: EngineCore, live: LiveTask, seq: number, event: StreamResponse, task: Task): void {
  if (seq > live.committedSeq) {
    live.committed = task;
    live.committedSeq = seq;
  }
  core.bus.publish(live.id, { seq, event, task });
}

/** Write a task's unwritten events and latest snapshot again, with backoff, until it lands. */
function rewrite(core: EngineCore, live: LiveTask): void {
  if (live.rewriting) return;
  live.rewriting = true;
  const { repo, writer, storage, timers } = core.deps;
  storage?.strand(live.id, true);
  const sink = core.deps.events;
  let waitMs = 100;
  const attempt = async (): Promise<void> => {
    let batch: NonNullable<LiveTask["unwritten"]> = [];
    try {
      const queued = await writer.run(() => {
        batch = (live.unwritten ?? []).splice(0);
        let q = false;
        for (const e of batch) {
          repo.appendEvent(live.id, e.seq, e.ts, e.event);
          q = (sink?.written(live.id, e.event, live.pending) ?? false) || q;
        }
        repo.writeSnapshot(live.id, live.pending, live.pendingSeq, core.deps.now());
        return q;
      });
      if (queued) sink?.committed();
    } catch (err) {
      live.unwritten = [...batch, ...(live.unwritten ?? [])];
      storage?.failed(err);
      await sleep(timers, waitMs);
      waitMs = Math.min(waitMs * 2, 5000);
      return attempt();
    }
    if (live.unwritten?.length) return attempt();
    live.unwritten = undefined;
    live.rewriting = false;
    storage?.strand(live.id, false);
    if (!live.busy && isSettled(live.pending.status.state) && core.live.get(live.id) === live) {
      core.live.delete(live.id);
    }
  };
  attempt().catch((err) =>
    core.deps.logger?.error({ err: String(err), task: live.id }, "task state not rewritten"),
  );
}
