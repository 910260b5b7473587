import type { SharedStore } from "../../config/budget-store.ts";
import { type BudgetReport, type PeerBudget, reportFrom } from "../usage.ts";
import { windowStart } from "../window.ts";
import { rowsSource } from "./check.ts";
import { connectPg, migratePg } from "./connect.ts";
import { PgLedgerStore } from "./store.ts";

/** A peer's report from the shared ledger: use in its windows, and its turns running or queued fleet-wide. */
export async function pgReport(store: PgLedgerStore, b: PeerBudget, now: number): Promise<BudgetReport> {
  const since = Math.min(
    windowStart(b.window, now),
    ...[...b.profiles.values()].map((p) => windowStart(p.window, now)),
  );
  const r = await store.reportRows(b.peer, since);
  return { ...reportFrom(b, now, rowsSource(r.rows), r.resetAt), running: r.running, queued: r.queued };
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
