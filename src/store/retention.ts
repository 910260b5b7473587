import type { SqliteConnection } from "../runtime/index.ts";

/**
 * Retention: what `[store] retain` lets go. Terminal tasks last changed before the cutoff go with
 * their events, push configs and outbox rows; dispatch (retry) records and idle conversation
 * sessions older than the cutoff too; budget ledger rows once no window can count them. Deleted in
 * small batches, each its own short transaction, so no request waits long behind the write lock;
 * freed pages are reused by new rows and returned to the file system a few at a time
 * (`auto_vacuum = INCREMENTAL`). Used by the running relay and by `a2a-relay store prune`.
 */

export interface PruneCounts {
  tasks: number;
  events: number;
  dispatches: number;
  sessions: number;
  ledger: number;
  pushOutbox: number;
}

export interface PruneOptions {
  /** Terminal tasks, dispatches and sessions last changed before this instant (epoch ms) go. */
  cutoff: number;
  /** Per peer: ledger rows before this instant no longer count in any of its windows. */
  ledgerCutoff: (peer: string) => number;
  /** Rows per batch (default 500). */
  batch?: number;
  /** Runs one batch's statements in a write transaction (the relay's writer, or a plain one). */
  write: <T>(fn: () => T) => Promise<T>;
  /** Lets other work run between batches (default: the next macrotask). */
  pause?: () => Promise<void>;
}

/**
 * The statements of a pass, each answered from an index whatever the store holds (a test checks
 * their plans): a pass runs inside the writer's transaction, so a statement that read every row
 * would hold every request behind it (at 1M stored tasks, ~1 s each pass).
 */
/**
 * `write` for a pass outside a running relay (the CLI's `store prune`, tests): each batch in a
 * plain transaction of its own on `conn`.
 */
export function transactionWrite(conn: { exec(sql: string): void }): PruneOptions["write"] {
  return async (fn) => {
    conn.exec("BEGIN IMMEDIATE");
    try {
      const v = fn();
      conn.exec("COMMIT");
      return v;
    } catch (err) {
      conn.exec("ROLLBACK");
      throw err;
    }
  };
}

export const PRUNE_SQL = {
  // `+state`: without it SQLite (no statistics) picks tasks_state and reads every terminal task,
  // then sorts them; the range on updated_at is what bounds the read
  tasks: (states: string) =>
    `SELECT id FROM tasks WHERE updated_at < ? AND +state IN (${states}) ORDER BY updated_at LIMIT ?`,
  dispatches:
    "DELETE FROM dispatches WHERE rowid IN (SELECT rowid FROM dispatches WHERE created_at < ? LIMIT ?)",
  // a conversation idle since the cutoff; never one whose turn waits for a post-back
  sessions: `DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE updated_at < ?
    AND coalesce(data_json, '') NOT LIKE '%"waiting"%' LIMIT ?)`,
  // settled or refunded rows only (a reservation still open always counts): older than every
  // window of the peer (budget_ledger_peer_ts), or up to its last reset (the row id)
  ledgerBefore: `DELETE FROM budget_ledger WHERE id IN (SELECT id FROM budget_ledger WHERE peer = ? AND ts < ?
    AND state IN ('settled', 'refunded') LIMIT ?)`,
  // (the reset's time bounds the range: its rows were all admitted before it)
  ledgerReset: `DELETE FROM budget_ledger WHERE id IN (SELECT id FROM budget_ledger WHERE peer = ? AND ts <= ?
    AND id <= ? AND state IN ('settled', 'refunded') LIMIT ?)`,
  // the peers with ledger rows, one index probe each (DISTINCT would read the whole index)
  ledgerPeers: `WITH RECURSIVE p(peer) AS (SELECT min(peer) FROM budget_ledger
    UNION ALL SELECT (SELECT min(peer) FROM budget_ledger WHERE peer > p.peer) FROM p WHERE p.peer IS NOT NULL)
    SELECT peer FROM p WHERE peer IS NOT NULL`,
} as const;

const TERMINAL_STATES = [
  "TASK_STATE_COMPLETED",
  "TASK_STATE_FAILED",
  "TASK_STATE_CANCELED",
  "TASK_STATE_REJECTED",
] as const;

