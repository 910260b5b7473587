import { describe, expect, test } from "bun:test";
import { Tally } from "../../src/budgets/tally.ts";

const row = (ts: number, tokens = 0) => ({ ts, turns: 1, tokens, cost: tokens / 1000 });

describe("in-memory window tally", () => {
  test("rows leave a moving window from the front; settles and refunds find their row", () => {
    const t = new Tally({ peer: "p", afterId: 0 }, true);
    t.add(1, row(100, 5), false);
    t.add(2, row(200), true);
    t.add(3, row(300), true);
    expect(t.sums(0)).toEqual({ turns: 3, tokens: 5, cost: 0.005 });
    t.settle(2, 40, 0.04);
    t.refund(3);
    expect(t.sums(0)).toEqual({ turns: 2, tokens: 45, cost: 0.045 });
    expect([...t.rows(0)].map((r) => r.ts)).toEqual([100, 200]);
    expect(t.sums(150)).toEqual({ turns: 1, tokens: 40, cost: 0.04 }); // row 1 left
    t.settle(2, 1, 0); // already settled: not open any more, ignored
    expect(t.sums(150).tokens).toBe(40);
    expect(t.sums(250)).toEqual({ turns: 0, tokens: 0, cost: 0 });
  });

  test("a row settled after it left the window no longer counts", () => {
    const t = new Tally({ peer: "p", afterId: 0 }, true);
    t.add(1, row(100), true);
    expect(t.sums(101).turns).toBe(0);
    t.settle(1, 500, 1);
    t.refund(1);
    expect(t.sums(101)).toEqual({ turns: 0, tokens: 0, cost: 0 });
  });

  test("handles stay right after the arrays are compacted", () => {
    const t = new Tally({ peer: "p", afterId: 0 }, true);
    for (let i = 1; i <= 10_000; i++) t.add(i, row(i), true);
    expect(t.sums(9_001).turns).toBe(1000); // 9000 rows dropped: compaction ran
    t.settle(9_500, 7, 0);
    t.refund(10_000);
    t.settle(10, 1000, 0); // dropped long ago
    expect(t.sums(9_001)).toEqual({ turns: 999, tokens: 7, cost: 0 });
  });

  test("a total window keeps sums only and still settles and refunds open rows", () => {
    const t = new Tally({ peer: "p", afterId: 0 }, false);
    t.add(1, row(1), true);
    t.add(2, row(2), true);
    t.settle(1, 10, 0.5);
    t.refund(2);
    t.refund(99); // not counted here
    expect(t.sums(0)).toEqual({ turns: 1, tokens: 10, cost: 0.5 });
    expect([...t.rows(0)]).toEqual([]);
  });
});
