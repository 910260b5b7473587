import { createHash, randomUUID } from "node:crypto";
import { join } from "node:path";
import type { SharedStore } from "../../config/budget-store.ts";
import type { CreateBudgetsOptions } from "../api.ts";
import { LocalFallback } from "../fallback.ts";
import { ledgerHorizon } from "../usage.ts";
import { connectPg, migratePg } from "./connect.ts";
import { isStoreDown, storeError, whyDown } from "./errors.ts";
import { PgBudgets } from "./ledger.ts";
import { PgLedgerStore } from "./store.ts";

/**
 * Join the fleet's shared ledger (`[budgets] store`): connect, migrate, register this relay,
 * start its heartbeat. Loaded by createBudgets only when a store is configured, so a relay
 * without one never loads the Postgres driver.
 */
export async function openPgBudgets(
  o: CreateBudgetsOptions & { shared: SharedStore; onWriteError: (err: unknown) => void },
): Promise<PgBudgets> {
  const { shared, onWriteError } = o;
  const conn = connectPg(shared);
  // <relay>/<data dir>/<process>: one process holds a data dir, so a restart may hand back the
  // open turns of the instances before it at once (recover)
  const prefix = `${o.relay}/${createHash("sha256").update(o.dataDir).digest("hex").slice(0, 12)}/`;
  const store = new PgLedgerStore(conn.db, conn.sql, `${prefix}${randomUUID()}`, conn.calls);
  const fallback =
    o.setup.onStoreDown === "local"
      ? new LocalFallback({
          runtime: o.runtime,
          path: join(o.dataDir, "budget-local.db"),
          budgets: o.budgets,
          onWriteError,
        })
      : undefined;
  const log = (level: "info" | "warn" | "error", fields: Record<string, unknown>, msg: string) =>
    o.logger[level](fields, msg);
  const pg = new PgBudgets({
    conn,
    store,
    budgets: o.budgets,
    setup: { ...o.setup, store: shared },
    relay: o.relay,
    now: o.now,
    log,
    siblingPrefix: prefix,
    pruneCutoff:
      o.retainMs === undefined ? undefined : (b, now) => ledgerHorizon(b, now, now - (o.retainMs ?? 0)),
    fallback: fallback && { ledger: () => fallback.ledger(), reconcile: () => fallback.reconcile(store) },
  });
  const close = pg.close.bind(pg);
  pg.close = async () => {
    await close();
    fallback?.close();
  };
  try {
    await migratePg(conn.sql);
    await pg.start();
    await fallback?.reconcile(store);
  } catch (err) {
    if (fallback && isStoreDown(err)) {
      o.logger.warn(
        { store: shared.display, problem: whyDown(err) },
        "budget store unreachable at start: counting budgets on this relay until it is back",
      );
      pg.startDegraded(whyDown(err));
      return pg;
    }
    // the start fails with the store's own error below; a close that fails adds nothing to it
    await conn.close().catch(() => {});
    throw storeError(shared, err);
  }
  o.logger.info(
    { store: shared.display, lease_s: o.setup.leaseS, on_store_down: o.setup.onStoreDown },
    "budgets use the shared store",
  );
  return pg;
}
