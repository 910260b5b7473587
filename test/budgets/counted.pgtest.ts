import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import postgres from "postgres";
import m0000 from "../../drizzle/pg/0000_budgets.sql" with { type: "text" };
import m0001 from "../../drizzle/pg/0001_totals.sql" with { type: "text" };
import m0002 from "../../drizzle/pg/0002_functions.sql" with { type: "text" };
import m0003 from "../../drizzle/pg/0003_batch.sql" with { type: "text" };
import m0004 from "../../drizzle/pg/0004_plans.sql" with { type: "text" };
import m0005 from "../../drizzle/pg/0005_set_based.sql" with { type: "text" };
import m0006 from "../../drizzle/pg/0006_totals_plans.sql" with { type: "text" };
import type { PgBudgets } from "../../src/budgets/pg/ledger.ts";
import type { BudgetConfig } from "../../src/config/schema.ts";
import type { AdmissionTicket } from "../../src/tasks/admission.ts";
import { dbOf, freshDb, ledgerStates, pgLedger } from "./_fleet.ts";
import { startPg } from "./_pg.ts";

// Turns counted without a row (a2a_relay_count, drizzle/pg/0007_counted.sql): a store of the
// version before keeps counting its rows after the upgrade; a relay handed back cannot end the
// turns of its previous lease; a reset forgets counted turns that end after it.
const pg = await startPg();
const open: PgBudgets[] = [];
afterAll(async () => {
  await Promise.all(open.map((b) => b.close().catch(() => {})));
  pg?.destroy();
});

const signal = new AbortController().signal;
let n = 0;
const admit = (b: PgBudgets) =>
  b.admit({
    peer: "bot",
    profile: "echo",
    contextId: `c${n}`,
    taskId: `t${n++}`,
    origin: "a2a",
  }) as Promise<AdmissionTicket>;

async function ledger(url: string, budget: Partial<BudgetConfig>, pollMs = 250) {
  const l = await pgLedger(url, { window: "1h", max_queued: 10, ...budget }, { pollMs });
  open.push(l.ledger);
  return l;
}

/** A store as the version before this one left it: migrations 0000-0006 applied, recorded as the relay records them. */
async function oldStore(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`create table a2a_relay_migrations (hash text primary key, tag text not null, created_at bigint not null)`;
    const old = [m0000, m0001, m0002, m0003, m0004, m0005, m0006];
    for (const [i, text] of old.entries()) {
      for (const stmt of text.split("--> statement-breakpoint")) if (stmt.trim()) await sql.unsafe(stmt);
      const hash = createHash("sha256").update(text).digest("hex");
      await sql`insert into a2a_relay_migrations values (${hash}, ${`000${i}`}, ${Date.now()})`;
    }
  } finally {
    await sql.end();
  }
}

