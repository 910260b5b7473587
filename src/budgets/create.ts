import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { BudgetsSetup, SharedStore } from "../config/budget-store.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Runtime } from "../runtime/index.ts";
import type { Store } from "../store/db.ts";
import type { Writer } from "../store/writer.ts";
import type { BudgetLedger } from "./api.ts";
import { LocalFallback } from "./fallback.ts";
import { Budgets } from "./ledger.ts";
import { connectPg, isStoreDown, migratePg, whyDown } from "./pg/connect.ts";
import { PgBudgets } from "./pg/ledger.ts";
import { PgLedgerStore } from "./pg/store.ts";
import { LedgerStore } from "./store.ts";
import type { PeerBudget } from "./usage.ts";

export interface CreateBudgetsOptions {
  setup: BudgetsSetup;
  budgets: ReadonlyMap<string, PeerBudget>;
  /** This relay's SQLite database and writer (its own ledger, the default). */
  store: Store;
  writer: Writer;
  runtime: Runtime;
  logger: Logger;
  /** server.id: the relay's name in the shared store. */
  relay: string;
  dataDir: string;
  now?: () => number;
}

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
  const conn = connectPg(shared);
  const store = new PgLedgerStore(conn.db, conn.sql, `${o.relay}/${randomUUID()}`);
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
    await conn.close().catch(() => {});
    throw storeError(shared, err);
  }
  o.logger.info(
    { store: shared.display, lease_s: o.setup.leaseS, on_store_down: o.setup.onStoreDown },
    "budgets use the shared store",
  );
  return pg;
}

/** Why the store cannot be used, naming the key and the store (never its password). */
export function storeError(store: SharedStore, err: unknown): ConfigError {
  const e = err as { code?: string };
  const hint =
    e?.code === "28P01" || e?.code === "28000"
      ? " (check the user and the password: budgets.password_env)"
      : e?.code === "3D000"
        ? " (create the database first)"
        : e?.code === "42501"
          ? " (the role needs CREATE on the schema for the first start, see the README)"
          : "";
  return new ConfigError(
    `${store.key}: cannot use the budget store ${store.display}: ${whyDown(err)}${hint}`,
  );
}
