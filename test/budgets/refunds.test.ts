import { describe, expect, test } from "bun:test";
import { Budgets, budgetsFromConfig, LedgerStore } from "../../src/budgets/index.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { Writer } from "../../src/store/writer.ts";
import { until } from "../helpers/until.ts";
import { Clock, engineWithBudget, msg, refusal } from "./_engine.ts";

const send = (e: ReturnType<typeof engineWithBudget>, text: string, contextId?: string) =>
  e.engine.send({
    peer: "bot",
    profile: "echo",
    origin: "a2a",
    message: msg(text, contextId ? { contextId } : {}),
  });

describe("budget refunds: a turn that never started does not count", () => {
  test("canceled while waiting for a concurrency slot", async () => {
    const e = engineWithBudget({ max_turns: 2, max_concurrent: 1 }, new Clock());
    const a = await send(e, "sleep:300 a");
    const b = await send(e, "b"); // waits for a's slot
    await refusal(send(e, "c")); // 2 turns reserved already
    const canceled = await e.engine.cancel(b.id, "bot");
    expect(canceled.status.state).toBe("TASK_STATE_CANCELED");
    const c = await send(e, "c"); // b's turn came back
    expect((await e.engine.waitSettled(c.id, "bot")).status.state).toBe("TASK_STATE_COMPLETED");
    expect((await e.engine.waitSettled(a.id, "bot")).status.state).toBe("TASK_STATE_COMPLETED");
    expect(e.budgets.reportFor("bot")?.used.turns).toBe(2);
    await e.close();
  });

  test("canceled while queued behind a turn on the same conversation", async () => {
    const e = engineWithBudget({ max_turns: 2 }, new Clock());
    const a = await send(e, "sleep:300 a", "ctx");
    const b = await send(e, "b", "ctx");
    await e.engine.cancel(b.id, "bot");
    const c = await send(e, "c", "ctx");
    expect((await e.engine.waitSettled(c.id, "bot")).status.state).toBe("TASK_STATE_COMPLETED");
    expect((await e.engine.waitSettled(a.id, "bot")).status.state).toBe("TASK_STATE_COMPLETED");
    expect(e.budgets.reportFor("bot")?.used.turns).toBe(2);
    await e.close();
  });

  test("a crash: queued turns are refunded at the next start, running ones count", async () => {
    const clock = new Clock();
    const e = engineWithBudget({ max_turns: 5, max_concurrent: 1 }, clock);
    await send(e, "sleep:5000 running");
    await send(e, "queued");
    const states = () =>
      e.store.conn
        .query<{ state: string }>("SELECT state FROM budget_ledger ORDER BY id")
        .map((r) => r.state)
        .join(",");
    await until(() => states() === "started,reserved");

    // a second process opens the same database, as after kill -9 (the first never shuts down)
    const store = openStore(currentRuntime(), e.dbPath);
    const writer = new Writer(store.conn);
    const budgets = new Budgets({
      store: new LedgerStore(store.db),
      writer,
      budgets: budgetsFromConfig({ bot: { budget: { window: "24h", max_queued: 16, max_turns: 5 } } }),
      now: clock.now,
    });
    expect(await budgets.recover()).toEqual({ refunded: 1, settled: 1 });
    expect(budgets.reportFor("bot")?.used.turns).toBe(1);
    writer.close();
    store.close();
    await e.close();
  });

  test("a graceful shutdown refunds what never started", async () => {
    const e = engineWithBudget({ max_turns: 5, max_concurrent: 1 }, new Clock());
    await send(e, "sleep:5000 running");
    await send(e, "queued");
    await e.engine.shutdown(0);
    e.writer.flush();
    const rows = e.store.conn.query<{ state: string }>("SELECT state FROM budget_ledger ORDER BY id");
    expect(rows.map((r) => r.state)).toEqual(["settled", "refunded"]);
    expect(e.budgets.reportFor("bot")?.used.turns).toBe(1);
    await e.close();
  });
});
