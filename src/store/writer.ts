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
  /** Called after each commit with the number of ops in it (metrics). */
  onCommit: ((ops: number) => void) | undefined;

  constructor(conn: SqliteConnection, schedule: (fn: () => void) => void = (fn) => setImmediate(fn)) {
    this.#conn = conn;
    this.#schedule = schedule;
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
      conn.exec("BEGIN IMMEDIATE");
    } catch (err) {
      for (const op of batch) op.reject(err);
      return;
    }
    for (const op of batch) {
      conn.exec("SAVEPOINT op");
      try {
        const value = op.fn();
        conn.exec("RELEASE op");
        results.push({ ok: true, value });
      } catch (err) {
        conn.exec("ROLLBACK TO op");
        conn.exec("RELEASE op");
        results.push({ ok: false, value: err });
      }
    }
    try {
      conn.exec("COMMIT");
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
