import { afterEach, describe, expect, test } from "bun:test";
import type { TestRelay } from "../helpers/relay.ts";
import { botSend, budgetRelay, tally, watchConcurrency } from "./_relay.ts";

let relay: TestRelay | undefined;

async function adminBudgets(r: TestRelay): Promise<Array<{ running?: number; queued?: number }>> {
  const res = await fetch(`${r.url}/admin/budgets`, { headers: { authorization: `Bearer ${r.token}` } });
  return ((await res.json()) as { budgets: Array<{ running?: number; queued?: number }> }).budgets;
}
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

describe("budgets under concurrency (real relay, echo receiver)", () => {
  test("max_turns 10, max_concurrent 3: 50 at once → exactly 10 run, never more than 3 at once, 40 × -32042", async () => {
    for (let round = 0; round < 3; round++) {
      relay = await budgetRelay(`window = "24h"\nmax_turns = 10\nmax_concurrent = 3\nmax_queued = 100`);
      const stats = watchConcurrency(relay);
      const r = relay;
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => botSend(r, `sleep:50 hi ${i}`)));
      expect(tally(results)).toEqual({ TASK_STATE_COMPLETED: 10, "error -32042 429": 40 });
      expect(stats.runs).toBe(10);
      expect(stats.max).toBe(3);
      const refused = results.find((x) => x.body.error)!;
      expect(refused.retryAfter).toMatch(/^\d+$/);
      expect(Number(refused.retryAfter)).toBeGreaterThan(86_000);
      const info = refused.body.error.data[0];
      expect(info.reason).toBe("BUDGET_EXCEEDED");
      expect(info.metadata).toMatchObject({ peer: "bot", limit: "max_turns", used: "10", max: "10" });
      expect(Date.parse(info.metadata.resetAt)).toBeGreaterThan(Date.now() + 86_000_000);
      await relay.stop();
      relay = undefined;
    }
  }, 30_000);

  test("the FIFO is bounded: max_concurrent 3 + max_queued 5 admit 8 of 50 at once, the rest get -32042 (max_queued)", async () => {
    relay = await budgetRelay(`max_concurrent = 3\nmax_queued = 5`);
    const stats = watchConcurrency(relay);
    const r = relay;
    const pending = Promise.all(Array.from({ length: 50 }, (_, i) => botSend(r, `sleep:150 q ${i}`)));
    // while they run, the relay reports 3 running and 5 queued
    const end = Date.now() + 3000;
    let live: { running?: number; queued?: number } = {};
    while (!(live.running === 3 && live.queued === 5) && Date.now() < end) {
      live = (await adminBudgets(r))[0] ?? {};
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(live).toMatchObject({ running: 3, queued: 5 });
    const results = await pending;
    expect(tally(results)).toEqual({ TASK_STATE_COMPLETED: 8, "error -32042 429": 42 });
    expect(stats.max).toBe(3);
    const refused = results.find((x) => x.body.error)!;
    expect(refused.body.error.data[0].metadata.limit).toBe("max_queued");
    expect(refused.retryAfter).toBe("1");
    // once the queue drains, the peer is admitted again
    expect((await botSend(r, "again")).body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  }, 30_000);

  test("max_tokens 40, max_concurrent 3: 50 at once → exactly 10 run, never more than 3 at once, 40 × -32042", async () => {
    // echo reports word counts as tokens: "sleep:50 a b" → 2 in + 2 out = 4 tokens per turn.
    // The first turn runs alone (no estimate yet); then another may start only while the turns
    // running cannot, at 4 tokens each, cross 40: so exactly 10 run and the limit is never passed.
    for (let round = 0; round < 3; round++) {
      relay = await budgetRelay(`max_tokens = 40\nmax_concurrent = 3\nmax_queued = 100`);
      const stats = watchConcurrency(relay);
      const r = relay;
      const results = await Promise.all(Array.from({ length: 50 }, () => botSend(r, "sleep:50 a b")));
      expect(tally(results)).toEqual({ TASK_STATE_COMPLETED: 10, "error -32042 429": 40 });
      expect(stats.runs).toBe(10);
      expect(stats.max).toBe(3);
      const refused = results.find((x) => x.body.error)!;
      expect(refused.body.error.data[0].metadata).toMatchObject({
        limit: "max_tokens",
        used: "40",
        max: "40",
      });
      const after = await botSend(r, "one more");
      expect(after.status).toBe(429);
      expect(after.body.error.code).toBe(-32042);
      expect(after.body.error.data[0].metadata).toMatchObject({ limit: "max_tokens", used: "40", max: "40" });
      await relay.stop();
      relay = undefined;
    }
  }, 30_000);

  test("max_tokens with one turn at a time: exactly max/usage turns run, 40 of 50 refused", async () => {
    relay = await budgetRelay(`max_tokens = 40\nmax_concurrent = 1\nmax_queued = 100`);
    const stats = watchConcurrency(relay);
    const r = relay;
    const results = await Promise.all(Array.from({ length: 50 }, () => botSend(r, "sleep:5 a b")));
    expect(tally(results)).toEqual({ TASK_STATE_COMPLETED: 10, "error -32042 429": 40 });
    expect(stats.max).toBe(1);
    expect((await botSend(r, "x")).body.error.code).toBe(-32042);
  }, 30_000);
});
