import { createHash } from "node:crypto";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import m0000 from "../../../drizzle/pg/0000_budgets.sql" with { type: "text" };
import m0001 from "../../../drizzle/pg/0001_totals.sql" with { type: "text" };
import m0002 from "../../../drizzle/pg/0002_functions.sql" with { type: "text" };
import m0003 from "../../../drizzle/pg/0003_batch.sql" with { type: "text" };
import m0004 from "../../../drizzle/pg/0004_plans.sql" with { type: "text" };
import m0005 from "../../../drizzle/pg/0005_set_based.sql" with { type: "text" };
import m0006 from "../../../drizzle/pg/0006_totals_plans.sql" with { type: "text" };
import m0007 from "../../../drizzle/pg/0007_counted.sql" with { type: "text" };
import type { SharedStore } from "../../config/budget-store.ts";

/**
 * The SQL migrations drizzle-kit generated for the shared ledger (`npm run db:generate:pg`),
 * embedded as text like the SQLite ones: a compiled binary needs no migrations folder.
 */
const PG_MIGRATIONS: ReadonlyArray<{ tag: string; sql: string }> = [
  { tag: "0000_budgets", sql: m0000 },
  { tag: "0001_totals", sql: m0001 },
  { tag: "0002_functions", sql: m0002 },
  { tag: "0003_batch", sql: m0003 },
  { tag: "0004_plans", sql: m0004 },
  { tag: "0005_set_based", sql: m0005 },
  { tag: "0006_totals_plans", sql: m0006 },
  { tag: "0007_counted", sql: m0007 },
];

export type PgDb = PostgresJsDatabase<Record<string, never>>;

/** A tagged-template query of one statement, its rows as objects (postgres.js, or Bun's client). */
export type PgCalls = (strings: TemplateStringsArray, ...params: unknown[]) => PromiseLike<unknown[]>;

export interface PgConnection {
  sql: postgres.Sql;
  db: PgDb;
  /**
   * The client of the ledger's group-commit calls (PgLedgerStore.batch), one per admission's
   * batch: Bun's built-in PostgreSQL client on Bun, `sql` elsewhere (see bunCalls).
   */
  calls: PgCalls;
  close(): Promise<void>;
}

/**
 * A pool of connections to the shared store (postgres.js: plain JavaScript over TCP, so it runs on
 * Bun, on Deno and inside the compiled binary), and on Bun a second, small one for the ledger's
 * hot calls. Nothing connects until the first query.
 */
export function connectPg(store: SharedStore, opts: { max?: number } = {}): PgConnection {
  const sql = postgres(store.url, {
    max: opts.max ?? 10,
    connect_timeout: 3,
    idle_timeout: 60,
    onnotice: () => {},
    // the relay's own connection name in pg_stat_activity
    connection: { application_name: "a2a-relay" },
  });
  const bun = bunCalls(store.url);
  return {
    sql,
    db: drizzle(sql),
    calls: bun ?? (sql as unknown as PgCalls),
    close: async () => {
      await Promise.all([sql.end({ timeout: 2 }), bun?.close({ timeout: 2 })]);
    },
  };
}

/**
 * Apply the embedded migrations not yet recorded, in one transaction under an advisory lock, so
 * relays starting together do not race (the same hash as the SQLite migrator's).
 */
export async function migratePg(sql: postgres.Sql): Promise<number> {
  // up to date: no lock and no DDL (a role without CREATE works once an admin migrated)
  const [t] = await sql<{ t: string | null }[]>`select to_regclass('a2a_relay_migrations')::text as t`;
  if (t?.t) {
    const have = new Set(
      (await sql<{ hash: string }[]>`select hash from a2a_relay_migrations`).map((r) => r.hash),
    );
    if (PG_MIGRATIONS.every((m) => have.has(hashOf(m.sql)))) return 0;
  }
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`create table if not exists a2a_relay_migrations (hash text primary key, tag text not null, created_at bigint not null)`;
    const done = new Set(
      (await tx<{ hash: string }[]>`select hash from a2a_relay_migrations`).map((r) => r.hash),
    );
    let applied = 0;
    for (const m of PG_MIGRATIONS) {
      const hash = hashOf(m.sql);
      if (done.has(hash)) continue;
      for (const stmt of m.sql.split("--> statement-breakpoint")) {
        if (stmt.trim()) await tx.unsafe(stmt);
      }
      await tx`insert into a2a_relay_migrations (hash, tag, created_at) values (${hash}, ${m.tag}, ${Date.now()})`;
      applied++;
    }
    return applied;
  });
}

// internal

interface BunSqlClient {
  (strings: TemplateStringsArray, ...params: unknown[]): PromiseLike<unknown[]>;
  close(o: { timeout: number }): Promise<void>;
}
type BunSqlClass = new (url: string, o: Record<string, unknown>) => BunSqlClient;

/**
 * On Bun, its built-in PostgreSQL client (native, in the runtime) for the ledger's group-commit
 * calls: against postgres.js over node:net, ~10 µs less relay CPU and ~12 µs less PostgreSQL CPU
 * per turn (bench/NOTES.md, issue 17). postgres.js keeps everything else (migrations, LISTEN,
 * reports, the reaper), and all of it on Deno. Only for a URL without query parameters other than
 * `sslmode` (which both clients read the same way): any other is left to postgres.js alone.
 * Bun's client is read from `globalThis`, so this module also loads on Deno.
 */
function bunCalls(url: string): BunSqlClient | undefined {
  const SQL = (globalThis as { Bun?: { SQL?: BunSqlClass } }).Bun?.SQL;
  if (!SQL || [...new URL(url).searchParams.keys()].some((k) => k !== "sslmode")) return undefined;
  return new SQL(url, {
    max: 2,
    connectionTimeout: 3,
    idleTimeout: 60,
    connection: { application_name: "a2a-relay" },
  });
}

function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Arbitrary and fixed: the advisory lock key of the migrator. */
const MIGRATION_LOCK = 0x6132_6172;
