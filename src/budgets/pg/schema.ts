import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  doublePrecision,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * The fleet's budget ledger in PostgreSQL (`[budgets] store`): the SQLite `budget_ledger` plus
 * the relay instance holding each open reservation (`holder`) and, for turns a relay counted on
 * its own while the store was down, the key that makes their reconciliation idempotent (`ref`).
 */
export const pgBudgetLedger = pgTable(
  "budget_ledger",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    peer: text("peer").notNull(),
    profile: text("profile").notNull(),
    contextId: text("context_id").notNull(),
    taskId: text("task_id").notNull(),
    /** When the turn was admitted (ms since the epoch, the admitting relay's clock). */
    ts: bigint("ts", { mode: "number" }).notNull(),
    /** reserved | started | settled | refunded */
    state: text("state").notNull(),
    tokens: bigint("tokens", { mode: "number" }).notNull().default(0),
    costUsd: doublePrecision("cost_usd").notNull().default(0),
    settledAt: bigint("settled_at", { mode: "number" }),
    /** The relay instance (`budget_relays.id`) that holds a reserved or started turn. */
    holder: text("holder"),
    ref: text("ref"),
  },
  (t) => [
    index("budget_ledger_peer_ts").on(t.peer, t.ts),
    index("budget_ledger_peer_context").on(t.peer, t.contextId),
    index("budget_ledger_open").on(t.peer, t.state).where(sql`${t.state} in ('reserved', 'started')`),
    // only imported turns have a ref: a partial index is not touched by a dispatch's row
    uniqueIndex("budget_ledger_ref").on(t.ref).where(sql`${t.ref} is not null`),
  ],
);

/** `budget reset PEER`: ledger rows up to `after_id` no longer count for this peer. */
export const pgBudgetResets = pgTable("budget_resets", {
  peer: text("peer").primaryKey(),
  afterId: bigint("after_id", { mode: "number" }).notNull(),
  resetAt: bigint("reset_at", { mode: "number" }).notNull(),
});

/**
 * Relay instances using the store, with their last heartbeat (the database's clock). `lease` is
 * new at each registration: the turns a relay counts in `budget_open` are held under it, so a
 * relay handed back and registered again cannot end a turn of its previous lease.
 */
export const pgBudgetRelays = pgTable("budget_relays", {
  id: text("id").primaryKey(),
  relay: text("relay").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
  lease: bigserial("lease", { mode: "number" }).notNull(),
});

/**
 * Turns counted instead of written one row each (a2a_relay_count): a peer's turns on one profile
 * admitted in one second (`ts`: the second's last millisecond, so a turn leaves a rolling window
 * at most 1 s late, never early), since reset `gen` (the peer's `budget_resets.after_id` when they
 * were admitted), with the usage they settled with. One row per second, updated in place.
 */
export const pgBudgetUsage = pgTable(
  "budget_usage",
  {
    peer: text("peer").notNull(),
    ts: bigint("ts", { mode: "number" }).notNull(),
    profile: text("profile").notNull(),
    gen: bigint("gen", { mode: "number" }).notNull(),
    turns: bigint("turns", { mode: "number" }).notNull().default(0),
    tokens: doublePrecision("tokens").notNull().default(0),
    cost: doublePrecision("cost").notNull().default(0),
    /** The largest usage one turn of the second settled with (the estimate of the next). */
    maxTokens: doublePrecision("max_tokens"),
    maxCost: doublePrecision("max_cost"),
  },
  (t) => [primaryKey({ columns: [t.peer, t.ts, t.profile, t.gen] })],
);

/**
 * Counted turns running, per peer and relay lease: what a2a_relay_count started and has not
 * ended. The reaper deletes a dead lease's rows (its turns then count as turns of unknown usage).
 */
export const pgBudgetOpen = pgTable(
  "budget_open",
  {
    peer: text("peer").notNull(),
    lease: bigint("lease", { mode: "number" }).notNull(),
    started: bigint("started", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.peer, t.lease] })],
);

/**
 * The committed use of one window (a peer's, or a peer's on one profile: `scope`), kept up to
 * date under the peer's lock so an admission reads it instead of summing the window's rows: the
 * rows at or after `cursor_ts` and after the peer's last reset (`after_id`). As the window moves,
 * the rows that left it are subtracted (each once). `wnd` is the window's text: another window
 * rebuilds the row from the ledger.
 */
export const pgBudgetTotals = pgTable("budget_totals", {
  scope: text("scope").primaryKey(),
  peer: text("peer").notNull(),
  profile: text("profile"),
  wnd: text("wnd").notNull(),
  cursorTs: bigint("cursor_ts", { mode: "number" }).notNull(),
  afterId: bigint("after_id", { mode: "number" }).notNull(),
  turns: bigint("turns", { mode: "number" }).notNull().default(0),
  tokens: doublePrecision("tokens").notNull().default(0),
  cost: doublePrecision("cost").notNull().default(0),
  /** The largest usage one settled turn reported (since the last reset): the estimate of the next. */
  estTokens: doublePrecision("est_tokens"),
  estCost: doublePrecision("est_cost"),
});
