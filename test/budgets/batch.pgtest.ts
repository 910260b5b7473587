import { afterAll, describe, expect, test } from "bun:test";
import { connectPg } from "../../src/budgets/pg/connect.ts";
import { CHANNEL } from "../../src/budgets/pg/store.ts";
import type { WireOp } from "../../src/budgets/pg/wire.ts";
import type { BudgetConfig } from "../../src/config/schema.ts";
import type { AdmissionTicket } from "../../src/tasks/admission.ts";
import { freshDb, pgLedger } from "./_fleet.ts";
import { startPg } from "./_pg.ts";

// Group commit on the shared ledger (a2a_relay_batch): the turns of one peer that arrive while a
// call is in flight share the next call; a turn starts at admission when nothing waits; a waiting
// turn starts in the call that carries the end freeing its slot; a NOTIFY only when some turn waits.
const pg = await startPg();
const open: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(open.map((b) => b.close().catch(() => {})));
  pg?.destroy();
});

/** A relay's ledger on `url` whose calls to the store are counted (`calls`: the ops of each). */
async function ledger(url: string, budget: Partial<BudgetConfig>, pollMs = 250) {
  const { ledger: b, store } = await pgLedger(url, { window: "1h", max_queued: 64, ...budget }, { pollMs });
  const calls: WireOp[][] = [];
  const batch = store.batch.bind(store);
  store.batch = (g, now, ops) => {
    calls.push(ops);
    return batch(g, now, ops);
  };
  open.push(b);
  let n = 0;
  const admit = () =>
    b.admit({
      peer: "bot",
      profile: "echo",
      contextId: `c${n}`,
      taskId: `t${n++}`,
      origin: "a2a",
    }) as Promise<AdmissionTicket>;
  return { b, calls, admit };
}

const signal = new AbortController().signal;

describe.skipIf(!pg)("group commit on the shared ledger", () => {
  test("40 admissions at once: one call, and each turn starts without another", async () => {
    const { calls, admit } = await ledger(freshDb(pg!), { max_turns: 100, max_concurrent: 64 });
    const tickets = await Promise.all(Array.from({ length: 40 }, admit));
    expect(calls.map((c) => c.length)).toEqual([40]);
    await Promise.all(tickets.map((t) => t.acquire(signal)));
    expect(calls.length).toBe(1);
    for (const t of tickets) t.settle(undefined);
    await Bun.sleep(50);
    expect(calls.map((c) => c.length)).toEqual([40, 40]);
  });

  test("max_concurrent = 2: waiting turns start first come first, in the call that frees their slot", async () => {
    const { b, calls, admit } = await ledger(freshDb(pg!), { max_turns: 100, max_concurrent: 2 }, 60_000);
    const tickets = await Promise.all(Array.from({ length: 5 }, admit));
    const started: number[] = [];
    const acquired = tickets.map((t, i) => t.acquire(signal).then(() => started.push(i)));
    await Bun.sleep(50);
    expect(started).toEqual([0, 1]);
    const before = calls.length;
    tickets[0]!.settle(undefined);
    await Bun.sleep(50);
    expect(started).toEqual([0, 1, 2]);
    // the end (of a turn counted without a row) and the start of the turn it let in went in one call
    expect(calls[before]?.map((o) => o.k)).toEqual(["c", "s", "s", "s"]);
    tickets[1]!.settle(undefined);
    tickets[2]!.settle(undefined);
    await Bun.sleep(50);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    await Promise.all(acquired);
    for (const t of tickets.slice(3)) t.settle(undefined);
    await Bun.sleep(50);
    expect((await b.reportFor("bot"))?.used.turns).toBe(5);
  });

  test("one set-based call: the first max_turns admitted, the first max_concurrent of them started, ends counted", async () => {
    const { b, calls, admit } = await ledger(freshDb(pg!), { max_turns: 7, max_concurrent: 3 }, 60_000);
    const got = await Promise.allSettled(Array.from({ length: 10 }, admit));
    expect(calls.map((c) => c.length)).toEqual([10]);
    const tickets = got.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(tickets.length).toBe(7);
    for (const r of got.slice(7)) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason.data).toMatchObject({ limit: "max_turns", used: 7, max: 7 });
    }
    // the first three started at admission (no call to start them)
    for (const t of tickets.slice(0, 3)) await t.acquire(signal);
    expect(calls.length).toBe(1);
    expect(await b.reportFor("bot")).toMatchObject({ used: { turns: 7 }, running: 3, queued: 4 });
    // a settle with usage and a refund of a reserved turn, in one call: the totals follow
    tickets[0]!.settle({ inputTokens: 40, outputTokens: 2 });
    tickets[6]!.refund();
    await Bun.sleep(100);
    // (the first was counted at admission, the seventh, which waited, is a row)
    expect(calls.slice(1).map((c) => c.map((o) => o.k))).toEqual([["c", "f"]]);
    expect(await b.reportFor("bot")).toMatchObject({ used: { turns: 6, tokens: 42 }, running: 2, queued: 3 });
    // room for one more turn, started at once (2 of 3 running)
    const last = await admit();
    await last.acquire(signal);
    await expect(admit()).rejects.toMatchObject({ data: { limit: "max_turns" } });
    for (const t of [...tickets.slice(1, 6), last]) t.refund();
  });

  test("a settle notifies the other relays only when some turn waits for a slot", async () => {
    const url = freshDb(pg!);
    const a = await ledger(url, { max_turns: 100, max_concurrent: 1 });
    const c = await ledger(url, { max_turns: 100, max_concurrent: 1 }, 60_000); // no poll: only a NOTIFY wakes it
    const listener = connectPg({ url, display: url, key: "budgets.store" });
    open.push(listener);
    let notified = 0;
    await listener.sql.listen(CHANNEL, () => notified++);

    const t1 = await a.admit();
    await t1.acquire(signal);
    t1.settle(undefined);
    await Bun.sleep(100);
    expect(notified).toBe(0);

    const t2 = await a.admit();
    await t2.acquire(signal);
    const t3 = await c.admit(); // waits in the other relay
    let t3started = false;
    const acquired = t3.acquire(signal).then(() => {
      t3started = true;
    });
    await Bun.sleep(50);
    expect(t3started).toBe(false);
    t2.settle(undefined);
    await acquired; // woken by the NOTIFY (no poll), which reaches the listener too
    for (let i = 0; i < 100 && notified === 0; i++) await Bun.sleep(20);
    expect(notified).toBe(1);
    t3.settle(undefined);
  });
});
