import {
  type Artifact,
  type Message,
  partsText,
  type StreamResponse,
  TASK_STATES,
  type Task,
  type TaskState,
} from "../a2a/types.ts";

/** Human-readable renderings of tasks and stream events, shared by `send` and `tasks`. */

/** `TASK_STATE_INPUT_REQUIRED` → `input-required`. */
export function stateName(s: TaskState | string): string {
  return s
    .replace(/^TASK_STATE_/, "")
    .toLowerCase()
    .replace(/_/g, "-");
}

/** `completed`, `input-required` or `TASK_STATE_COMPLETED` → the v1.0 enum; undefined if unknown. */
export function parseState(s: string): TaskState | undefined {
  const v = `TASK_STATE_${s
    .replace(/^TASK_STATE_/i, "")
    .toUpperCase()
    .replace(/-/g, "_")}`;
  return (TASK_STATES as readonly string[]).includes(v) ? (v as TaskState) : undefined;
}

export function messageText(m: Message | undefined): string {
  return partsText(m?.parts);
}

/** What `send` prints for a settled task: its artifacts' text, else its status message. */
export function finalText(t: Task): string {
  const fromArtifacts = (t.artifacts ?? []).map((a: Artifact) => partsText(a.parts)).filter(Boolean);
  if (fromArtifacts.length) return fromArtifacts.join("\n");
  return messageText(t.status.message);
}

/** One line per stream event, for `send --stream`. */
export function eventLine(e: StreamResponse): string {
  if ("task" in e) {
    const t = e.task;
    return `task ${t.id} (context ${t.contextId}): ${stateName(t.status.state)}`;
  }
  if ("statusUpdate" in e) {
    const s = e.statusUpdate.status;
    const text = messageText(s.message);
    return `${stateName(s.state)}${text ? `: ${oneLine(text)}` : ""}`;
  }
  if ("artifactUpdate" in e) {
    const a = e.artifactUpdate.artifact;
    return `artifact ${a.name ?? a.artifactId}: ${oneLine(partsText(a.parts))}`;
  }
  return `message: ${oneLine(messageText(e.message))}`;
}

/** One line per task, for `tasks list`. */
export function taskRow(t: Task): string[] {
  const text = messageText(t.status.message) || messageText(t.history?.[t.history.length - 1]);
  return [t.id, stateName(t.status.state), t.contextId, t.status.timestamp ?? "", clip(oneLine(text), 50)];
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

// internal

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ⏎ ").trim();
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
