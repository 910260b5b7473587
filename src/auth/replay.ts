import type { SqliteConnection } from "../runtime/index.ts";
import type { Writer } from "../store/writer.ts";

/** Remembers accepted JWT ids until they expire, so a replayed token is refused. */
export interface ReplayGuard {
  /** True when (peer, jti) is new and is now remembered; false when it was seen before. */
  remember(peer: string, jti: string, expiresAtMs: number): Promise<boolean>;
}

/**
 * The `jwt_replay` table. A token is judged at once: refused if its id is in the table or waiting
 * to be written by this process; otherwise its id rides into the group-commit writer's next
 * commit and the request goes on without waiting for it (measured: awaiting it added a commit
 * round to every JWT request; a commit of its own split every request's writes in two whenever
 * the task waited for a budget store's answer). Riders go first into the next transaction, so the
 * id is on disk no later than anything the request itself writes (its task): a crash cannot leave
 * a recorded task whose token may be replayed. Expired rows are pruned at most once per
 * `pruneEveryMs`.
 */
export class SqliteReplayGuard implements ReplayGuard {
  #lastPrune = Number.NEGATIVE_INFINITY;
  /** Ids accepted but not committed yet (key: peer NUL jti). */
  readonly #pending = new Set<string>();

  constructor(
    private readonly conn: SqliteConnection,
    private readonly writer: Writer,
    private readonly now: () => number = Date.now,
    private readonly pruneEveryMs = 60_000,
  ) {}

  remember(peer: string, jti: string, expiresAtMs: number): Promise<boolean> {
    const key = `${peer}\u0000${jti}`;
    if (this.#pending.has(key) || this.#seen(peer, jti)) return Promise.resolve(false);
    this.#pending.add(key);
    const forget = () => this.#pending.delete(key);
    this.writer
      .ride(() => {
        const t = this.now();
        if (t - this.#lastPrune >= this.pruneEveryMs) {
          this.#lastPrune = t;
          this.conn.query("DELETE FROM jwt_replay WHERE expires_at < ?", [t]);
        }
        this.conn.query(
          "INSERT INTO jwt_replay (jti, peer, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
          [jti, peer, Math.ceil(expiresAtMs)],
        );
      }, forget)
      .catch(forget);
    return Promise.resolve(true);
  }

  #seen(peer: string, jti: string): boolean {
    return this.conn.query("SELECT 1 FROM jwt_replay WHERE peer = ? AND jti = ?", [peer, jti]).length > 0;
  }

  /** Rows currently remembered (tests, metrics). */
  count(): number {
    return this.conn.query<{ n: number }>("SELECT count(*) AS n FROM jwt_replay")[0]?.n ?? 0;
  }
}
