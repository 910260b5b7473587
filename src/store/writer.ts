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
  /** Writes waiting for the next commit that happens anyway (see `ride`). */
  #riders: Op[] = [];
  #rideTimer: ReturnType<typeof setTimeout> | undefined;
  #scheduled = false;
  #closed = false;
  readonly #conn: SqliteConnection;
  readonly #schedule: (fn: () => void) => void;
  // transaction control runs for every op: prepared once, not parsed each time
  readonly #sql: Record<"begin" | "savepoint" | "release" | "rollbackTo" | "commit", { run(): void }>;
  /** Writes deferred to the end of the transaction, by key (see `defer`). */
  #deferred = new Map<string, () => void>();
  /** The current op's deferrals: merged into `#deferred` only if the op succeeds. */
  #opDeferred: Map<string, () => void> | undefined;
  /** Called after each commit with the number of ops in it (metrics). */
  onCommit: ((ops: number) => void) | undefined;
  /** Called when a transaction could not be begun, run or committed (disk full, I/O error). */
  onFailure: ((err: unknown) => void) | undefined;

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
    return this.#enqueue(fn, after, (op) => {
      this.#queue.push(op);
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => this.flush());
      }
    });
  }

  /**
   * Queue a write that does not call for a commit of its own: it goes first into the next
   * transaction (the one of a `run` queued meanwhile), or into one of its own after `maxDelayMs`
   * when nothing else is written. For a write that only has to be on disk no later than what the
   * same request writes next (a JWT id before its task, even when the task waits for a budget
   * store's answer): it saves a commit per request.
   */
  ride<T>(fn: () => T, after?: (value: T) => void, maxDelayMs = 20): Promise<T> {
    return this.#enqueue(fn, after, (op) => {
      this.#riders.push(op);
      if (this.#rideTimer === undefined) {
        this.#rideTimer = setTimeout(() => {
          this.#rideTimer = undefined;
          this.flush();
        }, maxDelayMs);
        this.#rideTimer.unref?.();
      }
    });
  }

  /** A queue entry for `fn`, settled after the commit that contains it; `put` files it. */
  #enqueue<T>(fn: () => T, after: ((value: T) => void) | undefined, put: (op: Op) => void): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return new Promise<T>((resolve, reject) =>
      put({
        fn,
        after: after as ((v: unknown) => void) | undefined,
        resolve: resolve as (v: unknown) => void,
        reject,
      }),
    );
  }

  /**
   * Inside an op: run `fn` just before this transaction commits, once per `key`; a later deferral
   * with the same key replaces it (the latest snapshot of a row wins, so a row changed by several
   * ops in one transaction is written once). Dropped if the op that deferred it fails.
   */
  defer(key: string, fn: () => void): void {
    if (!this.#opDeferred) throw new Error("Writer.defer is only valid inside a queued write");
    this.#opDeferred.set(key, fn);
  }

  /** Commit everything queued now. Safe to call directly (shutdown, tests). */
  flush(): void {
    this.#scheduled = false;
    let batch = this.#queue;
    if (this.#riders.length > 0) {
      batch = [...this.#riders, ...batch];
      this.#riders = [];
      clearTimeout(this.#rideTimer);
      this.#rideTimer = undefined;
    }
    if (batch.length === 0) return;
    this.#queue = [];
    const results: Array<{ ok: boolean; value: unknown }> = [];
    const conn = this.#conn;
    try {
      this.#sql.begin.run();
    } catch (err) {
      this.onFailure?.(err);
      for (const op of batch) op.reject(err);
      return;
    }
    // a lone op needs no savepoint: if it fails, the whole (one-op) transaction is rolled back
    const isolate = batch.length > 1;
    for (const op of batch) {
      if (isolate) this.#sql.savepoint.run();
      this.#opDeferred = new Map();
      try {
        const value = op.fn();
        if (isolate) this.#sql.release.run();
        for (const [k, fn] of this.#opDeferred) this.#deferred.set(k, fn);
        results.push({ ok: true, value });
      } catch (err) {
        if (!isolate) {
          this.#opDeferred = undefined;
          try {
            conn.exec("ROLLBACK");
          } catch {
            // nothing to roll back
          }
          if (isStorageError(err)) this.onFailure?.(err);
          op.reject(err);
          return;
        }
        this.#sql.rollbackTo.run();
        this.#sql.release.run();
        results.push({ ok: false, value: err });
      }
    }
    this.#opDeferred = undefined;
    const deferred = this.#deferred;
    this.#deferred = new Map();
    try {
      for (const fn of deferred.values()) fn();
      this.#sql.commit.run();
    } catch (err) {
      try {
        conn.exec("ROLLBACK");
      } catch {
        // nothing to roll back
      }
      this.onFailure?.(err);
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

/** SQLite's "the file cannot take this write" errors (not a constraint of the op itself). */
function isStorageError(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? "");
  const msg = String((err as { message?: unknown })?.message ?? "");
  return (
    /SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|BUSY|LOCKED)/.test(code) ||
    /disk|full|I\/O|readonly/i.test(msg)
  );
}
