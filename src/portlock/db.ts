import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import type { Runtime, SqliteConnection } from "../runtime/index.ts";
import { retryLocked as retryStoreLocked } from "../runtime/retry-locked.ts";

/**
 * The lease database: one small SQLite file in the lock dir, shared by every relay on the host.
 *
 * Why SQLite rather than O_EXCL or flock lock files: a claim must check the name, skip live
 * leases, replace dead ones and insert its own row as one atomic step. `BEGIN IMMEDIATE` gives
 * exactly that (one writer at a time, host-wide, released by the kernel if the writer dies).
 * With O_EXCL files, reclaiming a stale lease needs a delete-then-create dance in which two
 * reclaimers can delete each other's fresh file; flock needs FFI under Bun. The port itself is
 * never protected by the database: the exclusive bind is what makes a port ours, the row is what
 * lets others find it.
 *
 * The default rollback journal (not WAL) is used on purpose: nothing to switch when many
 * processes create the file at once, and the transactions are tiny.
 */

const LEASE_DB = "leases.db";

export interface LeaseRow {
  name: string;
  band: string;
  port: number;
  pid: number;
  /** Clock ticks after boot at which the holder started (`/proc/<pid>/stat` field 22); null off Linux. */
  pid_start_time: number | null;
  /** `/proc/sys/kernel/random/boot_id` when the lease was written; null off Linux. */
  boot_id: string | null;
  url: string;
  /** Milliseconds since the epoch. */
  since: number;
  /** The holder's data dir (where its token lives): `--relay NAME` finds the credential there. */
  data_dir?: string | null;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    band TEXT NOT NULL,
    port INTEGER NOT NULL UNIQUE,
    pid INTEGER NOT NULL,
    pid_start_time INTEGER,
    boot_id TEXT,
    url TEXT NOT NULL,
    since INTEGER NOT NULL
  )`,
  // older relays sharing the lock dir insert rows without it (null: no data dir known)
  "ALTER TABLE leases ADD COLUMN data_dir TEXT",
];

/** Open the lease database, creating the lock dir (0700) and the schema when missing. */
export function openLeaseDb(runtime: Runtime, lockDir: string): SqliteConnection {
  mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  // the default lives in /tmp: refuse a directory someone else created to capture our leases
  const owner = statSync(lockDir).uid;
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0 && owner !== uid)
    throw new ConfigError(
      `lock dir ${lockDir} belongs to uid ${owner}, not to you (uid ${uid}); set A2A_RELAY_LOCK_DIR`,
    );
  const { conn } = runtime.openSqlite(join(lockDir, LEASE_DB));
  try {
    conn.exec("PRAGMA busy_timeout = 10000");
    withWriteLock(conn, () => {
      const [v] = conn.query<{ user_version: number }>("PRAGMA user_version");
      if ((v?.user_version ?? 0) >= SCHEMA.length) return;
      for (const stmt of SCHEMA.slice(v?.user_version ?? 0)) conn.exec(stmt);
      conn.exec(`PRAGMA user_version = ${SCHEMA.length}`);
    });
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}

/** Open the lease database only if it exists (readers must not create lock dirs). */
export function openLeaseDbIfExists(runtime: Runtime, lockDir: string): SqliteConnection | undefined {
  if (!existsSync(join(lockDir, LEASE_DB))) return undefined;
  return openLeaseDb(runtime, lockDir);
}

/** Run `fn` inside `BEGIN IMMEDIATE` (the host-wide write lock); COMMIT, or ROLLBACK on throw. */
export function withWriteLock<T>(conn: SqliteConnection, fn: () => T): T {
  retryLocked(() => conn.exec("BEGIN IMMEDIATE"));
  let result: T;
  try {
    result = fn();
  } catch (err) {
    try {
      conn.exec("ROLLBACK");
    } catch {
      // the transaction is already gone
    }
    throw err;
  }
  try {
    retryLocked(() => conn.exec("COMMIT"));
  } catch (err) {
    try {
      conn.exec("ROLLBACK");
    } catch {
      // nothing to roll back
    }
    throw err;
  }
  return result;
}

/** Retry "database is locked/busy" generously: many relays may start at the same instant. */
export function retryLocked(fn: () => void, attempts = 200): void {
  retryStoreLocked(fn, attempts);
}
