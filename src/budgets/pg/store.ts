import { sql } from "drizzle-orm";
import type postgres from "postgres";
import type { Reservation, Sums } from "../store.ts";
import type { UseRow } from "../tally.ts";
import type { PgCalls, PgDb } from "./connect.ts";
import { countCall } from "./count.ts";
import type { BatchResult, BatchStatus, Counted, Gates, WireOp } from "./wire.ts";

/**
 * The shared ledger's operations. Admitting, starting and ending turns are calls of functions in
 * the database (drizzle/pg/0002_functions.sql, 0003_batch.sql) that take the peer's advisory
 * lock, read the peer's use from its running totals and write the turns' rows before COMMIT: two
 * relays cannot both see room for one turn, and the lock is held only while the function runs.
 */
export class PgLedgerStore {
  readonly db: PgDb;
  readonly #sql: postgres.Sql;
  /** The client of `batch` (PgConnection.calls); `client` when not given. */
  readonly #calls: PgCalls;
  /** This process's instance id: the holder of the rows it reserves. */
  readonly instance: string;

  constructor(db: PgDb, client: postgres.Sql, instance: string, calls?: PgCalls) {
    this.db = db;
    this.#sql = client;
    this.#calls = calls ?? (client as unknown as PgCalls);
    this.instance = instance;
  }

