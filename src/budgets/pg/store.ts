import { type SQL, sql } from "drizzle-orm";
import type { Reservation } from "../store.ts";
import type { UseRow } from "../tally.ts";
import type { PgDb } from "./connect.ts";

/** A peer's committed use as one admission or start sees it, read under the peer's lock. */
export interface PeerUse {
  afterId: number;
  resetAt: number | undefined;
  /** In the peer's window, since its last reset (reserved, started and settled rows). */
  turns: number;
  tokens: number;
  cost: number;
  /** The largest usage one settled turn in the window reported: the estimate of the next one. */
  estTokens: number | undefined;
  estCost: number | undefined;
  /** Turns started and not settled (fleet-wide), and those reserved or started. */
  running: number;
  inflight: number;
  /** Turns in the conversation, since the last reset (only when asked for). */
  contextTurns: number;
  /** The same on one profile (only when asked for). */
  profile?: { turns: number; tokens: number; cost: number; contextTurns: number };
}

export interface UseQuery {
  peer: string;
  since: number;
  contextId?: string | undefined;
  profile?: { name: string; since: number; contextId?: string | undefined } | undefined;
}

/** Thrown inside a transaction to roll it back and refuse (carries the refusal out). */
export class Refused extends Error {
  constructor(readonly refusal: unknown) {
    super("refused");
  }
}

type Tx = Parameters<Parameters<PgDb["transaction"]>[0]>[0];

/**
 * The shared ledger's SQL. Every admission and every start takes the peer's advisory lock inside
 * its transaction, reads the peer's use and writes its row before COMMIT: two relays cannot both
 * see room for one turn. Settles and refunds are single statements.
 */
export class PgLedgerStore {
  readonly db: PgDb;
  /** This process's instance id: the holder of the rows it reserves. */
  readonly instance: string;

  constructor(db: PgDb, instance: string) {
    this.db = db;
    this.instance = instance;
  }

  /** Lock `peer`, let `decide` refuse (throw) on its use, else insert the reservation. */
  async reserve(r: Reservation, q: UseQuery, decide: (use: PeerUse) => void): Promise<number> {
    return this.db.transaction(async (tx) => {
      await lockPeer(tx, r.peer);
      decide(await readUse(tx, q));
      const rows = await tx.execute<{ id: string }>(sql`
        insert into budget_ledger (peer, profile, context_id, task_id, ts, state, holder)
        values (${r.peer}, ${r.profile}, ${r.contextId}, ${r.taskId}, ${r.ts}, 'reserved', ${this.instance})
        returning id`);
      return Number(rows[0]!.id);
    });
  }

  /**
   * Lock `peer`; `decide` says whether the turn may start now (or throws to refuse it). Resolves
   * true once the row is `started`, false to wait; "lost" when the row is no longer ours.
   */
  async start(id: number, q: UseQuery, decide: (use: PeerUse) => boolean): Promise<boolean | "lost"> {
    return this.db.transaction(async (tx) => {
      await lockPeer(tx, q.peer);
      if (!decide(await readUse(tx, q))) return false;
      return (await this.#markStarted(tx, id)) ? true : "lost";
    });
  }

  /** A turn that needs no lock to start (its peer has no concurrency or usage gate). */
  async markStarted(id: number): Promise<boolean> {
    return this.#markStarted(this.db, id);
  }

  async settle(id: number, peer: string, tokens: number, cost: number, now: number): Promise<void> {
    await this.db.execute(sql`
      with u as (
        update budget_ledger set state = 'settled', tokens = ${tokens}, cost_usd = ${cost},
          settled_at = ${now}, holder = null
        where id = ${id} and holder = ${this.instance} and state in ('reserved', 'started') returning id)
      select pg_notify(${CHANNEL}, ${peer}) from u`);
  }

  async refund(id: number, peer: string, now: number): Promise<void> {
    await this.db.execute(sql`
      with u as (
        update budget_ledger set state = 'refunded', settled_at = ${now}, holder = null
        where id = ${id} and holder = ${this.instance} and state in ('reserved', 'started') returning id)
      select pg_notify(${CHANNEL}, ${peer}) from u`);
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
   * Hand back the open rows of every instance silent for longer than `leaseS`: reserved turns are
   * refunded, started ones settle as a turn of unknown usage. The instance's row is deleted in the
   * same statement, so of several relays noticing at once exactly one does it.
   */
  async reap(leaseS: number, now: number): Promise<{ relays: number; refunded: number; settled: number }> {
    const rows = await this.db.execute<{ relays: number; refunded: number; settled: number }>(sql`
      with dead as (
        delete from budget_relays where heartbeat_at < now() - make_interval(secs => ${leaseS})
        returning id),
      r as (
        update budget_ledger set holder = null, settled_at = ${now},
          state = case when state = 'reserved' then 'refunded' else 'settled' end
        where holder in (select id from dead) and state in ('reserved', 'started')
        returning peer, state),
      n as (select pg_notify(${CHANNEL}, p.peer) from (select distinct peer from r) p)
      select (select count(*) from dead)::int as relays,
        (select count(*) from r where state = 'refunded')::int as refunded,
        (select count(*) from r where state = 'settled')::int as settled,
        (select count(*) from n)::int as notified`);
    const r = rows[0];
    return { relays: r?.relays ?? 0, refunded: r?.refunded ?? 0, settled: r?.settled ?? 0 };
  }

  /** A clean stop: hand back this instance's open rows and leave. */
  async leave(now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`
        with r as (
          update budget_ledger set holder = null, settled_at = ${now},
            state = case when state = 'reserved' then 'refunded' else 'settled' end
          where holder = ${this.instance} and state in ('reserved', 'started') returning peer)
        select pg_notify(${CHANNEL}, p.peer) from (select distinct peer from r) p`);
      await tx.execute(sql`delete from budget_relays where id = ${this.instance}`);
    });
  }

  /** Forget `peer`'s use so far: rows up to the newest no longer count (under the peer's lock). */
  async resetPeer(peer: string, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockPeer(tx, peer);
      await tx.execute(sql`
        insert into budget_resets (peer, after_id, reset_at)
        values (${peer}, (select coalesce(max(id), 0) from budget_ledger), ${now})
        on conflict (peer) do update set after_id = excluded.after_id, reset_at = excluded.reset_at`);
    });
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
   * Turns a relay ran on its own while the store was down, added once each (`ref` is unique);
   * a turn from before the peer's last reset is left out.
   */
  async importSettled(
    rows: Array<Reservation & { tokens: number; cost: number; settledAt: number; ref: string }>,
  ): Promise<number> {
    let added = 0;
    for (const r of rows) {
      added += await this.db.transaction(async (tx) => {
        await lockPeer(tx, r.peer);
        const out = await tx.execute(sql`
          insert into budget_ledger (peer, profile, context_id, task_id, ts, state, tokens, cost_usd, settled_at, ref)
          select ${r.peer}, ${r.profile}, ${r.contextId}, ${r.taskId}, ${r.ts}, 'settled', ${r.tokens}, ${r.cost},
            ${r.settledAt}, ${r.ref}
          where not exists (select 1 from budget_resets where peer = ${r.peer} and reset_at > ${r.ts})
          on conflict (ref) do nothing returning id`);
        return out.length;
      });
    }
    return added;
  }

  // internal

  async #markStarted(db: PgDb | Tx, id: number): Promise<boolean> {
    const rows = await db.execute(sql`
      update budget_ledger set state = 'started'
      where id = ${id} and holder = ${this.instance} and state = 'reserved' returning id`);
    return rows.length > 0;
  }
}

