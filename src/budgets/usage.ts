import type { BudgetConfig } from "../config/schema.ts";
import type { LedgerStore, Sums } from "./store.ts";
import { ledgerSource, type UseSource } from "./tally.ts";
import { type BudgetWindow, nextUtcMidnight, parseWindow, windowStart } from "./window.ts";

/** One peer's `[peers.X.budget]`, checked. */
/**
 * What settling a budget ticket in `state` does: a reservation whose turn never started is handed
 * back ("refund"), a ticket is charged once ("charge"), then never again ("none").
 */
export function settleStep(state: "reserved" | "started" | "done"): "refund" | "charge" | "none" {
  return state === "reserved" ? "refund" : state === "started" ? "charge" : "none";
}

/** The tokens and cost a turn's reported usage charges (unknown counts as none, never negative). */
export function charge(usage: { inputTokens?: number; outputTokens?: number; costUsd?: number } | undefined) {
  return {
    tokens: Math.max(0, (usage?.inputTokens ?? 0) + (usage?.outputTokens ?? 0)),
    cost: Math.max(0, usage?.costUsd ?? 0),
  };
}

export interface PeerBudget {
  peer: string;
  window: BudgetWindow;
  maxTurns?: number | undefined;
  maxTokens?: number | undefined;
  maxCostUsd?: number | undefined;
  maxConcurrent?: number | undefined;
  maxQueued: number;
  maxTurnsPerContext?: number | undefined;
  /** Limits of this peer on single profiles (`[peers.X.budget.profiles.P]`). */
  profiles: Map<string, ProfileLimits>;
}

export interface ProfileLimits {
  profile: string;
  window: BudgetWindow;
  maxTurns?: number | undefined;
  maxTokens?: number | undefined;
  maxCostUsd?: number | undefined;
  maxTurnsPerContext?: number | undefined;
}

/**
 * Before this instant a ledger row of `peer` counts in none of its windows (retention may delete
 * it); 0 for a peer with a "total" window. A peer without a budget: `fallback`.
 */
export function ledgerHorizon(b: PeerBudget | undefined, now: number, fallback: number): number {
  if (!b) return fallback;
  const windows = [b.window, ...[...b.profiles.values()].map((p) => p.window)];
  return Math.min(...windows.map((w) => windowStart(w, now)));
}

/** A use not yet committed (or committed after the last read): counted on top of the ledger. */
export interface Delta extends Sums {
  ts: number;
  contextId: string;
  profile?: string | undefined;
}

export type WindowLimit = "max_turns" | "max_tokens" | "max_cost_usd";

/** Checked budgets of every peer that has one. Throws ConfigError naming a bad window. */
export function budgetsFromConfig(
  peers: Record<string, { budget?: BudgetConfig | undefined }>,
): Map<string, PeerBudget> {
  const out = new Map<string, PeerBudget>();
  for (const [peer, p] of Object.entries(peers)) {
    const b = p.budget;
    if (!b) continue;
    const profiles = new Map<string, ProfileLimits>();
    for (const [profile, pb] of Object.entries(b.profiles ?? {})) {
      const key = `peers.${peer}.budget.profiles.${profile}.window`;
      profiles.set(profile, {
        profile,
        window: parseWindow(pb.window ?? b.window, key),
        maxTurns: pb.max_turns,
        maxTokens: pb.max_tokens,
        maxCostUsd: pb.max_cost_usd,
        maxTurnsPerContext: pb.max_turns_per_context,
      });
    }
    out.set(peer, {
      peer,
      profiles,
      window: parseWindow(b.window, `peers.${peer}.budget.window`),
      maxTurns: b.max_turns,
      maxTokens: b.max_tokens,
      maxCostUsd: b.max_cost_usd,
      maxConcurrent: b.max_concurrent,
      maxQueued: b.max_queued,
      maxTurnsPerContext: b.max_turns_per_context,
    });
  }
  return out;
}

