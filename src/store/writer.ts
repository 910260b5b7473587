import type { SqliteConnection } from "../runtime/index.ts";

type Op = {
  fn: () => unknown;
  after: ((v: unknown) => void) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
};

/**
 * Group commit. One writer owns the connection's write side: callers hand it synchronous write
 * operations and await a promise that settles only after the COMMIT that contains the operation.
 * Everything queued within one event-loop turn shares one transaction (and one WAL sync). Each op
 * runs inside its own SAVEPOINT, so one failing op rolls back alone and fails only its caller.
 */
export class Writer {
  #queue: Op[] = [];
  #scheduled = false;
  #closed = false;
  readonly #conn: SqliteConnection;
  readonly #schedule: (fn: () => void) => void;
  // transaction control runs for every op: prepared once, not parsed each time
  readonly #sql: Record<"begin" | "savepoint" | "release" | "rollbackTo" | "commit", { run(): void }>;
  /** Called after each commit with the number of ops in it (metrics). */
  onCommit: ((ops: number) => void) | undefined;

  constructor(conn: SqliteConnection, schedule: (fn: () => void) => void = (fn) => setImmediate(fn)) {
    this.#conn = conn;
    this.#schedule = schedule;
    this.#sql = {
      begin: conn.prepare("BEGIN IMMEDIATE"),
      savepoint: conn.prepare("SAVEPOINT op"),
      release: conn.prepare("RELEASE op"),
      rollbackTo: conn.prepare("ROLLBACK TO op"),
      commit: conn.prepare("COMMIT"),
    };
  }

  /**
   * Queue a write. `after` runs synchronously right after the COMMIT that made it durable, before
   * any other code can observe the database: the place to publish what the write changed.
   */
  run<T>(fn: () => T, after?: (value: T) => void): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        fn,
        after: after as ((v: unknown) => void) | undefined,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => this.flush());
      }
    });
  }

  /** Commit everything queued now. Safe to call directly (shutdown, tests). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    const results: Array<{ ok: boolean; value: unknown }> = [];
    const conn = this.#conn;
    try {
      this.#sql.begin.run();
    } catch (err) {
      for (const op of batch) op.reject(err);
      return;
    }
    // a lone op needs no savepoint: if it fails, the whole (one-op) transaction is rolled back
    const isolate = batch.length > 1;
    for (const op of batch) {
      if (isolate) this.#sql.savepoint.run();
      try {
        const value = op.fn();
        if (isolate) this.#sql.release.run();
        results.push({ ok: true, value });
      } catch (err) {
        if (!isolate) {
          conn.exec("ROLLBACK");
          op.reject(err);
          return;
        }
        this.#sql.rollbackTo.run();
        this.#sql.release.run();
        results.push({ ok: false, value: err });
      }
    }
    try {
      this.#sql.commit.run();
    } catch (err) {
      try {
        conn.exec("ROLLBACK");
      } catch {
        // nothing to roll back
      }
      for (const op of batch) op.reject(err);
      return;
    }
    this.onCommit?.(batch.length);
    batch.forEach((op, i) => {
      const r = results[i]!;
      if (!r.ok) {
        op.reject(r.value);
        return;
      }
      try {
        op.after?.(r.value);
        op.resolve(r.value);
      } catch (err) {
        op.reject(err);
      }
    });
  }

  close(): void {
    this.flush();
    this.#closed = true;
  }
}