/** The channel a settle or refund notifies (payload: the peer) so waiting turns look again. */
export const CHANNEL = "a2a_relay_budget";

// internal

async function lockPeer(tx: Tx, peer: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`a2a-relay-budget:${peer}`}, 0))`);
}

async function readUse(tx: Tx, q: UseQuery): Promise<PeerUse> {
  const { peer } = q;
  const counted = sql`l.peer = ${peer} and l.id > r.after_id and l.state <> 'refunded'`;
  const ctx: SQL = q.contextId
    ? sql`(select count(*) from budget_ledger l where ${counted} and l.context_id = ${q.contextId})::int`
    : sql`0`;
  const p = q.profile;
  const prof: SQL = p
    ? sql`, pw.turns as p_turns, pw.tokens as p_tokens, pw.cost as p_cost, ${
        p.contextId
          ? sql`(select count(*) from budget_ledger l where ${counted} and l.profile = ${p.name} and l.context_id = ${p.contextId})::int`
          : sql`0`
      } as p_ctx`
    : sql``;
  const profJoin: SQL = p
    ? sql`, lateral (select count(*)::int as turns, coalesce(sum(tokens), 0)::float8 as tokens,
          coalesce(sum(cost_usd), 0)::float8 as cost
        from budget_ledger l where ${counted} and l.profile = ${p.name} and l.ts >= ${p.since}) pw`
    : sql``;
  const [row] = await tx.execute<Record<string, number | string | null>>(sql`
    with r as (
      select coalesce(max(after_id), 0) as after_id, max(reset_at) as reset_at
      from budget_resets where peer = ${peer})
    select r.after_id, r.reset_at, w.turns, w.tokens, w.cost, w.est_tokens, w.est_cost,
      (select count(*) from budget_ledger where peer = ${peer} and state = 'started')::int as running,
      (select count(*) from budget_ledger where peer = ${peer} and state in ('reserved', 'started'))::int as inflight,
      ${ctx} as ctx ${prof}
    from r, lateral (
      select count(*)::int as turns, coalesce(sum(tokens), 0)::float8 as tokens,
        coalesce(sum(cost_usd), 0)::float8 as cost,
        max(tokens) filter (where state = 'settled')::float8 as est_tokens,
        max(cost_usd) filter (where state = 'settled') as est_cost
      from budget_ledger l where ${counted} and l.ts >= ${q.since}) w ${profJoin}`);
  const n = (k: string) => Number(row?.[k] ?? 0);
  const opt = (k: string) => (row?.[k] == null ? undefined : Number(row[k]));
  return {
    afterId: n("after_id"),
    resetAt: opt("reset_at"),
    turns: n("turns"),
    tokens: n("tokens"),
    cost: n("cost"),
    estTokens: opt("est_tokens"),
    estCost: opt("est_cost"),
    running: n("running"),
    inflight: n("inflight"),
    contextTurns: n("ctx"),
    ...(p
      ? {
          profile: {
            turns: n("p_turns"),
            tokens: n("p_tokens"),
            cost: n("p_cost"),
            contextTurns: n("p_ctx"),
          },
        }
      : {}),
  };
}
