import type { ListTasksParams, ListTasksResult, Task } from "../a2a/types.ts";
import { isSettled } from "../a2a/types.ts";
import { taskNotFound } from "../errors.ts";
import type { TaskReference } from "../receivers/types.ts";
import type { TaskEvent } from "./bus.ts";
import { decodePageToken, encodePageToken } from "./page-token.ts";
import { view } from "./snapshot.ts";
import type { EngineCore } from "./types.ts";

/** The committed snapshot of a task this peer owns. */
export function snapshot(core: EngineCore, id: string, peer: string): Task {
  return current(core, id, peer).task;
}

/** The committed snapshot of a task this peer owns, with the profile it runs on. */
export function owned(core: EngineCore, id: string, peer: string): { task: Task; profile: string } {
  const { task, profile } = current(core, id, peer);
  return { task, profile };
}

/** At most this many of a message's `referenceTaskIds` are looked up. */
const MAX_REFERENCES = 64;

/** Of `ids`, the tasks that are `peer`'s own, with their profile and metadata; others are left out. */
export function referenced(
  core: EngineCore,
  ids: readonly string[],
  peer: string,
): Record<string, TaskReference> {
  const found: Record<string, TaskReference> = {};
  for (const id of ids.slice(0, MAX_REFERENCES)) {
    const live = core.live.get(id);
    const row = live ? undefined : core.deps.repo.get(id);
    const owner = live?.peer ?? row?.peer;
    const task = live?.committed ?? row?.task;
    const profile = live?.profile ?? row?.profile;
    if (owner !== peer || !task || !profile) continue;
    found[id] = { profile, ...(task.metadata ? { metadata: task.metadata } : {}) };
  }
  return found;
}

/** Snapshot plus subscription, atomically: events after the snapshot reach `fn`. */
export function watch(
  core: EngineCore,
  id: string,
  peer: string,
  fn: (e: TaskEvent) => void,
): { task: Task; seq: number; stop: () => void } {
  const { task, seq } = current(core, id, peer);
  const stop = core.bus.subscribe(id, (e) => {
    if (e.seq > seq) fn(e);
  });
  return { task, seq, stop };
}

/**
 * Resolve with the task once it reaches a terminal or interrupted state (or `signal` aborts). When
 * `stopped` aborts first (the relay stopped; the turn goes on in the next process), resolve with the
 * task as it stands, so that the caller is answered and the listener can close.
 */
export function waitSettled(
  core: EngineCore,
  id: string,
  peer: string,
  signal?: AbortSignal,
  stopped?: AbortSignal,
): Promise<Task> {
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const finish = (t: Task) => {
      stop();
      signal?.removeEventListener("abort", onAbort);
      stopped?.removeEventListener("abort", onStopped);
      resolve(t);
    };
    const onAbort = () => {
      stop();
      stopped?.removeEventListener("abort", onStopped);
      reject(signal?.reason);
    };
    let latest: Task | undefined;
    const onStopped = () => finish(latest ?? w.task);
    const w = watch(core, id, peer, (e) => {
      latest = e.task;
      if (isSettled(e.task.status.state)) finish(e.task);
    });
    stop = w.stop;
    if (isSettled(w.task.status.state)) return finish(w.task);
    if (stopped?.aborted) return onStopped();
    signal?.addEventListener("abort", onAbort, { once: true });
    stopped?.addEventListener("abort", onStopped, { once: true });
  });
}

/** The profile a task belongs to (undefined if unknown). */
export function profileOf(core: EngineCore, id: string): string | undefined {
  return core.live.get(id)?.profile ?? core.deps.repo.get(id)?.profile;
}

export function list(core: EngineCore, peer: string, p: ListTasksParams, profile?: string): ListTasksResult {
  const pageSize = p.pageSize ?? 50;
  const before = p.pageToken ? decodePageToken(p.pageToken) : undefined;
  const { rows, total } = core.deps.repo.list({
    peer,
    profile,
    contextId: p.contextId,
    state: p.status,
    updatedAfter: p.statusTimestampAfter ? Date.parse(p.statusTimestampAfter) : undefined,
    before,
    limit: pageSize + 1,
  });
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    tasks: page.map((r) =>
      view(core.live.get(r.id)?.committed ?? r.task, {
        historyLength: p.historyLength ?? 0,
        includeArtifacts: p.includeArtifacts ?? false,
      }),
    ),
    nextPageToken: rows.length > pageSize && last ? encodePageToken(last.updatedAt, last.id) : "",
    pageSize,
    totalSize: total,
  };
}

// internal

/** The committed state of a task this peer owns: from memory while it is live, else its row. */
function current(core: EngineCore, id: string, peer: string): { task: Task; seq: number; profile: string } {
  const live = core.live.get(id);
  if (live) {
    if (live.peer !== peer) throw taskNotFound(id);
    return { task: live.committed, seq: live.committedSeq, profile: live.profile };
  }
  const row = core.deps.repo.get(id);
  if (!row || row.peer !== peer) throw taskNotFound(id);
  return { task: row.task, seq: row.seq, profile: row.profile };
}
