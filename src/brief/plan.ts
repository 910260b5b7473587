import type { Message, Task } from "../a2a/types.ts";
import { type Brief, parseBrief } from "./schema.ts";

export interface TurnPlan {
  brief?: Brief;
  /** The turn's cap: the profile's, lowered by the brief's `deadline_s` (never raised). */
  timeoutMs: number;
  /** Why the turn is stopped at the cap, after "turn exceeded ". */
  limitText: string;
  /** The brief is invalid (a path that skipped the edge check): the turn must not run. */
  error?: string;
}

/** What a turn's brief changes about how it runs. Pure; never throws. */
export function planTurn(message: Pick<Message, "parts" | "metadata">, profileTimeoutMs: number): TurnPlan {
  const profileText = `its turn cap of ${seconds(profileTimeoutMs)} s (turn_timeout_s)`;
  let brief: Brief | undefined;
  try {
    brief = parseBrief(message);
  } catch (err) {
    return { timeoutMs: profileTimeoutMs, limitText: profileText, error: (err as Error).message };
  }
  if (!brief) return { timeoutMs: profileTimeoutMs, limitText: profileText };
  const deadlineMs = brief.deadline_s === undefined ? Infinity : Math.ceil(brief.deadline_s * 1000);
  if (deadlineMs >= profileTimeoutMs) return { brief, timeoutMs: profileTimeoutMs, limitText: profileText };
  return { brief, timeoutMs: deadlineMs, limitText: `the brief's deadline_s (${seconds(deadlineMs)} s)` };
}

/** The task with the brief's `reply_to` kept in its metadata (`brief.reply_to`) for delivery. */
export function withReplyTo(task: Task, brief: Brief | undefined): Task {
  if (!brief?.reply_to) return task;
  const prev = task.metadata?.brief as Record<string, unknown> | undefined;
  return { ...task, metadata: { ...task.metadata, brief: { ...prev, reply_to: brief.reply_to } } };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}
