import { existsSync } from "node:fs";
import type { Runtime } from "../runtime/index.ts";
import { openStore, type Store } from "../store/db.ts";
import { Writer } from "../store/writer.ts";
import type { BudgetLedger } from "./api.ts";
import { Budgets } from "./ledger.ts";
import type { PgLedgerStore } from "./pg/store.ts";
import { LedgerStore } from "./store.ts";
import type { PeerBudget } from "./usage.ts";

/**
 * `[budgets] on_store_down = "local"`: while the shared store is down this relay counts budgeted
 * turns on its own, in a SQLite ledger of its data dir (`budget-local.db`), starting from zero
 * each outage. Once the store is back every turn it counted is added to the shared ledger (once:
 * each carries a unique ref) and deleted here; turns still running are added when they end.
 */
export class LocalFallback {
  readonly #runtime: Runtime;
  readonly #path: string;
  readonly #budgets: ReadonlyMap<string, PeerBudget>;
  readonly #onWriteError: (err: unknown) => void;
  #db: { store: Store; writer: Writer; ledger: LedgerStore } | undefined;
  #current: Budgets | undefined;
  /** Rows may be waiting here for the shared store. */
  #dirty: boolean;

  constructor(opts: {
    runtime: Runtime;
    path: string;
    budgets: ReadonlyMap<string, PeerBudget>;
    onWriteError: (err: unknown) => void;
  }) {
    this.#runtime = opts.runtime;
    this.#path = opts.path;
    this.#budgets = opts.budgets;
    this.#onWriteError = opts.onWriteError;
    this.#dirty = existsSync(opts.path);
  }

  /** The ledger of the current outage (made at its first admission). */
  ledger(): BudgetLedger {
    this.#dirty = true;
    this.#current ??= new Budgets({
      store: this.#open().ledger,
      writer: this.#open().writer,
      budgets: this.#budgets,
      onWriteError: this.#onWriteError,
    });
    return this.#current;
  }

  /**
   * Add the turns counted here that have ended to the shared ledger, then delete them here.
   * A previous process's leftovers were settled when the file was opened.
   */
  async reconcile(pg: PgLedgerStore): Promise<number> {
    if (!this.#dirty) return 0;
    const { store, writer } = this.#open();
    this.#current = undefined; // the next outage counts from zero
    const rows = store.conn.query<{
      id: number;
      peer: string;
      profile: string;
      context_id: string;
      task_id: string;
      ts: number;
      tokens: number;
      cost_usd: number;
      settled_at: number | null;
      state: string;
    }>("SELECT * FROM budget_ledger WHERE state IN ('settled', 'refunded') ORDER BY id");
    const settled = rows.filter((r) => r.state === "settled");
    const added = await pg.importSettled(
      settled.map((r) => ({
        peer: r.peer,
        profile: r.profile,
        contextId: r.context_id,
        taskId: r.task_id,
        ts: r.ts,
        tokens: r.tokens,
        cost: r.cost_usd,
        settledAt: r.settled_at ?? r.ts,
        ref: `local:${r.task_id}:${r.ts}`,
      })),
    );
    const ids = rows.map((r) => r.id);
    if (ids.length)
      await writer.run(() => store.conn.exec(`DELETE FROM budget_ledger WHERE id IN (${ids.join(",")})`));
    const left = store.conn.query<{ n: number }>("SELECT count(*) AS n FROM budget_ledger")[0]?.n ?? 0;
    this.#dirty = left > 0;
    return added;
  }

  close(): void {
    if (!this.#db) return;
    this.#db.writer.close();
    this.#db.store.close();
    this.#db = undefined;
  }

  // internal

  #open(): { store: Store; writer: Writer; ledger: LedgerStore } {
    if (!this.#db) {
      const leftovers = existsSync(this.#path);
      const store = openStore(this.#runtime, this.#path);
      const ledger = new LedgerStore(store.db);
      // a previous process's turns: one that never started is refunded, one that ran counts
      if (leftovers) ledger.recover(Date.now());
      this.#db = { store, writer: new Writer(store.conn), ledger };
    }
    return this.#db;
  }
}
