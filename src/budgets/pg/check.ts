import { budgetExceeded, type RelayError } from "../../errors.ts";
import type { Sums } from "../store.ts";
import type { UseRow, UseSource } from "../tally.ts";
import { type PeerBudget, resetTime, windowLimits } from "../usage.ts";
import { nextUtcMidnight, windowStart } from "../window.ts";
import type { Gates, PeerUse } from "./wire.ts";

/** A limit the next turn would cross: turned into -32042 once its reset time is known. */
export interface Refusal {
  limit: string;
  used: number;
  max: number;
  /** A window limit of the peer: its reset time needs the window's rows (read after the rollback). */
  field?: keyof Sums;
  resetAt?: number | undefined;
}

/** The windows and limits the database checks one turn of peer `b` on `profile` against. */
export function gatesOf(b: PeerBudget, profile: string, contextId: string, now: number): Gates {
  const p = b.profiles.get(profile);
  return {
    peer: b.peer,
    profile,
    contextId,
    wnd: b.window.text,
    since: windowStart(b.window, now),
    pwnd: p ? p.window.text : null,
    psince: p ? windowStart(p.window, now) : null,
    maxTurns: b.maxTurns ?? null,
    maxTokens: b.maxTokens ?? null,
    maxCost: b.maxCostUsd ?? null,
    maxInflight: b.maxConcurrent === undefined ? null : b.maxConcurrent + b.maxQueued,
    maxConcurrent: b.maxConcurrent ?? null,
    maxCtx: b.maxTurnsPerContext ?? null,
    pmaxTurns: p?.maxTurns ?? null,
    pmaxTokens: p?.maxTokens ?? null,
    pmaxCost: p?.maxCostUsd ?? null,
    pmaxCtx: p?.maxTurnsPerContext ?? null,
  };
}

/**
 * Which limit refuses a turn, from the use the database read (it refused; this names why, in
 * the same order as a2a_relay_admit/a2a_relay_start check): at admission (`newTurn`) the queue
 * bound, the window limits, the profile's and the conversation's; at a start only tokens and cost.
 */
export function refusalOf(
  b: PeerBudget,
  profile: string,
  use: PeerUse,
  now: number,
  newTurn: boolean,
): Refusal | undefined {
  if (newTurn && b.maxConcurrent !== undefined && use.inflight >= b.maxConcurrent + b.maxQueued) {
    return { limit: "max_queued", used: use.inflight - use.running, max: b.maxQueued };
  }
  for (const l of windowLimits(b)) {
    if (!newTurn && l.field === "turns") continue;
    const used = use[l.field];
    if (l.field === "turns" ? used + 1 > l.max : used >= l.max) {
      return {
        limit: l.limit,
        used: l.field === "cost" ? Math.round(used * 1e6) / 1e6 : used,
        max: l.max,
        field: l.field,
      };
    }
  }
  const p = b.profiles.get(profile);
  if (p && use.profile) {
    const u = use.profile;
    const resetAt = p.window.kind === "daily" ? nextUtcMidnight(now) : undefined;
    const r = (limit: string, used: number, max: number, resets = true) => ({
      limit: `profiles.${p.profile}.${limit}`,
      used,
      max,
      resetAt: resets ? resetAt : undefined,
    });
    if (newTurn && p.maxTurns !== undefined && u.turns + 1 > p.maxTurns)
      return r("max_turns", u.turns, p.maxTurns);
    if (p.maxTokens !== undefined && u.tokens >= p.maxTokens) return r("max_tokens", u.tokens, p.maxTokens);
    if (p.maxCostUsd !== undefined && u.cost >= p.maxCostUsd) return r("max_cost_usd", u.cost, p.maxCostUsd);
    if (newTurn && p.maxTurnsPerContext !== undefined && u.contextTurns + 1 > p.maxTurnsPerContext)
      return r("max_turns_per_context", u.contextTurns, p.maxTurnsPerContext, false);
  }
  if (newTurn && b.maxTurnsPerContext !== undefined && use.contextTurns + 1 > b.maxTurnsPerContext) {
    return { limit: "max_turns_per_context", used: use.contextTurns, max: b.maxTurnsPerContext };
  }
  return undefined;
}

/** Whether starting a turn of `b` needs the peer's lock (a concurrency or usage gate). */
export function gated(b: PeerBudget): boolean {
  return (
    b.maxConcurrent !== undefined || windowLimits(b).some((l) => l.field !== "turns") || b.profiles.size > 0
  );
}

/** The -32042 of a refusal; `rows` (the window's counted rows) date a window limit's reset. */
export function refusalError(b: PeerBudget, r: Refusal, now: number, rows: UseRow[] = []): RelayError {
  let at = r.resetAt;
  if (r.field) at = resetTime(rowsSource(rows), b, r.field, r.used, r.max, now);
  return budgetExceeded({
    peer: b.peer,
    limit: r.limit,
    used: r.used,
    max: r.max,
    resetAt: at === undefined ? undefined : new Date(at).toISOString(),
    retryAfterS: at === undefined ? (r.limit === "max_queued" ? 1 : undefined) : (at - now) / 1000,
  });
}

/** Committed use from rows read once (reports, refusals). */
function rowsSource(rows: readonly UseRow[]): UseSource {
  const inWindow = (since: number) => rows.filter((r) => r.ts >= since);
  return {
    sums: (since) => {
      const s = { turns: 0, tokens: 0, cost: 0 };
      for (const r of inWindow(since)) {
        s.turns += r.turns;
        s.tokens += r.tokens;
        s.cost += r.cost;
      }
      return s;
    },
    rows: inWindow,
  };
}
