import { partsText, type TaskState } from "../a2a/types.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { Activity } from "../status/activity.ts";
import type { TurnMessage } from "../tasks/engine.ts";

/**
 * One log line per settled turn (task, context, peer, profile, handler, state, ms, queue_ms, tokens,
 * cost, reason), the status page's recent tasks, and the upstream-failure counter.
 */
export function settledTaskLog(config: Config, activity: Activity, metrics: Metrics, logger: Logger) {
  return (m: TurnMessage, state: TaskState, ms: number, queueMs?: number): void => {
    const p = config.profiles[m.profile];
    const handler = p?.handler ?? (p?.remote ? "remote" : "?");
    const ok = state === "TASK_STATE_COMPLETED" || state === "TASK_STATE_INPUT_REQUIRED";
    const reason = ok ? undefined : partsText(m.message.parts).slice(0, 500);
    const tokens = m.usage ? (m.usage.inputTokens ?? 0) + (m.usage.outputTokens ?? 0) : undefined;
    activity.settled({
      taskId: m.taskId,
      contextId: m.contextId,
      peer: m.peer,
      profile: m.profile,
      handler,
      state,
      ms,
      tokens,
      costUsd: m.usage?.costUsd,
      reason,
      at: Date.now(),
    });
    if (
      !ok &&
      reason &&
      /^upstream |^receiver error/i.test(reason) &&
      ["a2a", "remote", "llm"].includes(handler)
    ) {
      metrics.upstreamFailures.inc({ profile: m.profile, reason: reason.split(":")[0]!.slice(0, 40) });
    }
    const fields = {
      event: "task",
      task: m.taskId,
      context: m.contextId,
      peer: m.peer,
      profile: m.profile,
      handler,
      state: state.replace("TASK_STATE_", "").toLowerCase(),
      ms,
      ...(queueMs !== undefined ? { queue_ms: queueMs } : {}),
      ...(tokens !== undefined ? { tokens } : {}),
      ...(m.usage?.costUsd !== undefined ? { cost_usd: m.usage.costUsd } : {}),
      ...(reason ? { reason } : {}),
    };
    if (ok) logger.info(fields, "task settled");
    else logger.warn(fields, "task failed");
  };
}
