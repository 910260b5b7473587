import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { BetterSQLiteSession } from "drizzle-orm/better-sqlite3/session";
import { BaseSQLiteDatabase, SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { SqliteConnection } from "./types.ts";

/**
 * SQLite through the built-in `node:sqlite` (`DatabaseSync`), for Deno (and usable on Bun 1.4).
 *
 * drizzle-orm 0.45 has no `node:sqlite` driver, and its generic proxy driver is asynchronous while
 * the repos use drizzle's synchronous API (`.get()/.all()/.run()`). `DatabaseSync` is shaped like
 * better-sqlite3, so drizzle's better-sqlite3 *session* runs over the thin adapter below: the
 * session only calls `prepare(sql)` → `run/all/get(...params)` and `raw().all/get(...params)`
 * (rows as arrays: node:sqlite's `setReturnArrays`). We build the database object from the
 * session directly rather than importing `drizzle-orm/better-sqlite3`, whose driver module
 * imports the `better-sqlite3` package itself.
 */
export function openNodeSqlite(path: string): { conn: SqliteConnection; drizzle: unknown } {
  const db = new DatabaseSync(path);
  const conn: SqliteConnection = {
    exec: (sql) => db.exec(sql),
    query: <T>(sql: string, params: unknown[] = []) => db.prepare(sql).all(...(params as Param[])) as T[],
    prepare: (sql: string) => {
      const stmt = db.prepare(sql);
      return { run: () => void stmt.run() };
    },
    close: () => db.close(),
  };
  const dialect = new SQLiteSyncDialect();
  // biome-ignore lint/suspicious/noExplicitAny: the session's client type is better-sqlite3's Database
  const session = new BetterSQLiteSession(betterSqliteShape(db) as any, dialect, undefined);
  return { conn, drizzle: new BaseSQLiteDatabase("sync", dialect, session, undefined) };
}

// internal

type Param = SQLInputValue;

/** The part of better-sqlite3's `Database` that drizzle's session uses. */
function betterSqliteShape(db: DatabaseSync) {
  return {
    prepare: (sql: string) => statement(db.prepare(sql)),
    transaction<A extends unknown[], R>(fn: (...args: A) => R) {
      const run =
        (begin: string) =>
        (...args: A): R => {
          db.exec(begin);
          try {
            const r = fn(...args);
            db.exec("COMMIT");
            return r;
          } catch (err) {
            if (db.isTransaction) db.exec("ROLLBACK");
            throw err;
          }
        };
      return Object.assign(run("BEGIN"), {
        deferred: run("BEGIN DEFERRED"),
        immediate: run("BEGIN IMMEDIATE"),
        exclusive: run("BEGIN EXCLUSIVE"),
      });
    },
  };
}

function statement(stmt: StatementSync) {
  const arrays = {
    all(...params: Param[]): unknown[][] {
      stmt.setReturnArrays(true);
      try {
        return stmt.all(...params) as unknown as unknown[][];
      } finally {
        stmt.setReturnArrays(false);
      }
    },
    get(...params: Param[]): unknown[] | undefined {
      stmt.setReturnArrays(true);
      try {
        return stmt.get(...params) as unknown as unknown[] | undefined;
      } finally {
        stmt.setReturnArrays(false);
      }
    },
  };
  return {
    run: (...params: Param[]) => stmt.run(...params),
    all: (...params: Param[]) => stmt.all(...params),
    get: (...params: Param[]) => stmt.get(...params),
    raw: () => arrays,
  };
}