/** Delete everything the cutoff lets go, batch by batch. */
export async function prune(conn: SqliteConnection, o: PruneOptions): Promise<PruneCounts> {
  const n = o.batch ?? 500;
  const pause = o.pause ?? (() => new Promise<void>((r) => setTimeout(r, 0)));
  const counts: PruneCounts = { tasks: 0, events: 0, dispatches: 0, sessions: 0, ledger: 0, pushOutbox: 0 };
  const states = TERMINAL_STATES.map((s) => `'${s}'`).join(",");
  for (;;) {
    const done = await o.write(() => {
      const ids = conn.query<{ id: string }>(PRUNE_SQL.tasks(states), [o.cutoff, n]).map((r) => r.id);
      for (const id of ids) {
        counts.events += changes(conn, "DELETE FROM task_events WHERE task_id = ?", [id]);
        conn.query("DELETE FROM push_configs WHERE task_id = ?", [id]);
        counts.pushOutbox += changes(conn, "DELETE FROM push_outbox WHERE task_id = ?", [id]);
        conn.query("DELETE FROM tasks WHERE id = ?", [id]);
      }
      counts.tasks += ids.length;
      return ids.length < n;
    });
    if (done) break;
    await pause();
  }
  for (;;) {
    const got = await o.write(() => changes(conn, PRUNE_SQL.dispatches, [o.cutoff, n]));
    counts.dispatches += got;
    if (got < n) break;
    await pause();
  }
  for (;;) {
    const got = await o.write(() => changes(conn, PRUNE_SQL.sessions, [o.cutoff, n]));
    counts.sessions += got;
    if (got < n) break;
    await pause();
  }
  const peers = conn.query<{ peer: string }>(PRUNE_SQL.ledgerPeers).map((r) => r.peer);
  for (const peer of peers) {
    const before = o.ledgerCutoff(peer);
    const reset = conn.query<{ afterId: number; resetAt: number }>(
      "SELECT after_id AS afterId, reset_at AS resetAt FROM budget_resets WHERE peer = ?",
      [peer],
    )[0];
    // rows older than every window, then rows a reset left behind: two index ranges (one
    // statement with `ts < ? OR id <= ?` would read every row of the peer each pass)
    const ranges: Array<[string, number[]]> = [[PRUNE_SQL.ledgerBefore, [before]]];
    if (reset) ranges.push([PRUNE_SQL.ledgerReset, [reset.resetAt, reset.afterId]]);
    for (const [sql, bounds] of ranges) {
      for (;;) {
        const got = await o.write(() => changes(conn, sql, [peer, ...bounds, n]));
        counts.ledger += got;
        if (got < n) break;
        await pause();
      }
    }
  }
  // hand some freed pages back to the file system (the rest are reused by new rows)
  await o.write(() => conn.exec("PRAGMA incremental_vacuum(2000)"));
  return counts;
}

/** Sizes and rows of the relay database, for `a2a-relay store stats`. */
export function storeStats(conn: SqliteConnection): Record<string, number | string | null> {
  const one = (sql: string) => Object.values(conn.query<Record<string, unknown>>(sql)[0] ?? {})[0];
  const count = (table: string) => Number(one(`SELECT count(*) FROM ${table}`));
  const oldest = one("SELECT min(created_at) FROM tasks");
  return {
    pageSize: Number(one("PRAGMA page_size")),
    pages: Number(one("PRAGMA page_count")),
    freePages: Number(one("PRAGMA freelist_count")),
    tasks: count("tasks"),
    taskEvents: count("task_events"),
    dispatches: count("dispatches"),
    sessions: count("sessions"),
    budgetLedger: count("budget_ledger"),
    pushOutbox: count("push_outbox"),
    oldestTask: typeof oldest === "number" ? new Date(oldest).toISOString() : null,
  };
}

// internal

function changes(conn: SqliteConnection, sql: string, params: unknown[]): number {
  conn.query(sql, params);
  return Number(Object.values(conn.query<Record<string, unknown>>("SELECT changes()")[0] ?? {})[0] ?? 0);
}
