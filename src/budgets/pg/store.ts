import { sql } from "drizzle-orm";
import type postgres from "postgres";
import type { Reservation, Sums } from "../store.ts";
import type { UseRow } from "../tally.ts";
import type { PgCalls, PgDb } from "./connect.ts";

/** A peer's committed use as one admission or start sees it, read under the peer's lock. */
export interface PeerUse {
  /** In the peer's window, since its last reset (reserved, started and settled rows). */
  turns: number;
  tokens: number;
  cost: number;
  /** Turns started and not settled (fleet-wide), and those reserved or started. */
  running: number;
  inflight: number;
  /** Turns in the conversation, since the last reset (only when asked for). */
  contextTurns: number;
  /** The same on one profile (only when asked for). */
  profile?: { turns: number; tokens: number; cost: number; contextTurns: number };
}

/** The limits and windows one admission or start is checked against (null: not set). */
export interface Gates {
  peer: string;
  profile: string;
  contextId: string;
  wnd: string;
  since: number;
  /** The profile's own window, when the peer has limits on that profile. */
  pwnd: string | null;
  psince: number | null;
  maxTurns: number | null;
  maxTokens: number | null;
  maxCost: number | null;
  /** max_concurrent + max_queued */
  maxInflight: number | null;
  maxConcurrent: number | null;
  maxCtx: number | null;
  pmaxTurns: number | null;
  pmaxTokens: number | null;
  pmaxCost: number | null;
  pmaxCtx: number | null;
}

/**
 * One operation of a2a_relay_batch, as sent: end a turn (`f`), start a reserved one (`s`), admit
 * one (`a`, started at once when `start` and the gates allow). `s` and `a` carry their profile's
 * window and limits (the `p…` fields of Gates).
 */
export type WireOp =
  | { k: "f"; id: number; refund: boolean; tokens: number; cost: number }
  | ({ k: "s"; id: number; profile: string } & ProfileGates)
  | ({ k: "a"; profile: string; ctx: string; task: string; ts: number; start: boolean } & ProfileGates);

interface ProfileGates {
  pwnd: string | null;
  psince: number | null;
  pmax_turns: number | null;
  pmax_tokens: number | null;
  pmax_cost: number | null;
  pmax_ctx: number | null;
}

/**
 * An admission `refused` (id undefined), `reserved` or `started`; a start `started`, `wait`,
 * `refused` or `lost`; an end `done` or `lost` (the turn was handed back meanwhile).
 */
type BatchStatus = "refused" | "reserved" | "started" | "wait" | "lost" | "done";