/** The window limits a budget sets, with the usage field each one counts. */
export function windowLimits(b: PeerBudget): Array<{ limit: WindowLimit; max: number; field: keyof Sums }> {
  const out: Array<{ limit: WindowLimit; max: number; field: keyof Sums }> = [];
  if (b.maxTurns !== undefined) out.push({ limit: "max_turns", max: b.maxTurns, field: "turns" });
  if (b.maxTokens !== undefined) out.push({ limit: "max_tokens", max: b.maxTokens, field: "tokens" });
  if (b.maxCostUsd !== undefined) out.push({ limit: "max_cost_usd", max: b.maxCostUsd, field: "cost" });
  return out;
}

/** Use inside the window now: committed ledger rows plus `pending` deltas. */
export function windowUse(
  source: UseSource,
  b: Pick<PeerBudget, "window">,
  now: number,
  pending: readonly Delta[] = [],
): Sums & { since: number } {
  const since = windowStart(b.window, now);
  const s = source.sums(since);
  for (const d of pending) {
    if (d.ts < since) continue;
    s.turns += d.turns;
    s.tokens += d.tokens;
    s.cost += d.cost;
  }
  return { ...s, since };
}

/**
 * When the use of `field` drops below `max` again by itself: the next UTC midnight (daily), the
 * moment enough of the oldest rows leave a rolling window, or never (total).
 */
export function resetTime(
  source: UseSource,
  b: Pick<PeerBudget, "window">,
  field: keyof Sums,
  used: number,
  max: number,
  now: number,
  pending: readonly Delta[] = [],
): number | undefined {
  const w = b.window;
  if (w.kind === "total") return undefined;
  if (w.kind === "daily") return nextUtcMidnight(now);
  const since = windowStart(w, now);
  const rows = [...source.rows(since), ...pending.filter((d) => d.ts >= since)];
  let left = used;
  for (const r of rows) {
    left -= r[field];
    // a turn limit needs room for one more turn; tokens and cost need use below the limit
    if (field === "turns" ? left + 1 <= max : left < max) return r.ts + w.ms;
  }
  return now + w.ms;
}

/** A peer's budget and use, as `budget show` and `GET /admin/budgets` present it. */
export interface BudgetReport {
  peer: string;
  window: string;
  limits: Record<string, number>;
  used: { turns: number; tokens: number; cost_usd: number };
  /** Per limit that is reached now: when it frees up (ISO), or null when it never does by itself. */
  exceeded: Record<string, string | null>;
  running?: number;
  queued?: number;
  resetAt?: string;
}

/** `source` defaults to reading the ledger directly (the CLI); the relay passes its tally. */
export function reportOf(
  store: LedgerStore,
  b: PeerBudget,
  now: number,
  pending: readonly Delta[] = [],
  source: UseSource = ledgerSource(store, { peer: b.peer, afterId: store.reset(b.peer).afterId }),
): BudgetReport {
  return reportFrom(b, now, source, store.reset(b.peer).resetAt, pending);
}

/** A peer's report from its committed use (`source`), whichever store holds the ledger. */
export function reportFrom(
  b: PeerBudget,
  now: number,
  source: UseSource,
  resetAt: number | undefined,
  pending: readonly Delta[] = [],
): BudgetReport {
  const use = windowUse(source, b, now, pending);
  const limits: Record<string, number> = {};
  const exceeded: Record<string, string | null> = {};
  for (const l of windowLimits(b)) {
    limits[l.limit] = l.max;
    const used = use[l.field];
    if (l.field === "turns" ? used + 1 > l.max : used >= l.max) {
      const at = resetTime(source, b, l.field, used, l.max, now, pending);
      exceeded[l.limit] = at === undefined ? null : new Date(at).toISOString();
    }
  }
  if (b.maxConcurrent !== undefined) {
    limits.max_concurrent = b.maxConcurrent;
    limits.max_queued = b.maxQueued;
  }
  if (b.maxTurnsPerContext !== undefined) limits.max_turns_per_context = b.maxTurnsPerContext;
  return {
    peer: b.peer,
    window: b.window.text,
    limits,
    used: { turns: use.turns, tokens: use.tokens, cost_usd: Math.round(use.cost * 1e6) / 1e6 },
    exceeded,
    ...(resetAt ? { resetAt: new Date(resetAt).toISOString() } : {}),
  };
}
