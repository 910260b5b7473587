import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { Runtime, SqliteConnection } from "../runtime/index.ts";
import { retryLocked } from "../runtime/retry-locked.ts";
import { privateFile } from "./data-dir.ts";
import { MIGRATIONS } from "./migrations.ts";

/** drizzle's synchronous SQLite database: bun:sqlite on Bun, the node:sqlite adapter on Deno. */
export type Drizzle = BaseSQLiteDatabase<"sync", unknown>;

export interface Store {
  conn: SqliteConnection;
  db: Drizzle;
  close(): void;
}

export interface OpenOptions {
  /** "NORMAL" survives a process crash; "FULL" also a power loss, at the cost of an fsync per commit. */
  synchronous?: "NORMAL" | "FULL";
  migrations?: ReadonlyArray<{ tag: string; sql: string }>;
}

/** Open (or create) the relay database, switch it to WAL and apply the embedded migrations. */
export function openStore(runtime: Runtime, path: string, opts: OpenOptions = {}): Store {
  // it holds push tokens and every message: 0600 before SQLite opens it (its -wal/-shm follow)
  const onDisk = path !== ":memory:" && !path.startsWith("file:");
  if (onDisk) privateFile(path);
  // A new database is set up (created, switched to WAL, given its tables) without SQLite's own
  // fsyncs, ten of them, 0.3-3 ms each on a VM's disk: the largest wait of a first start (issue
  // 20). One fsync of the file and one of its directory then make it durable, before the
  // configured level applies and any task is written. A power cut in between leaves a database
  // that never held a task (at worst one SQLite cannot read: delete it).
  const fresh = onDisk && statSync(path).size === 0;
  const { conn, drizzle } = runtime.openSqlite(path);
  conn.exec("PRAGMA busy_timeout = 5000");
  if (fresh) conn.exec("PRAGMA synchronous = OFF");
  useIncrementalVacuum(conn);
  retryLocked(() => conn.exec("PRAGMA journal_mode = WAL"));
  // Checkpoint the WAL every ~40 MB instead of SQLite's default 4 MB: each checkpoint runs inside
  // a commit on the event loop; measured on the echo profile, +50% SendMessage/s.
  conn.exec("PRAGMA wal_autocheckpoint = 10000");
  // after a WAL grew (checkpoints held back by a slow disk or a long read), give the space back
  // when it next starts over, down to 64 MiB, instead of keeping the high-water mark for good
  conn.exec("PRAGMA journal_size_limit = 67108864");
  // statement journals (a statement inside a savepoint: every group-committed write) stay in
  // memory instead of temp files: measured, half the bytes written per SendMessage
  conn.exec("PRAGMA temp_store = MEMORY");
  conn.exec("PRAGMA foreign_keys = ON");
  migrate(conn, opts.migrations ?? MIGRATIONS);
  if (fresh) syncToDisk(path);
  conn.exec(`PRAGMA synchronous = ${opts.synchronous ?? "NORMAL"}`);
  return { conn, db: drizzle as Drizzle, close: () => conn.close() };
}

/**
 * Apply migrations not yet recorded in drizzle's own `__drizzle_migrations` table (same hash as
 * drizzle-kit), under the write lock so several processes opening a new database do not race.
 */
function migrate(conn: SqliteConnection, migrations: ReadonlyArray<{ tag: string; sql: string }>): void {
  retryLocked(() => conn.exec("BEGIN IMMEDIATE"));
  try {
    conn.exec(
      "CREATE TABLE IF NOT EXISTS __drizzle_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)",
    );
    const done = new Set(
      conn.query<{ hash: string }>("SELECT hash FROM __drizzle_migrations").map((r) => r.hash),
    );
    for (const m of migrations) {
      const hash = createHash("sha256").update(m.sql).digest("hex");
      if (done.has(hash)) continue;
      for (const stmt of m.sql.split("--> statement-breakpoint")) {
        if (stmt.trim()) conn.exec(stmt);
      }
      conn.query("INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)", [hash, Date.now()]);
    }
    conn.exec("COMMIT");
  } catch (err) {
    conn.exec("ROLLBACK");
    throw err;
  }
}

// internal

/** fsync a file, then the directory that names it (where the platform can: not on Windows). */
function syncToDisk(path: string): void {
  fsyncPath(path);
  try {
    fsyncPath(dirname(path));
  } catch {
    // a directory cannot be opened or synced on every platform; its entry is the OS's to keep
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Pages freed by retention can be handed back to the file system a few at a time
 * (`PRAGMA incremental_vacuum`). A new database takes the setting as is; one made before it needs
 * a VACUUM, once, to switch.
 */
function useIncrementalVacuum(conn: SqliteConnection): void {
  const mode = Number(Object.values(conn.query<Record<string, unknown>>("PRAGMA auto_vacuum")[0] ?? {})[0]);
  if (mode === 2) return;
  conn.exec("PRAGMA auto_vacuum = INCREMENTAL");
  const tables = conn.query("SELECT name FROM sqlite_master LIMIT 1");
  if (tables.length) retryLocked(() => conn.exec("VACUUM"));
}
