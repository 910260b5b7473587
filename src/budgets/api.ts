import type { BudgetsSetup } from "../config/budget-store.ts";
import type { Logger } from "../logger.ts";
import type { Runtime } from "../runtime/index.ts";
import type { Store } from "../store/db.ts";
import type { Writer } from "../store/writer.ts";
import type { Admission } from "../tasks/engine.ts";
import type { BudgetReport, PeerBudget } from "./usage.ts";

/**
 * The budget ledger as the rest of the relay sees it, whichever store holds it: this relay's
 * SQLite database (`Budgets`) or the fleet's PostgreSQL server (`PgBudgets`).
 */
export interface BudgetLedger extends Admission {
  /** After a (re)start: hand back what the previous process of this relay left open. */
  recover(): Promise<{ refunded: number; settled: number }>;
  /** Every budgeted peer's limits and use now. */
  report(): BudgetReport[] | Promise<BudgetReport[]>;
  reportFor(peer: string): BudgetReport | undefined | Promise<BudgetReport | undefined>;
  /** Forget a peer's use so far (running turns keep their slots). */
  reset(peer: string): Promise<BudgetReport | undefined>;
  /** The latest report without I/O (metrics are read synchronously at scrape time). */
  snapshot(): BudgetReport[];
  /** Why budgets work in a degraded mode now (the shared store is down), else undefined. */
  degraded(): string | undefined;
  close(): Promise<void>;
}

/** What createBudgets builds a ledger from. */
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
  /** `[store] retain` (ms): the shared ledger's closed rows older than it and every window go. */
  retainMs?: number | undefined;
}
