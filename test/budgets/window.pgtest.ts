import { afterAll, describe, expect, test } from "bun:test";
import type { PgBudgets } from "../../src/budgets/pg/ledger.ts";
import type { BudgetConfig } from "../../src/config/schema.ts";
import { dbOf, freshDb, pgLedger } from "./_fleet.ts";
import { startPg } from "./_pg.ts";

// The running totals of the shared ledger (a2a_relay_totals): rows leave a rolling window as it
// moves, settles and refunds adjust it, a reset starts it over. The clock is injected.
const pg = await startPg();
const open: PgBudgets[] = [];
afterAll(async () => {
  await Promise.all(open.map((b) => b.close().catch(() => {})));
  pg?.destroy();
});

async function ledger(budget: Partial<BudgetConfig>, clock: { t: number }) {
  const url = freshDb(pg!);
  const { ledger: b, store } = await pgLedger(
    url,
    { window: "1h", max_queued: 16, ...budget },
    { now: () => clock.t },
  );
  open.push(b);
  let n = 0;
  const turn = async (usage?: { inputTokens: number; outputTokens: number }) => {
    const t = await b.admit({
      peer: "bot",
      profile: "echo",
      contextId: `c${n}`,
      taskId: `t${n++}`,
      origin: "a2a",
    });
    await t!.acquire(new AbortController().signal);
    t!.settle(usage);
    await Bun.sleep(30); // the settle is written in the background
  };
  const refused = async () => {
    try {
      await turn();
    } catch (err) {
      return (err as { data?: { limit?: string } }).data?.limit ?? String(err);
    }
    return "admitted";
  };
  return { b, turn, refused, store, url };
}

describe.skipIf(!pg)("the shared ledger's running totals", () => {
  test("a rolling window: rows leave it as it moves, each once", async () => {
    const clock = { t: Date.UTC(2026, 0, 1, 12) };
    const { b, turn, refused } = await ledger({ max_turns: 2 }, clock);
    await turn();
    clock.t += 30 * 60_000;
    await turn();
    expect(await refused()).toBe("max_turns");
    // a turn counted without a row is kept in its second (its last millisecond): it leaves the
    // window up to 1 s late, never early
    clock.t += 30 * 60_000;
    expect(await refused()).toBe("max_turns");
    clock.t += 999; // the first turn left the window
    await turn();
    expect(await refused()).toBe("max_turns");
    clock.t += 31 * 60_000; // the second left too
    await turn();
    expect((await b.reportFor("bot"))?.used.turns).toBe(2);
  });

  test("tokens: settles count, a refund gives its turn back, a reset starts over", async () => {
    const clock = { t: Date.UTC(2026, 0, 1, 12) };
    const { b, turn, refused } = await ledger({ max_tokens: 100, max_turns: 10 }, clock);
    await turn({ inputTokens: 60, outputTokens: 0 });
    await turn({ inputTokens: 50, outputTokens: 0 });
    expect(await refused()).toBe("max_tokens");
    const t = await b
      .admit({ peer: "bot", profile: "echo", contextId: "x", taskId: "x", origin: "a2a" })
      .catch(() => undefined);
    expect(t).toBeUndefined();
    await b.reset("bot");
    const r = await b.admit({ peer: "bot", profile: "echo", contextId: "y", taskId: "y", origin: "a2a" });
    r!.refund();
    await Bun.sleep(30);
    expect((await b.reportFor("bot"))?.used).toEqual({ turns: 0, tokens: 0, cost_usd: 0 });
    clock.t += 2 * 3_600_000;
    await turn({ inputTokens: 5, outputTokens: 5 });
    expect((await b.reportFor("bot"))?.used).toEqual({ turns: 1, tokens: 10, cost_usd: 0 });
  });

  test("reports read the summed use: from the totals, less the rows that left since, or from the rows", async () => {
    const clock = { t: Date.UTC(2026, 0, 1, 12) };
    const { b, turn, url } = await ledger({ max_turns: 3 }, clock);
    const used = async () => (await b.reportFor("bot"))?.used;
    await turn({ inputTokens: 7, outputTokens: 0 });
    clock.t += 40 * 60_000;
    await turn({ inputTokens: 5, outputTokens: 0 });
    expect(await used()).toEqual({ turns: 2, tokens: 12, cost_usd: 0 });
    clock.t += 30 * 60_000; // the first left the window; no admission moved the totals since
    expect(await used()).toEqual({ turns: 1, tokens: 5, cost_usd: 0 });
    await turn({ inputTokens: 1, outputTokens: 0 });
    await turn({ inputTokens: 1, outputTokens: 0 });
    // max_turns reached in a rolling window: it frees up when the oldest counted turn leaves
    const r = await b.reportFor("bot");
    expect(r?.used).toEqual({ turns: 3, tokens: 7, cost_usd: 0 });
    expect(r?.exceeded.max_turns).toBe(new Date(clock.t - 30 * 60_000 + 3_600_000 + 999).toISOString());
    // without totals (as after a reset, or for another window) the rows are summed
    pg!.psql("DELETE FROM budget_totals", dbOf(url));
    expect((await b.reportFor("bot"))?.used).toEqual({ turns: 3, tokens: 7, cost_usd: 0 });
  });

  test("pruning keeps every row a running total still counts", async () => {
    const clock = { t: Date.UTC(2026, 0, 1, 12) };
    const { b, turn, refused, store } = await ledger({ max_turns: 2 }, clock);
    await turn();
    await turn();
    clock.t += 2 * 3_600_000; // both left the window, but no admission has moved the totals yet
    expect(await store.prune("bot", clock.t - 3_600_000)).toBe(0);
    await turn(); // moves the totals past them (subtracted once)
    expect(await store.prune("bot", clock.t - 3_600_000)).toBe(2);
    await turn();
    expect(await refused()).toBe("max_turns");
    expect((await b.reportFor("bot"))?.used.turns).toBe(2);
  });
});
