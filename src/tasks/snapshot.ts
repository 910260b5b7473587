import { isSettled, type StreamResponse, type Task } from "../a2a/types.ts";

/** Pure task-snapshot helpers: applying events and shaping what callers asked for. */

export function applyEvent(task: Task, event: StreamResponse): Task {
  if ("task" in event) return event.task;
  if ("statusUpdate" in event) {
    // A settling status carries the agent's answer: it joins the history, as in the A2A SDKs.
    const { status } = event.statusUpdate;
    const msg = status.message;
    if (msg && isSettled(status.state) && !(task.history ?? []).some((m) => m.messageId === msg.messageId)) {
      return { ...task, status, history: [...(task.history ?? []), msg] };
    }
    return { ...task, status };
  }
  if ("artifactUpdate" in event) {
    const { artifact, append } = event.artifactUpdate;
    const artifacts = [...(task.artifacts ?? [])];
    const i = artifacts.findIndex((a) => a.artifactId === artifact.artifactId);
    if (i < 0) artifacts.push(artifact);
    else if (append) {
      const prev = artifacts[i]!;
      artifacts[i] = { ...prev, parts: [...prev.parts, ...artifact.parts] };
    } else artifacts[i] = artifact;
    return { ...task, artifacts };
  }
  return { ...task, history: [...(task.history ?? []), event.message] };
}

/** The view a caller asked for: `historyLength` 0 drops history, N keeps the last N. */
export function view(task: Task, opts: { historyLength?: number; includeArtifacts?: boolean } = {}): Task {
  const out: Task = { id: task.id, contextId: task.contextId, status: task.status };
  if (opts.includeArtifacts !== false && task.artifacts?.length) out.artifacts = task.artifacts;
  const h = task.history ?? [];
  const n = opts.historyLength;
  const kept = n === undefined ? h : n === 0 ? [] : h.slice(-n);
  if (kept.length) out.history = kept;
  if (task.metadata && Object.keys(task.metadata).length) out.metadata = task.metadata;
  return out;
}
