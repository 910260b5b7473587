import { describe, expect, test } from "bun:test";
import { parseWindow } from "../../src/budgets/window.ts";
import { Clock, engineWithBudget, msg, refusal } from "./_engine.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

describe("budget windows (injected clock, real SQLite)", () => {
  test("a rolling window frees turns as it slides", async () => {
    const clock = new Clock();
    const T = clock.t;
    const e = engineWithBudget({ window: "1h", max_turns: 3 }, clock);
    for (let i = 0; i < 3; i++) {
      expect((await e.turn()).status.state).toBe("TASK_STATE_COMPLETED");
      clock.advance(10 * MIN);
    }
    // now T+30m: three turns inside the hour
    const err = await refusal(e.turn());
    expect(err.code).toBe(-32042);
    expect(err.reason).toBe("BUDGET_EXCEEDED");
    expect(err.data).toMatchObject({ peer: "bot", limit: "max_turns", used: 3, max: 3 });
    expect(err.data.resetAt).toBe(new Date(T + HOUR).toISOString());
    expect(err.headers["Retry-After"]).toBe(String(30 * 60));
    clock.t = T + HOUR - 1;
    await refusal(e.turn());
    clock.t = T + HOUR; // the first turn leaves the window
    expect((await e.turn()).status.state).toBe("TASK_STATE_COMPLETED");
    const again = await refusal(e.turn());
    expect(again.data.resetAt).toBe(new Date(T + 10 * MIN + HOUR).toISOString());
    await e.close();
  });

  test("tokens in a rolling window: the crossing turn overshoots, then refusals until old use slides out", async () => {
    const clock = new Clock();
    const T = clock.t;
    const e = engineWithBudget({ window: "1h", max_tokens: 10 }, clock);
    for (let i = 0; i < 3; i++) {
      await e.turn("a b"); // 4 tokens each: 4, 8, 12
      clock.advance(10 * MIN);
    }
    const err = await refusal(e.turn());
    expect(err.data).toMatchObject({ limit: "max_tokens", used: 12, max: 10 });
    expect(err.data.resetAt).toBe(new Date(T + HOUR).toISOString());
    clock.t = T + HOUR;
    expect((await e.turn("a b")).status.state).toBe("TASK_STATE_COMPLETED");
    await e.close();
  });

  test("daily: the UTC day resets at midnight", async () => {
    const clock = new Clock(Date.UTC(2026, 0, 10, 23, 0, 0));
    const e = engineWithBudget({ window: "daily", max_turns: 2 }, clock);
    await e.turn();
    await e.turn();
    const err = await refusal(e.turn());
    expect(err.data.resetAt).toBe("2026-01-11T00:00:00.000Z");
    expect(err.headers["Retry-After"]).toBe("3600");
    clock.t = Date.UTC(2026, 0, 11, 0, 0, 0);
    expect((await e.turn()).status.state).toBe("TASK_STATE_COMPLETED");
    await e.close();
  });

  test("total: never resets by itself (no Retry-After); budgets.reset frees it", async () => {
    const clock = new Clock();
    const e = engineWithBudget({ window: "total", max_turns: 1, max_cost_usd: 5 }, clock);
    await e.turn();
    clock.advance(1000 * 24 * HOUR);
    const err = await refusal(e.turn());
    expect(err.data.resetAt).toBeUndefined();
    expect(err.headers["Retry-After"]).toBeUndefined();
    const report = await e.budgets.reset("bot");
    expect(report?.used.turns).toBe(0);
    expect((await e.turn()).status.state).toBe("TASK_STATE_COMPLETED");
    await refusal(e.turn());
    await e.close();
  });

  test("a restart in the middle of a window keeps the counts", async () => {
    const clock = new Clock();
    const T = clock.t;
    const first = engineWithBudget({ window: "1h", max_turns: 3, max_tokens: 100 }, clock);
    await first.turn("a b");
    clock.advance(10 * MIN);
    await first.turn("a b c");
    await first.close();

    clock.advance(5 * MIN);
    const second = engineWithBudget({ window: "1h", max_turns: 3, max_tokens: 100 }, clock, first.dbPath);
    await second.budgets.recover();
    expect(second.budgets.reportFor("bot")?.used).toEqual({ turns: 2, tokens: 10, cost_usd: 0 });
    await second.turn();
    const err = await refusal(second.turn());
    expect(err.data).toMatchObject({ used: 3, max: 3 });
    expect(err.data.resetAt).toBe(new Date(T + HOUR).toISOString());
    clock.t = T + HOUR;
    await second.turn();
    await second.close();
  });

  test("max_turns_per_context stops a ping-pong on one conversation, survives a restart", async () => {
    const clock = new Clock();
    const e = engineWithBudget({ max_turns_per_context: 4 }, clock);
    for (let i = 0; i < 4; i++) await e.turn(`ping ${i}`, { contextId: "pingpong" });
    const err = await refusal(e.turn("ping 5", { contextId: "pingpong" }));
    expect(err.data).toMatchObject({ limit: "max_turns_per_context", used: 4, max: 4 });
    expect(err.data.resetAt).toBeUndefined();
    expect((await e.turn("elsewhere", { contextId: "other" })).status.state).toBe("TASK_STATE_COMPLETED");
    await e.close();
    const again = engineWithBudget({ max_turns_per_context: 4 }, clock, e.dbPath);
    await refusal(again.turn("ping 6", { contextId: "pingpong" }));
    await again.close();
  });

  test("window syntax: durations, daily, total; anything else names the key", () => {
    expect(parseWindow("1h30m", "k")).toEqual({ kind: "rolling", ms: 90 * MIN, text: "1h30m" });
    expect(parseWindow("7d", "k").kind).toBe("rolling");
    expect(parseWindow("daily", "k").kind).toBe("daily");
    expect(parseWindow("total", "k").kind).toBe("total");
    for (const bad of ["", "24", "1y", "0h", "weekly"]) {
      expect(() => parseWindow(bad, "peers.x.budget.window")).toThrow(/peers\.x\.budget\.window/);
    }
  });

  test("a retried messageId spends nothing: it returns the task it created", async () => {
    const e = engineWithBudget({ max_turns: 1 }, new Clock());
    const m = msg("once");
    const a = await e.engine.send({ peer: "bot", profile: "echo", origin: "a2a", message: m });
    const b = await e.engine.send({ peer: "bot", profile: "echo", origin: "a2a", message: m });
    expect(b.id).toBe(a.id);
    await e.engine.waitSettled(a.id, "bot");
    const c = await e.engine.send({ peer: "bot", profile: "echo", origin: "a2a", message: m });
    expect(c.id).toBe(a.id);
    expect(e.budgets.reportFor("bot")?.used.turns).toBe(1);
    await e.close();
  });

  test("sends are refused before anything is recorded: a refused message leaves no task", async () => {
    const clock = new Clock();
    const e = engineWithBudget({ max_turns: 0 }, clock);
    const m = msg("x");
    await refusal(e.engine.send({ peer: "bot", profile: "echo", origin: "a2a", message: m }));
    expect(e.engine.list("bot", {}).tasks).toHaveLength(0);
    await e.close();
  });
});