export interface BatchResult {
  id: number | undefined;
  status: BatchStatus;
  /** The use the operation was checked against (names the limit of a refusal). */
  use: PeerUse;
}

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
    const rows = setBased(g, ops)
      ? await this.#turns(g, now, ops)
      : ((await this.#calls`select * from a2a_relay_batch(
      ${g.peer}, ${this.instance}, ${now}, ${g.wnd}, ${g.since},
      ${g.maxTurns}, ${g.maxTokens}, ${g.maxCost}, ${g.maxInflight}, ${g.maxConcurrent}, ${g.maxCtx},
      ${JSON.stringify(ops)}::text::jsonb)`) as BatchRow[]);
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

  /**
   * The same call set-based (a2a_relay_turns, drizzle/pg/0005_set_based.sql): the ends as one
   * UPDATE, the admissions as one INSERT, sent as arrays (no JSON to build or parse).
   */
  async #turns(g: Gates, now: number, ops: WireOp[]): Promise<BatchRow[]> {
    const id: number[] = [];
    const refund: boolean[] = [];
    const tokens: number[] = [];
    const cost: number[] = [];
    const profile: string[] = [];
    const ctx: string[] = [];
    const task: string[] = [];
    const ts: number[] = [];
    for (const op of ops) {
      if (op.k === "f") {
        id.push(op.id);
        refund.push(op.refund);
        tokens.push(op.tokens);
        cost.push(op.cost);
      } else if (op.k === "a") {
        profile.push(op.profile);
        ctx.push(op.ctx);
        task.push(op.task);
        ts.push(op.ts);
      }
    }
    return (await this.#calls`select * from a2a_relay_turns(
      ${g.peer}, ${this.instance}, ${now}, ${g.wnd}, ${g.since},
      ${g.maxTurns}, ${g.maxTokens}, ${g.maxCost}, ${g.maxInflight}, ${g.maxConcurrent},
      ${list(id)}::bigint[], ${list(refund)}::boolean[], ${list(tokens)}::float8[], ${list(cost)}::float8[],
      ${list(profile)}::text[], ${list(ctx)}::text[], ${list(task)}::text[], ${list(ts)}::bigint[])`) as BatchRow[];
  }

  /** End one open turn of this instance on its own (an unwritten end after an outage). */
  async finish(id: number, refund: boolean, tokens: number, cost: number, now: number): Promise<void> {
    await this.#sql`select a2a_relay_finish(${id}, ${this.instance}, ${refund}, ${tokens}, ${cost}, ${now})`;
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
        o.running, o.queued
      from r
      left join t on true
      left join lateral (
        select count(*) as turns, coalesce(sum(l.tokens), 0) as tokens, coalesce(sum(l.cost_usd), 0) as cost
        from budget_ledger l
        where t.scope is not null and l.peer = ${peer} and l.id > r.after_id and l.ts >= t.cursor_ts
          and l.ts < ${since} and l.state <> 'refunded'
      ) lft on true
      left join lateral (
        select count(*) as turns, coalesce(sum(l.tokens), 0) as tokens, coalesce(sum(l.cost_usd), 0) as cost
        from budget_ledger l
        where t.scope is null and l.peer = ${peer} and l.id > r.after_id and l.ts >= ${since} and l.state <> 'refunded'
      ) whole on true
      cross join lateral (
        select count(*) filter (where l.state = 'started')::int as running,
          count(*) filter (where l.state = 'reserved')::int as queued
        from budget_ledger l where l.peer = ${peer} and l.state in ('reserved', 'started')
      ) o`;
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
    const rows = await this.db.execute<{ ts: string; tokens: string; cost: number }>(sql`
      select ts, tokens, cost_usd as cost from budget_ledger
      where peer = ${peer} and id > ${afterId} and ts >= ${since} and state <> 'refunded' order by id`);
    const [open] = await this.db.execute<{ running: number; queued: number }>(sql`
      select count(*) filter (where state = 'started')::int as running,
        count(*) filter (where state = 'reserved')::int as queued
      from budget_ledger where peer = ${peer} and state in ('reserved', 'started')`);
    return {
      resetAt: reset ? Number(reset.reset_at) : undefined,
      rows: rows.map((r) => ({ ts: Number(r.ts), turns: 1, tokens: Number(r.tokens), cost: Number(r.cost) })),
      running: open?.running ?? 0,
      queued: open?.queued ?? 0,
    };
  }

  /**
   * Delete up to `limit` closed rows of `peer` older than `cutoff` that no window counts any
   * more: also older than every running total's cursor (a row a total still counts is subtracted
   * from it when it leaves the window, so it must stay until then).
   */
  async prune(peer: string, cutoff: number, limit = 5000): Promise<number> {
    const rows = await this.#sql`
      delete from budget_ledger where id in (
        select l.id from budget_ledger l
        where l.peer = ${peer} and l.state in ('settled', 'refunded')
          and l.ts < least(${cutoff}::bigint,
            coalesce((select min(t.cursor_ts) from budget_totals t where t.peer = ${peer}), ${cutoff}::bigint))
        limit ${limit})
      returning id`;
    return rows.length;
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
 * Whether a2a_relay_turns can apply `ops`: its ends before its admissions, no start of a waiting
 * turn, and no limit per conversation or per profile (each admission would need its own counts).
 */
function setBased(g: Gates, ops: WireOp[]): boolean {
  if (g.maxCtx !== null) return false;
  let admits = false;
  for (const op of ops) {
    if (op.k === "s" || (op.k === "f" && admits)) return false;
    if (op.k === "a") {
      if (op.pwnd !== null) return false;
      admits = true;
    }
  }
  return true;
}

/** An array literal of PostgreSQL (`{1,2}`, `{"a","b\\"c"}`), sent as text and cast in the query. */
function list(xs: ReadonlyArray<string | number | boolean>): string {
  const item = (x: string | number | boolean) =>
    typeof x === "string" ? `"${x.replace(/[\\"]/g, "\\$&")}"` : String(x);
  return `{${xs.map(item).join(",")}}`;
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
