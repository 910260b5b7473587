import { budgetExceeded } from "../errors.ts";
import type { LedgerStore } from "./store.ts";
import type { UseSource } from "./tally.ts";
import type { Delta, ProfileLimits } from "./usage.ts";
import { nextUtcMidnight, windowStart } from "./window.ts";

/**
 * `[peers.X.budget.profiles.P]`: limits of one peer on one profile, checked on top of the
 * peer's own. `newTurn` (at admission) also checks turns; at a turn's start only tokens and cost.
 */
export function checkProfile(
  store: LedgerStore,
  source: UseSource,
  peer: string,
  p: ProfileLimits,
  contextId: string,
  pending: readonly Delta[],
  now: number,
  newTurn: boolean,
): void {
  const since = windowStart(p.window, now);
  const { afterId } = store.reset(peer);
  const use = source.sums(since);
  let contextTurns =
    newTurn && p.maxTurnsPerContext !== undefined
      ? store.profileContextTurns(peer, p.profile, contextId, afterId)
      : 0;
  for (const d of pending) {
    if (d.profile !== p.profile) continue;
    if (d.contextId === contextId) contextTurns += d.turns;
    if (d.ts < since) continue;
    use.turns += d.turns;
    use.tokens += d.tokens;
    use.cost += d.cost;
  }
  const resetAt = p.window.kind === "daily" ? nextUtcMidnight(now) : undefined;
  const refuse = (limit: string, used: number, max: number, resets = true) =>
    budgetExceeded({
      peer,
      limit: `profiles.${p.profile}.${limit}`,
      used,
      max,
      resetAt: resets && resetAt !== undefined ? new Date(resetAt).toISOString() : undefined,
      retryAfterS: resets && resetAt !== undefined ? (resetAt - now) / 1000 : undefined,
    });
  if (newTurn && p.maxTurns !== undefined && use.turns + 1 > p.maxTurns)
    throw refuse("max_turns", use.turns, p.maxTurns);
  if (p.maxTokens !== undefined && use.tokens >= p.maxTokens)
    throw refuse("max_tokens", use.tokens, p.maxTokens);
  if (p.maxCostUsd !== undefined && use.cost >= p.maxCostUsd)
    throw refuse("max_cost_usd", use.cost, p.maxCostUsd);
  if (newTurn && p.maxTurnsPerContext !== undefined && contextTurns + 1 > p.maxTurnsPerContext) {
    throw refuse("max_turns_per_context", contextTurns, p.maxTurnsPerContext, false);
  }
}
