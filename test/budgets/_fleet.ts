import { budgetsFromConfig } from "../../src/budgets/index.ts";
import { connectPg, migratePg } from "../../src/budgets/pg/connect.ts";
import { PgBudgets } from "../../src/budgets/pg/ledger.ts";
import { PgLedgerStore } from "../../src/budgets/pg/store.ts";
import type { BudgetConfig } from "../../src/config/schema.ts";
import type { Receiver } from "../../src/receivers/types.ts";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";
import type { PgCluster } from "./_pg.ts";
import { BOT_TOKEN } from "./_relay.ts";

let dbs = 0;

/** A fresh database on the cluster; its URL. */
export function freshDb(pg: PgCluster): string {
  const name = `t${++dbs}_${process.pid}`;
  pg.psql(`CREATE DATABASE ${name}`);
  return pg.url.replace(/\/relay$/, `/${name}`);
}

/** The database name of a store URL. */
export const dbOf = (store: string) => store.slice(store.lastIndexOf("/") + 1);

/**
 * The TOML of a relay with an `echo` profile and a budgeted peer `bot` on the shared `store`
 * (`budgets`: more `[budgets]` keys; lease_s is 30 unless given).
 */
export function fleetToml(store: string, budget: string, budgets = ""): string {
  return `
[budgets]
store = "${store}"
${budgets.includes("lease_s") ? "" : "lease_s = 30"}
${budgets}

[profiles.echo]
handler = "echo"

[peers.bot]
profiles = ["echo"]
token_env = "BOT_TOKEN"

[peers.bot.budget]
${budget}
`;
}

/** `n` in-process relays on one store. */
export async function fleet(n: number, toml: string): Promise<TestRelay[]> {
  const out: TestRelay[] = [];
  for (let i = 0; i < n; i++) out.push(await startTestRelay({ toml, env: { BOT_TOKEN } }));
  return out;
}

/** Count turns running at once across every relay's `echo` receiver. */
export function watchFleet(relays: TestRelay[]) {
  const stats = { running: 0, max: 0, runs: 0 };
  for (const r of relays) {
    const target = r.relay.engine.deps.profiles.get("echo")!;
    const inner: Receiver = target.receiver;
    target.receiver = {
      kind: inner.kind,
      async run(turn, emit, signal) {
        stats.running++;
        stats.runs++;
        stats.max = Math.max(stats.max, stats.running);
        try {
          return await inner.run(turn, emit, signal);
        } finally {
          stats.running--;
        }
      },
    };
  }
  return stats;
}

/**
 * The ledger's turns by state, as `state|n` lines: its rows, and the turns counted without a row
 * (budget_usage: `counted|n`, settled or running; budget_open: `open|n`, running), when any.
 */
export function ledgerStates(pg: PgCluster, db: string): string {
  return pg.psql(
    `SELECT state, count(*) FROM budget_ledger GROUP BY state
     UNION ALL SELECT 'counted', sum(turns) FROM budget_usage HAVING sum(turns) > 0
     UNION ALL SELECT 'open', sum(started) FROM budget_open HAVING sum(started) > 0
     ORDER BY 1`,
    db,
  );
}

export async function adminBudgets(url: string, token: string) {
  const res = await fetch(`${url}/admin/budgets`, { headers: { authorization: `Bearer ${token}` } });
  // biome-ignore lint/suspicious/noExplicitAny: reports are checked field by field
  return ((await res.json()) as any).budgets as any[];
}

/**
 * One relay's shared ledger on `url`, in process (no HTTP): peer `bot` with `budget`, migrated
 * and started (`now`: an injected clock; `pollMs`: how often waiting turns look again).
 */
export async function pgLedger(
  url: string,
  budget: Partial<BudgetConfig>,
  opts: { now?: () => number; pollMs?: number } = {},
) {
  const store = { url, display: url, key: "budgets.store" };
  const conn = connectPg(store);
  await migratePg(conn.sql);
  const ledgerStore = new PgLedgerStore(conn.db, conn.sql, crypto.randomUUID(), conn.calls);
  const ledger = new PgBudgets({
    conn,
    store: ledgerStore,
    budgets: budgetsFromConfig({ bot: { budget: budget as BudgetConfig } }),
    setup: { store, onStoreDown: "refuse", leaseS: 30 },
    relay: "t",
    log: () => {},
    ...opts,
  });
  await ledger.start();
  return { ledger, store: ledgerStore };
}
