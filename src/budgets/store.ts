import { and, asc, eq, gt, gte, ne, type SQL, sql } from "drizzle-orm";
import type { Drizzle } from "../store/db.ts";
import { budgetLedger, budgetResets } from "../store/schema.ts";

export interface Sums {
  turns: number;
  tokens: number;
  cost: number;
}

export interface Reservation {
  peer: string;
  profile: string;
  contextId: string;
  taskId: string;
  ts: number;
}

/**
 * The budget ledger in SQLite. Writes are synchronous statements meant to run inside the
 * group-commit writer (or directly, from the CLI); reads see committed rows only.
 */
export class LedgerStore {
  readonly #db: Drizzle;
  readonly #afterId;
  readonly #sums;
  readonly #profileSums;
  readonly #contextTurns;
  readonly #profileContextTurns;

  constructor(db: Drizzle) {
    this.#db = db;
    const P = sql.placeholder;
    this.#afterId = db
      .select({ afterId: budgetResets.afterId, resetAt: budgetResets.resetAt })
      .from(budgetResets)
      .where(eq(budgetResets.peer, P("peer")))
      .prepare();
    // every read counts the peer's rows since its last reset that were not refunded
    const counted = (...more: SQL[]) =>
      and(
        eq(budgetLedger.peer, P("peer")),
        gt(budgetLedger.id, P("afterId")),
        ne(budgetLedger.state, "refunded"),
        ...more,
      );
    const sumsWhere = (where: SQL | undefined) =>
      db
        .select({
          turns: sql<number>`count(*)`,
          tokens: sql<number>`coalesce(sum(${budgetLedger.tokens}), 0)`,
          cost: sql<number>`coalesce(sum(${budgetLedger.costUsd}), 0)`,
        })
        .from(budgetLedger)
        .where(where)
        .prepare();
    const countWhere = (where: SQL | undefined) =>
      db.select({ n: sql<number>`count(*)` }).from(budgetLedger).where(where).prepare();
    const inWindow = gte(budgetLedger.ts, P("since"));
    const onProfile = eq(budgetLedger.profile, P("profile"));
    const inContext = eq(budgetLedger.contextId, P("ctx"));
    this.#sums = sumsWhere(counted(inWindow));
    this.#profileSums = sumsWhere(counted(inWindow, onProfile));
    this.#contextTurns = countWhere(counted(inContext));
    this.#profileContextTurns = countWhere(counted(inContext, onProfile));
  }

  /** Rows up to this id were reset away for `peer` (0: never reset). */
  reset(peer: string): { afterId: number; resetAt: number | undefined } {
    const r = this.#afterId.get({ peer });
    return { afterId: r?.afterId ?? 0, resetAt: r?.resetAt };
  }

  sums(peer: string, since: number, afterId: number): Sums {
    const r = this.#sums.get({ peer, since, afterId });
    return { turns: r?.turns ?? 0, tokens: r?.tokens ?? 0, cost: r?.cost ?? 0 };
  }

  /** Use of `peer` on one profile inside a window (per-profile limits). */
  profileSums(peer: string, profile: string, since: number, afterId: number): Sums {
    const r = this.#profileSums.get({ peer, profile, since, afterId });
    return { turns: r?.turns ?? 0, tokens: r?.tokens ?? 0, cost: r?.cost ?? 0 };
  }

  /** Turns of `peer` in one conversation on one profile, all time since the last reset. */
  profileContextTurns(peer: string, profile: string, contextId: string, afterId: number): number {
    return this.#profileContextTurns.get({ peer, profile, ctx: contextId, afterId })?.n ?? 0;
  }

  contextTurns(peer: string, contextId: string, afterId: number): number {
    return this.#contextTurns.get({ peer, ctx: contextId, afterId })?.n ?? 0;
  }

  /** Counted rows inside the window, oldest first (to tell when usage drops below a limit). */
  oldest(
    peer: string,
    since: number,
    afterId: number,
    limit = 10_000,
  ): Array<{ ts: number; tokens: number; cost: number }> {
    return this.#db
      .select({ ts: budgetLedger.ts, tokens: budgetLedger.tokens, cost: budgetLedger.costUsd })
      .from(budgetLedger)
      .where(
        and(
          eq(budgetLedger.peer, peer),
          gte(budgetLedger.ts, since),
          gt(budgetLedger.id, afterId),
          ne(budgetLedger.state, "refunded"),
        ),
      )
      .orderBy(asc(budgetLedger.ts))
      .limit(limit)
      .all();
  }

  insert(r: Reservation): number {
    const row = this.#db
      .insert(budgetLedger)
      .values({ ...r, state: "reserved" })
      .returning({ id: budgetLedger.id })
      .get();
    return row.id;
  }

  markStarted(id: number): void {
    this.#db.update(budgetLedger).set({ state: "started" }).where(eq(budgetLedger.id, id)).run();
  }

  settle(id: number, tokens: number, cost: number, now: number): void {
    this.#db
      .update(budgetLedger)
      .set({ state: "settled", tokens, costUsd: cost, settledAt: now })
      .where(eq(budgetLedger.id, id))
      .run();
  }

  refund(id: number, now: number): void {
    this.#db
      .update(budgetLedger)
      .set({ state: "refunded", settledAt: now })
      .where(eq(budgetLedger.id, id))
      .run();
  }

  /** Forget `peer`'s use so far: every row up to the newest no longer counts. */
  resetPeer(peer: string, now: number): void {
    const max = this.#db
      .select({ id: sql<number>`coalesce(max(${budgetLedger.id}), 0)` })
      .from(budgetLedger)
      .get();
    this.#db
      .insert(budgetResets)
      .values({ peer, afterId: max?.id ?? 0, resetAt: now })
      .onConflictDoUpdate({ target: budgetResets.peer, set: { afterId: max?.id ?? 0, resetAt: now } })
      .run();
  }

  /**
   * After a restart: a turn still `reserved` never started (refund it); one `started` ran with
   * unknown usage (it counts as a turn with no tokens).
   */
  recover(now: number): { refunded: number; settled: number } {
    const refunded = this.#db
      .update(budgetLedger)
      .set({ state: "refunded", settledAt: now })
      .where(eq(budgetLedger.state, "reserved"))
      .returning({ id: budgetLedger.id })
      .all().length;
    const settled = this.#db
      .update(budgetLedger)
      .set({ state: "settled", settledAt: now })
      .where(eq(budgetLedger.state, "started"))
      .returning({ id: budgetLedger.id })
      .all().length;
    return { refunded, settled };
  }
}