describe.skipIf(!pg)("turns counted without a row", () => {
  test("a store of the version before: its rows still count, its open rows end and are handed back", async () => {
    const url = freshDb(pg!);
    await oldStore(url);
    const db = dbOf(url);
    const now = Date.now();
    // three settled turns, and a relay (silent for an hour) holding one running and one queued
    pg!.psql(
      `INSERT INTO budget_relays (id, relay, heartbeat_at) VALUES ('old', 'old', now() - interval '1 hour');
       INSERT INTO budget_ledger (peer, profile, context_id, task_id, ts, state, tokens, settled_at, holder) VALUES
         ('bot', 'echo', 'c', 'a', ${now}, 'settled', 10, ${now}, NULL),
         ('bot', 'echo', 'c', 'b', ${now}, 'settled', 10, ${now}, NULL),
         ('bot', 'echo', 'c', 'c', ${now}, 'settled', 10, ${now}, NULL),
         ('bot', 'echo', 'c', 'd', ${now}, 'started', 0, NULL, 'old'),
         ('bot', 'echo', 'c', 'e', ${now}, 'reserved', 0, NULL, 'old')`,
      db,
    );
    const { ledger: b, store } = await ledger(url, { max_turns: 7, max_tokens: 1000, max_concurrent: 3 });
    expect(await b.reportFor("bot")).toMatchObject({ used: { turns: 5, tokens: 30 }, running: 1, queued: 1 });
    // two more fit (7), both run beside the old relay's (3), counted without rows
    const t = [await admit(b), await admit(b)];
    for (const x of t) await x.acquire(signal);
    expect(await b.reportFor("bot")).toMatchObject({ used: { turns: 7 }, running: 3, queued: 1 });
    await expect(admit(b)).rejects.toMatchObject({ data: { limit: "max_turns" } });
    // the silent relay's turns are handed back: the queued one refunded, the running one a turn
    expect(await store.reap(30, Date.now())).toEqual({ relays: 1, refunded: 1, settled: 1 });
    expect(await b.reportFor("bot")).toMatchObject({ used: { turns: 6, tokens: 30 }, running: 2, queued: 0 });
    t[0]!.settle({ inputTokens: 7, outputTokens: 0 });
    const last = await admit(b);
    await last.acquire(signal);
    await expect(admit(b)).rejects.toMatchObject({ data: { limit: "max_turns" } });
    t[1]!.settle(undefined);
    last.settle(undefined);
    await Bun.sleep(100);
    expect(await b.reportFor("bot")).toMatchObject({ used: { turns: 7, tokens: 37 }, running: 0, queued: 0 });
    expect(ledgerStates(pg!, db)).toBe("counted|3\nrefunded|1\nsettled|4\n");
  });

  test("a relay handed back and registered again cannot end its previous lease's turns", async () => {
    const url = freshDb(pg!);
    const budget = { max_turns: 100, max_concurrent: 2 };
    const a = await ledger(url, budget, 60_000);
    const b = await ledger(url, budget, 60_000);
    const old = [await admit(a.ledger), await admit(a.ledger)];
    for (const x of old) await x.acquire(signal);
    // a was silent for longer than lease_s: b hands its two running turns back, once
    pg!.psql(
      `UPDATE budget_relays SET heartbeat_at = now() - interval '1 hour' WHERE id = '${a.store.instance}'`,
      dbOf(url),
    );
    expect(await b.store.reap(30, Date.now())).toEqual({ relays: 1, refunded: 0, settled: 2 });
    expect(await b.store.reap(30, Date.now())).toEqual({ relays: 0, refunded: 0, settled: 0 });
    // a registers again (its next heartbeat: a new lease), and two turns of b run
    expect(await a.store.heartbeat("t")).toBe(false);
    const u = [await admit(b.ledger), await admit(b.ledger)];
    for (const x of u) await x.acquire(signal);
    // the ends of a's old turns are lost: they free no slot and change no use
    old[0]!.settle({ inputTokens: 50, outputTokens: 0 });
    old[1]!.refund();
    await Bun.sleep(100);
    expect(await b.ledger.reportFor("bot")).toMatchObject({ used: { turns: 4, tokens: 0 }, running: 2 });
    // so a new turn of a waits for one of b's to end
    const v = await admit(a.ledger);
    let started = false;
    const acquired = v.acquire(signal).then(() => {
      started = true;
    });
    await Bun.sleep(100);
    expect(started).toBe(false);
    u[0]!.settle(undefined);
    await acquired; // woken by b's NOTIFY
    expect(await a.ledger.reportFor("bot")).toMatchObject({ used: { turns: 5 }, running: 2 });
    v.settle(undefined);
    u[1]!.settle(undefined);
  });

  test("a reset forgets counted turns that end after it, and each reset is its own", async () => {
    const url = freshDb(pg!);
    const { ledger: b } = await ledger(url, { window: "total", max_turns: 2, max_tokens: 100 });
    const used = async () => (await b.reportFor("bot"))?.used;
    const t1 = await admit(b);
    await t1.acquire(signal);
    t1.settle({ inputTokens: 10, outputTokens: 0 });
    const t2 = await admit(b); // runs beside nothing (t1 ended): counted
    await t2.acquire(signal);
    await b.reset("bot");
    expect(await used()).toEqual({ turns: 0, tokens: 0, cost_usd: 0 });
    t2.settle({ inputTokens: 60, outputTokens: 0 }); // from before the reset: not counted
    await Bun.sleep(100);
    expect(await used()).toEqual({ turns: 0, tokens: 0, cost_usd: 0 });
    const t3 = await admit(b);
    await t3.acquire(signal);
    await b.reset("bot"); // a second reset with no row written since
    t3.refund(); // from before it: gives nothing back
    await Bun.sleep(100);
    expect(await used()).toEqual({ turns: 0, tokens: 0, cost_usd: 0 });
    const t4 = await admit(b);
    const t5 = await admit(b);
    await expect(admit(b)).rejects.toMatchObject({ data: { limit: "max_turns" } });
    for (const x of [t4, t5]) x.refund();
  });
});
