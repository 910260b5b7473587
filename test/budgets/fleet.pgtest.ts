import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { adminBudgets, dbOf, fleet, fleetToml, freshDb, ledgerStates, watchFleet } from "./_fleet.ts";
import { startPg } from "./_pg.ts";
import { botSend, tally } from "./_relay.ts";

// A real PostgreSQL server (initdb + pg_ctl in a temp dir); skipped, with the reason printed,
// only when PostgreSQL is not installed.
const pg = await startPg();
const relays: TestRelay[] = [];

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop().catch(() => {})));
});
afterAll(() => pg?.destroy());

describe.skipIf(!pg)("fleet-wide budgets on one PostgreSQL", () => {
  test("three relays, 300 dispatches at once against max_turns = 50: exactly 50 run, 250 get -32042", async () => {
    const store = freshDb(pg!);
    relays.push(...(await fleet(3, fleetToml(store, `window = "24h"\nmax_turns = 50`))));
    const stats = watchFleet(relays);
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => botSend(relays[i % 3]!, `sleep:5 hi ${i}`)),
    );
    expect(tally(results)).toEqual({ TASK_STATE_COMPLETED: 50, "error -32042 429": 250 });
    expect(stats.runs).toBe(50);
    const refused = results.find((x) => x.body.error)!;
    expect(refused.body.error.data[0].metadata).toMatchObject({
      peer: "bot",
      limit: "max_turns",
      used: "50",
    });
    expect(Number(refused.retryAfter)).toBeGreaterThan(80_000);
    // every relay reads the shared ledger
    for (const r of relays) expect((await adminBudgets(r.url, r.token))[0].used.turns).toBe(50);
    // each admitted turn started at once: counted without a row
    expect(ledgerStates(pg!, dbOf(store))).toBe("counted|50\n");
  }, 60_000);

  test("max_concurrent = 3 across three relays is never exceeded", async () => {
    const store = freshDb(pg!);
    relays.push(...(await fleet(3, fleetToml(store, `max_concurrent = 3\nmax_queued = 100`))));
    const stats = watchFleet(relays);
    const results = await Promise.all(
      Array.from({ length: 45 }, (_, i) => botSend(relays[i % 3]!, `sleep:40 c ${i}`)),
    );
    expect(tally(results)).toEqual({ TASK_STATE_COMPLETED: 45 });
    expect(stats.max).toBe(3);
    expect(stats.runs).toBe(45);
  }, 60_000);

  test("max_turns_per_context and per-profile limits hold across relays", async () => {
    const store = freshDb(pg!);
    const budget = `max_turns_per_context = 3\n[peers.bot.budget.profiles.echo]\nmax_turns = 5`;
    relays.push(...(await fleet(2, fleetToml(store, budget))));
    const ctx = crypto.randomUUID();
    const inCtx = [];
    for (let i = 0; i < 4; i++) inCtx.push(await botSend(relays[i % 2]!, `c ${i}`, { contextId: ctx }));
    expect(tally(inCtx)).toEqual({ TASK_STATE_COMPLETED: 3, "error -32042 429": 1 });
    expect(inCtx[3]!.body.error.data[0].metadata.limit).toBe("max_turns_per_context");
    const more = await Promise.all(Array.from({ length: 6 }, (_, i) => botSend(relays[i % 2]!, `p ${i}`)));
    expect(tally(more)).toEqual({ TASK_STATE_COMPLETED: 2, "error -32042 429": 4 });
    expect(more.find((r) => r.body.error)!.body.error.data[0].metadata.limit).toBe("profiles.echo.max_turns");
  }, 30_000);

  test("a reset from one relay is seen by the others at their next dispatch", async () => {
    const store = freshDb(pg!);
    const [a, b] = await fleet(2, fleetToml(store, `window = "total"\nmax_turns = 2`));
    relays.push(a!, b!);
    expect(tally([await botSend(a!, "1"), await botSend(b!, "2"), await botSend(a!, "3")])).toEqual({
      TASK_STATE_COMPLETED: 2,
      "error -32042 429": 1,
    });
    const res = await fetch(`${a!.url}/admin/budgets/bot/reset`, {
      method: "POST",
      headers: { authorization: `Bearer ${a!.token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { used: { turns: number } }).used.turns).toBe(0);
    expect(tally([await botSend(b!, "4")])).toEqual({ TASK_STATE_COMPLETED: 1 });
    expect((await adminBudgets(a!.url, a!.token))[0].used.turns).toBe(1);
  }, 30_000);

  test('store down with on_store_down = "refuse": -32048 (503, Retry-After), unbudgeted peers unaffected, recovers', async () => {
    const store = freshDb(pg!);
    const [r] = await fleet(1, fleetToml(store, "max_turns = 100"));
    relays.push(r!);
    expect(tally([await botSend(r!, "before")])).toEqual({ TASK_STATE_COMPLETED: 1 });
    // a turn running when the store stops: it finishes, and its settle is written once it is back
    const running = botSend(r!, "sleep:1500 running");
    await Bun.sleep(300);
    pg!.stop();
    try {
      expect(tally([await running])).toEqual({ TASK_STATE_COMPLETED: 1 });
      const down = await botSend(r!, "during");
      expect(down.status).toBe(503);
      expect(down.retryAfter).toBe("5");
      expect(down.body.error.code).toBe(-32048);
      expect(down.body.error.data[0].reason).toBe("BUDGET_STORE_UNAVAILABLE");
      expect(down.body.error.message).toContain(store.replace(/^postgres:\/\//, "postgres://"));
      // the unbudgeted peer `local` still works
      const local = await r!.rpc("SendMessage", {
        message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text: "hi" }] },
      });
      expect(local.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
      const ready = await fetch(`${r!.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { status: string }).status).toBe("degraded");
    } finally {
      pg!.start();
    }
    const until = Date.now() + 10_000;
    let after = await botSend(r!, "after");
    while (after.body.error && Date.now() < until) {
      await Bun.sleep(200);
      after = await botSend(r!, "after");
    }
    expect(tally([after])).toEqual({ TASK_STATE_COMPLETED: 1 });
    expect(((await (await fetch(`${r!.url}/readyz`)).json()) as { status: string }).status).toBe("ready");
    expect(ledgerStates(pg!, dbOf(store))).toBe("counted|3\n");
  }, 60_000);

  test('store down with on_store_down = "local": counted here, reconciled into the store when it returns', async () => {
    const store = freshDb(pg!);
    const [r] = await fleet(1, fleetToml(store, "max_turns = 3", 'on_store_down = "local"'));
    relays.push(r!);
    expect(tally([await botSend(r!, "before")])).toEqual({ TASK_STATE_COMPLETED: 1 });
    pg!.stop();
    let during: Array<Awaited<ReturnType<typeof botSend>>>;
    try {
      // per-relay counting from zero while degraded: max_turns = 3 of its own
      during = [];
      for (let i = 0; i < 4; i++) during.push(await botSend(r!, `during ${i}`));
      const metrics = await (await fetch(`${r!.url}/metrics`)).text();
      expect(metrics).toContain("a2a_relay_budget_store_up 0");
      expect(((await (await fetch(`${r!.url}/readyz`)).json()) as { status: string }).status).toBe(
        "degraded",
      );
    } finally {
      pg!.start();
    }
    expect(tally(during)).toEqual({ TASK_STATE_COMPLETED: 3, "error -32042 429": 1 });
    // back: the 3 local turns join the shared ledger (1 + 3 = 4 > max_turns 3)
    const until = Date.now() + 10_000;
    // (the one before the outage counted without a row, the 3 imported as rows)
    while (ledgerStates(pg!, dbOf(store)) !== "counted|1\nsettled|3\n") {
      if (Date.now() > until) throw new Error("not reconciled");
      await Bun.sleep(200);
    }
    const after = await botSend(r!, "after");
    expect(after.body.error?.code).toBe(-32042);
  }, 60_000);

  test("bad [budgets] input is refused at start naming the key", async () => {
    const load =
      (toml: string, env: Record<string, string> = {}) =>
      () => {
        const dir = require("node:fs").mkdtempSync(`${require("node:os").tmpdir()}/a2a-cfg-`);
        require("node:fs").writeFileSync(`${dir}/c.toml`, toml);
        return loadConfig({ file: `${dir}/c.toml`, env });
      };
    expect(load(`[budgets]\nstore = "mysql://x@h/db"`)).toThrow(/budgets\.store: .*not supported/);
    expect(load(`[budgets]\nstore = "not a url"`)).toThrow(/budgets\.store: not a URL/);
    expect(load(`[budgets]\nstore = "postgres://u@h/db"\npassword_env = "NOPE_PW"`)).toThrow(
      /budgets\.password_env: NOPE_PW is not set/,
    );
    expect(load("", { A2A_RELAY_BUDGET_STORE: "postgres://h/db" })).toThrow(
      /A2A_RELAY_BUDGET_STORE: .*no user/,
    );
    const c = load(`[budgets]\nstore = "postgres://u@h:5/db"\npassword_env = "PW"`, { PW: "s3cret" })();
    expect(c.budgets.store?.display).toBe("postgres://u@h:5/db");
    expect(c.budgets.store?.url).toContain("s3cret");
    // unreachable at start
    const closed = `postgres://postgres@127.0.0.1:1/relay`;
    const err = await fleet(1, fleetToml(closed, "max_turns = 1")).catch((e) => e as Error);
    expect(String(err)).toMatch(
      /budgets\.store: cannot use the budget store postgres:\/\/postgres@127\.0\.0\.1:1\/relay/,
    );
  }, 30_000);
});
