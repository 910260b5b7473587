import type { SqliteConnection } from "../runtime/index.ts";
import type { Writer } from "../store/writer.ts";

/** Remembers accepted JWT ids until they expire, so a replayed token is refused. */
export interface ReplayGuard {
  /** True when (peer, jti) is new and is now remembered; false when it was seen before. */
  remember(peer: string, jti: string, expiresAtMs: number): Promise<boolean>;
}

/**
 * The `jwt_replay` table, written through the group-commit writer: the answer is given only after
 * the COMMIT that recorded the id. Two requests carrying the same id in one batch run one after
 * the other inside it, so exactly one wins. Expired rows are pruned at most once per `pruneEveryMs`.
 */
export class SqliteReplayGuard implements ReplayGuard {
  #lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly conn: SqliteConnection,
    private readonly writer: Writer,
    private readonly now: () => number = Date.now,
    private readonly pruneEveryMs = 60_000,
  ) {}

  remember(peer: string, jti: string, expiresAtMs: number): Promise<boolean> {
    return this.writer.run(() => {
      const t = this.now();
      if (t - this.#lastPrune >= this.pruneEveryMs) {
        this.#lastPrune = t;
        this.conn.query("DELETE FROM jwt_replay WHERE expires_at < ?", [t]);
      }
      const rows = this.conn.query(
        "INSERT INTO jwt_replay (jti, peer, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING jti",
        [jti, peer, Math.ceil(expiresAtMs)],
      );
      return rows.length === 1;
    });
  }

  /** Rows currently remembered (tests, metrics). */
  count(): number {
    return this.conn.query<{ n: number }>("SELECT count(*) AS n FROM jwt_replay")[0]?.n ?? 0;
  }
}
