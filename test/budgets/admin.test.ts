import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type CliIO, main } from "../../src/cli/index.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { BOT_TOKEN, botSend, budgetRelay } from "./_relay.ts";

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

function cli(r: TestRelay) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { A2A_RELAY_HOME: join(r.dir, "data"), BOT_TOKEN },
    stopSignal: new Promise(() => {}),
  };
  return {
    run: (...argv: string[]) => main([...argv, "--config", join(r.dir, "config.toml")], io),
    out: () => out.splice(0).join(""),
    err: () => err.splice(0).join(""),
  };
}

const admin = (r: TestRelay, path: string, init: RequestInit = {}, token = r.token) =>
  fetch(`${r.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });

describe("budget operations: admin HTTP, /metrics, CLI", () => {
  test("GET /admin/budgets, POST /admin/budgets/{peer}/reset, metrics per peer", async () => {
    relay = await budgetRelay(`window = "24h"\nmax_turns = 2\nmax_tokens = 1000\nmax_concurrent = 2`);
    const r = relay;
    await botSend(r, "one two");
    await botSend(r, "three");
    const refused = await botSend(r, "four");
    expect(refused.status).toBe(429);

    const res = await admin(r, "/admin/budgets");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { budgets: Array<Record<string, unknown>> };
    expect(body.budgets).toHaveLength(1);
    expect(body.budgets[0]).toMatchObject({
      peer: "bot",
      window: "24h",
      limits: { max_turns: 2, max_tokens: 1000, max_concurrent: 2, max_queued: 16 },
      used: { turns: 2, tokens: 6, cost_usd: 0 },
      running: 0,
      queued: 0,
    });
    expect(Object.keys(body.budgets[0]!.exceeded as object)).toEqual(["max_turns"]);

    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    expect(metrics).toContain('a2a_relay_budget_used{peer="bot",limit="max_turns"} 2');
    expect(metrics).toContain('a2a_relay_budget_used{peer="bot",limit="max_tokens"} 6');
    expect(metrics).toContain('a2a_relay_budget_limit{peer="bot",limit="max_turns"} 2');

    // the budgeted peer is no admin
    expect((await admin(r, "/admin/budgets", {}, BOT_TOKEN)).status).toBe(403);
    expect((await admin(r, "/admin/budgets/nobody/reset", { method: "POST" })).status).toBe(404);
    const reset = await admin(r, "/admin/budgets/bot/reset", { method: "POST" });
    expect(reset.status).toBe(200);
    expect(((await reset.json()) as { used: { turns: number } }).used.turns).toBe(0);
    expect((await botSend(r, "five")).body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("a2a-relay budget show / reset work on the data dir, and a running relay sees the reset", async () => {
    relay = await budgetRelay(`window = "total"\nmax_turns = 1`);
    const r = relay;
    const c = cli(r);
    await botSend(r, "one");
    expect((await botSend(r, "two")).status).toBe(429);

    expect(await c.run("budget", "show", "--json")).toBe(0);
    const shown = JSON.parse(c.out()) as { budgets: Array<{ peer: string; used: { turns: number } }> };
    expect(shown.budgets.map((b) => [b.peer, b.used.turns])).toEqual([["bot", 1]]);
    expect(await c.run("budget", "show", "bot")).toBe(0);
    expect(c.out()).toMatch(/max_turns\s+1 of 1\s+EXCEEDED, until reset/);
    expect(await c.run("peers")).toBe(0);
    expect(c.out()).toContain("budget (total): turns 1/1");
    expect(await c.run("peers", "--json")).toBe(0);
    const listed = JSON.parse(c.out()) as {
      peers: Array<{ name: string; budget: { used: { turns: number } } | null }>;
    };
    expect(listed.peers.find((p) => p.name === "bot")?.budget?.used.turns).toBe(1);
    expect(listed.peers.find((p) => p.name === "local")?.budget).toBeNull();

    expect(await c.run("budget", "reset", "bot")).toBe(0);
    expect(c.out()).toContain("reset");
    expect((await botSend(r, "three")).body.result.task.status.state).toBe("TASK_STATE_COMPLETED");

    expect(await c.run("budget", "reset")).toBe(2);
    expect(await c.run("budget", "reset", "nobody")).toBe(2);
    expect(c.err()).toContain('no peer named "nobody"');
    expect(await c.run("budget", "show", "local")).toBe(2);
    expect(c.err()).toContain("has no budget");
  });

  test("a bad window fails at start naming the key", async () => {
    await expect(budgetRelay(`window = "fortnight"`)).rejects.toThrow(/peers\.bot\.budget\.window/);
  });
});