  /**
   * Apply one peer's waiting operations in one call of a2a_relay_batch (drizzle/pg/0003_batch.sql),
   * in order, under one hold of the peer's lock: `g` carries the peer's window and limits (its
   * profile fields are unused), each operation its own profile's. One result per operation.
   */
  async batch(g: Gates, now: number, ops: WireOp[]): Promise<BatchResult[]> {
    if (setBased(g, ops)) return countCall(this.#calls, this.instance, g, now, ops);
    const rows = (await this.#calls`select * from a2a_relay_batch(
      ${g.peer}, ${this.instance}, ${now}, ${g.wnd}, ${g.since},
      ${g.maxTurns}, ${g.maxTokens}, ${g.maxCost}, ${g.maxInflight}, ${g.maxConcurrent}, ${g.maxCtx},
      ${JSON.stringify(ops)}::text::jsonb)`) as BatchRow[];
    if (rows.length !== ops.length)
      throw new Error(`a2a_relay_batch returned ${rows.length} of ${ops.length} rows`);
    const n = (v: Num) => Number(v ?? 0);
    return rows.map((row) => ({
      id: row.o_id === null ? undefined : Number(row.o_id),
      status: row.o_status,
      use: {
        turns: n(row.o_turns),
        tokens: n(row.o_tokens),
        cost: n(row.o_cost),
        running: n(row.o_running),
        inflight: n(row.o_inflight),
        contextTurns: n(row.o_ctx),
        ...(row.o_pturns !== null
          ? {
              profile: {
                turns: n(row.o_pturns),
                tokens: n(row.o_ptokens),
                cost: n(row.o_pcost),
                contextTurns: n(row.o_pctx),
              },
            }
          : {}),
      },
    }));
  }

  /** End one open turn of this instance on its own (an unwritten end after an outage). */
  async finish(
    peer: string,
    key: number | Counted,
    refund: boolean,
    tokens: number,
    cost: number,
    now: number,
  ): Promise<void> {
    if (typeof key === "number")
      await this
        .#sql`select a2a_relay_finish(${key}, ${this.instance}, ${refund}, ${tokens}, ${cost}, ${now})`;
    else
      await this.#sql`select a2a_relay_uncount(${peer}, ${key.lease}, ${key.ts}, ${key.gen}, ${key.profile},
        ${refund}, ${tokens}, ${cost})`;
  }

  /** Register this instance (or say it is alive). False when it had been given up as dead. */
  async heartbeat(relay: string): Promise<boolean> {
    const rows = await this.db.execute<{ fresh: boolean }>(sql`
      insert into budget_relays (id, relay) values (${this.instance}, ${relay})
      on conflict (id) do update set heartbeat_at = now()
      returning (xmax = 0) as fresh`);
    return rows[0]?.fresh !== true;
  }

  /**
   * Hand back the open turns of every instance silent for longer than `leaseS`: reserved turns
   * are refunded, started ones settle as a turn of unknown usage. Each instance's row is deleted
   * first, so of several relays noticing at once exactly one hands its turns back.
   */
  async reap(leaseS: number, now: number): Promise<{ relays: number; refunded: number; settled: number }> {
    const [r] = await this.#sql<{ relays: number; refunded: number; settled: number }[]>`
      select * from a2a_relay_reap(${leaseS}, ${now})`;
    return { relays: r?.relays ?? 0, refunded: r?.refunded ?? 0, settled: r?.settled ?? 0 };
  }

  /**
   * After a restart: hand back the open turns of earlier instances whose id starts with `prefix`
   * (the same relay on the same data dir, which one process holds at a time: they are dead).
   */
  async reapSiblings(prefix: string, now: number): Promise<{ refunded: number; settled: number }> {
    const ids = await this.#sql<{ id: string }[]>`
      select id from budget_relays where starts_with(id, ${prefix}) and id <> ${this.instance}`;
    const out = { refunded: 0, settled: 0 };
    for (const { id } of ids) {
      const [r] = await this.#sql<{ refunded: number; settled: number }[]>`
        select * from a2a_relay_reap(0, ${now}, ${id})`;
      out.refunded += r?.refunded ?? 0;
      out.settled += r?.settled ?? 0;
    }
    return out;
  }

  /** A clean stop: hand back this instance's open turns and leave. */
  async leave(now: number): Promise<void> {
    await this.#sql`select * from a2a_relay_reap(0, ${now}, ${this.instance})`;
  }

  /** Forget `peer`'s use so far: rows up to the newest no longer count (under the peer's lock). */
  async resetPeer(peer: string, now: number): Promise<void> {
    await this.#sql`select a2a_relay_reset(${peer}, ${now})`;
  }

  /**
   * For reports, in one round trip: the peer's reset, its use in window `wnd` starting at `since`,
   * and its open turns. The use comes from the window's running totals when they are for this
   * window and reset, less the rows that left the window since they were last brought forward
   * (few); only without such totals are the window's rows summed. Nothing is read row by row.
   */
  async reportUse(
    peer: string,
    wnd: string,
    since: number,
  ): Promise<{ resetAt: number | undefined; use: Sums; running: number; queued: number }> {
    const [r] = await this.#sql<ReportRow[]>`
      with r as (
        select coalesce(max(x.after_id), 0)::bigint as after_id, max(x.reset_at) as reset_at
        from budget_resets x where x.peer = ${peer}
      ), t as (
        select b.* from budget_totals b, r
        where b.scope = ${peer} and b.wnd = ${wnd} and b.after_id = r.after_id and b.cursor_ts <= ${since}
      )
      select r.reset_at,
        coalesce(t.turns - lft.turns, whole.turns)::float8 as turns,
        coalesce(t.tokens - lft.tokens, whole.tokens)::float8 as tokens,
        coalesce(t.cost - lft.cost, whole.cost)::float8 as cost,
        o.running, o.inflight - o.running as queued
      from r
      left join t on true
      left join lateral (
        select sum(x.turns) as turns, sum(x.tokens) as tokens, sum(x.cost) as cost from (
          select count(*) as turns, coalesce(sum(l.tokens), 0)::float8 as tokens, coalesce(sum(l.cost_usd), 0) as cost
          from budget_ledger l
          where t.scope is not null and l.peer = ${peer} and l.id > r.after_id and l.ts >= t.cursor_ts
            and l.ts < ${since} and l.state <> 'refunded'
          union all
          select coalesce(sum(u.turns), 0), coalesce(sum(u.tokens), 0), coalesce(sum(u.cost), 0)
          from budget_usage u
          where t.scope is not null and u.peer = ${peer} and u.ts >= t.cursor_ts and u.ts < ${since}
            and u.gen = r.after_id) x
      ) lft on true
      left join lateral (
        select sum(x.turns) as turns, sum(x.tokens) as tokens, sum(x.cost) as cost from (
          select count(*) as turns, coalesce(sum(l.tokens), 0)::float8 as tokens, coalesce(sum(l.cost_usd), 0) as cost
          from budget_ledger l
          where t.scope is null and l.peer = ${peer} and l.id > r.after_id and l.ts >= ${since} and l.state <> 'refunded'
          union all
          select coalesce(sum(u.turns), 0), coalesce(sum(u.tokens), 0), coalesce(sum(u.cost), 0)
          from budget_usage u
          where t.scope is null and u.peer = ${peer} and u.ts >= ${since} and u.gen = r.after_id) x
      ) whole on true
      cross join a2a_relay_open(${peer}) o`;
    return {
      resetAt: r?.reset_at == null ? undefined : Number(r.reset_at),
      use: { turns: Number(r?.turns ?? 0), tokens: Number(r?.tokens ?? 0), cost: Number(r?.cost ?? 0) },
      running: r?.running ?? 0,
      queued: r?.queued ?? 0,
    };
  }

  /** For reports: the peer's reset, counted rows at or after `since`, and its open turns. */
  async reportRows(
    peer: string,
    since: number,
  ): Promise<{ resetAt: number | undefined; rows: UseRow[]; running: number; queued: number }> {
    const [reset] = await this.db.execute<{ after_id: string; reset_at: string }>(
      sql`select after_id, reset_at from budget_resets where peer = ${peer}`,
    );
    const afterId = Number(reset?.after_id ?? 0);
    // the ledger's rows and the counted seconds, oldest first
    const rows = await this.db.execute<{ ts: string; turns: string; tokens: string; cost: number }>(sql`
      select ts, 1 as turns, tokens::float8 as tokens, cost_usd as cost from budget_ledger
      where peer = ${peer} and id > ${afterId} and ts >= ${since} and state <> 'refunded'
      union all
      select ts, turns, tokens, cost from budget_usage
      where peer = ${peer} and gen = ${afterId} and ts >= ${since} and turns > 0
      order by ts`);
    const [open] = await this.db.execute<{ running: number; queued: number }>(sql`
      select running, inflight - running as queued from a2a_relay_open(${peer})`);
    return {
      resetAt: reset ? Number(reset.reset_at) : undefined,
      rows: rows.map((r) => ({
        ts: Number(r.ts),
        turns: Number(r.turns),
        tokens: Number(r.tokens),
        cost: Number(r.cost),
      })),
      running: open?.running ?? 0,
      queued: open?.queued ?? 0,
    };
  }

  /**
   * Delete up to `limit` closed rows of `peer` (and `limit` counted seconds) older than `cutoff`
   * that no window counts any more: also older than every running total's cursor (a row a total
   * still counts is subtracted from it when it leaves the window, so it must stay until then). The
   * turns deleted. A counted second may hold a turn still running: its end then finds no second
   * to add its usage to, which no window counts anyway.
   */
  async prune(peer: string, cutoff: number, limit = 5000): Promise<number> {
    const [r] = await this.#sql<{ n: number }[]>`
      with c as (
        select least(${cutoff}::bigint,
          coalesce((select min(t.cursor_ts) from budget_totals t where t.peer = ${peer}), ${cutoff}::bigint)) as ts
      ), l as (
        delete from budget_ledger where id in (
          select l.id from budget_ledger l, c
          where l.peer = ${peer} and l.state in ('settled', 'refunded') and l.ts < c.ts
          limit ${limit})
        returning id
      ), u as (
        delete from budget_usage where ctid in (
          select u.ctid from budget_usage u, c where u.peer = ${peer} and u.ts < c.ts limit ${limit})
        returning turns
      )
      select ((select count(*) from l) + coalesce((select sum(turns) from u), 0))::int as n`;
    return r?.n ?? 0;
  }

  /**
   * Turns a relay ran on its own while the store was down, added once each (`ref` is unique);
   * a turn from before the peer's last reset is left out.
   */
  async importSettled(
    rows: Array<Reservation & { tokens: number; cost: number; settledAt: number; ref: string }>,
  ): Promise<number> {
    let added = 0;
    for (const r of rows) {
      const [x] = await this.#sql<{ added: boolean }[]>`select a2a_relay_import(
        ${r.peer}, ${r.profile}, ${r.contextId}, ${r.taskId}, ${r.ts}, ${r.tokens}, ${r.cost},
        ${r.settledAt}, ${r.ref}) as added`;
      if (x?.added) added++;
    }
    return added;
  }
}

/** The channel a settle or refund notifies (payload: the peer) so waiting turns look again. */
export const CHANNEL = "a2a_relay_budget";

// internal

/**
 * Whether a2a_relay_count can apply `ops`: its ends before its admissions, no start of a waiting
 * turn, and no limit per conversation or per profile (each admission would need its own counts).
 */
function setBased(g: Gates, ops: WireOp[]): boolean {
  if (g.maxCtx !== null) return false;
  let admits = false;
  for (const op of ops) {
    if (op.k === "s" || ((op.k === "f" || op.k === "c") && admits)) return false;
    if (op.k === "a") {
      if (op.pwnd !== null) return false;
      admits = true;
    }
  }
  return true;
}

type Num = string | number | null;
interface ReportRow {
  reset_at: string | null;
  turns: number;
  tokens: number;
  cost: number;
  running: number;
  queued: number;
}
interface BatchRow {
  o_ord: number;
  o_id: Num;
  o_status: BatchStatus;
  o_turns: Num;
  o_tokens: Num;
  o_cost: Num;
  o_running: Num;
  o_inflight: Num;
  o_ctx: Num;
  o_pturns: Num;
  o_ptokens: Num;
  o_pcost: Num;
  o_pctx: Num;
}
