import type { BudgetLedger, CreateBudgetsOptions } from "./api.ts";
import { Budgets } from "./ledger.ts";
import type { PgBudgets } from "./pg/ledger.ts";
import { LedgerStore } from "./store.ts";

/**
 * The budget ledger `[budgets]` asks for: this relay's SQLite database, or (`store`) the fleet's
 * PostgreSQL server, migrated and joined here. A store that cannot be used at start is a
 * ConfigError naming the key (with `on_store_down = "local"`, an unreachable one starts degraded).
 */
export async function createBudgets(
  o: CreateBudgetsOptions,
): Promise<BudgetLedger & { stats?: PgBudgets["stats"] }> {
  const onWriteError = (err: unknown) => o.logger.error({ err: String(err) }, "budget ledger write failed");
  const shared = o.setup.store;
  if (!shared) {
    return new Budgets({
      store: new LedgerStore(o.store.db),
      writer: o.writer,
      budgets: o.budgets,
      onWriteError,
      now: o.now,
    });
  }
  const { openPgBudgets } = await import("./pg/open.ts"); // loaded only when a store is configured
  return openPgBudgets({ ...o, shared, onWriteError });
}
