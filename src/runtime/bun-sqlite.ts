import { SQLiteBunSession } from "drizzle-orm/bun-sqlite/session";
import { BaseSQLiteDatabase, SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { SqliteConnection } from "./types.ts";

/**
 * SQLite on Bun: `bun:sqlite` under drizzle's bun-sqlite session. `bun:sqlite` is loaded by
 * specifier at run time and only on Bun (and drizzle's bun-sqlite driver module, which imports it
 * statically, is not used), so this file also loads, unused, on Deno.
 */
interface BunDatabase {
  run(sql: string): unknown;
  query(sql: string): { all(...params: never[]): unknown[]; run(): unknown };
  close(): void;
}
const BUN_SQLITE = "bun:sqlite";
const mod:
  | { Database: new (path: string, opts: { create: boolean; strict: boolean }) => BunDatabase }
  | undefined = "Bun" in globalThis ? await import(BUN_SQLITE) : undefined;

export function openBunSqlite(path: string): { conn: SqliteConnection; drizzle: unknown } {
  if (!mod) throw new Error("bun:sqlite is only available on Bun");
  const db = new mod.Database(path, { create: true, strict: true });
  const conn: SqliteConnection = {
    exec: (sql) => {
      db.run(sql);
    },
    query: <T>(sql: string, params: unknown[] = []) => db.query(sql).all(...(params as never[])) as T[],
    prepare: (sql) => {
      const stmt = db.query(sql);
      return { run: () => void stmt.run() };
    },
    close: () => db.close(),
  };
  const dialect = new SQLiteSyncDialect();
  // biome-ignore lint/suspicious/noExplicitAny: the session's client type is bun:sqlite's Database
  const session = new SQLiteBunSession(db as any, dialect, undefined);
  return { conn, drizzle: new BaseSQLiteDatabase("sync", dialect, session, undefined) };
}
