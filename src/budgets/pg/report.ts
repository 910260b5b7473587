import type { SharedStore } from "../../config/budget-store.ts";
import type { UseSource } from "../tally.ts";
import { type BudgetReport, type PeerBudget, reportFrom, windowLimits } from "../usage.ts";
import { windowStart } from "../window.ts";
import { connectPg, migratePg } from "./connect.ts";
import { PgLedgerStore } from "./store.ts";

/**
 * A peer's report from the shared ledger: use in its window, and its turns running or queued
 * fleet-wide. The use is read summed (the relay refreshes every report each lease_s / 3, so
 * reading the window's rows grew with the window); the rows are read only when a limit is
 * reached in a rolling window, to say when it frees up.
 */
export async function pgReport(store: PgLedgerStore, b: PeerBudget, now: number): Promise<BudgetReport> {
  const since = windowStart(b.window, now);
  const r = await store.reportUse(b.peer, b.window.text, since);
  const reached = windowLimits(b).some((l) =>
    l.field === "turns" ? r.use.turns + 1 > l.max : r.use[l.field] >= l.max,
  );
  const rows = reached && b.window.kind === "rolling" ? (await store.reportRows(b.peer, since)).rows : [];
  // reportFrom asks for the use of the peer's window at `now` (since), and for the rows of a limit reached
  const source: UseSource = { sums: () => ({ ...r.use }), rows: (s) => rows.filter((x) => x.ts >= s) };
  return { ...reportFrom(b, now, source, r.resetAt), running: r.running, queued: r.queued };
}

/**
 * `budget show` / `budget reset` on the shared store, without a running relay: connect, run
 * `fn`, disconnect.
 */
export async function withSharedLedger<T>(
  shared: SharedStore,
  fn: (ledger: {
    report: (b: PeerBudget) => Promise<BudgetReport>;
    reset: (peer: string) => Promise<void>;
  }) => Promise<T>,
): Promise<T> {
  const conn = connectPg(shared, { max: 2 });
  try {
    await migratePg(conn.sql);
    const store = new PgLedgerStore(conn.db, conn.sql, "cli");
    return await fn({
      report: (b) => pgReport(store, b, Date.now()),
      reset: (peer) => store.resetPeer(peer, Date.now()),
    });
  } finally {
    // the answer (or the error) is already in hand; a one-off connection that fails to close is gone anyway
    await conn.close().catch(() => {});
  }
}

/** `doctor`: can the store be reached, and does it hold the ledger's tables yet? Throws when unreachable. */
export async function probeSharedStore(shared: SharedStore): Promise<{ tables: boolean }> {
  const conn = connectPg(shared, { max: 1 });
  try {
    const [r] = await conn.sql<{ t: string | null }[]>`select to_regclass('budget_ledger')::text as t`;
    return { tables: !!r?.t };
  } finally {
    // the answer (or the error) is already in hand; a one-off connection that fails to close is gone anyway
    await conn.close().catch(() => {});
  }
}
