import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, startBinary, stopAll, tempDir, waitFor } from "../helpers/binary.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { adminBudgets, dbOf, fleet, fleetToml, freshDb, ledgerStates } from "./_fleet.ts";
import { startPg } from "./_pg.ts";
import { BOT_TOKEN, sendAsBot } from "./_relay.ts";

// The compiled binary on the shared store: kill -9 of a relay holding reservations, and the
// `budget` CLI on the shared ledger. A real PostgreSQL server (skipped only when not installed).
const pg = await startPg();
const relays: TestRelay[] = [];

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop().catch(() => {})));
  await stopAll();
  pg?.destroy();
});

/** Start a turn as `bot` and return at once (the turn sleeps `ms`). */
async function startTurn(url: string, ms: number) {
  const { body } = await sendAsBot(url, `sleep:${ms} x`, {
    params: { configuration: { returnImmediately: true } },
  });
  return body as { result?: unknown; error?: { code: number } };
}

const reclaimed = async (r: TestRelay) => {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  return Number(/a2a_relay_budget_reservations_reclaimed (\d+)/.exec(text)?.[1] ?? "NaN");
};

describe.skipIf(!pg)("the compiled binary on the shared store", () => {
  test("kill -9 of a relay holding reservations: handed back within lease_s by exactly one relay", async () => {
    const store = freshDb(pg!);
    const toml = fleetToml(store, "max_concurrent = 2\nmax_queued = 10", "lease_s = 2");
    const doomed = await startBinary({ toml, env: { BOT_TOKEN } });
    for (let i = 0; i < 5; i++) expect((await startTurn(doomed.url, 60_000)).result).toBeDefined();
    // 2 running and 3 queued, held by the binary
    const [b, c] = await fleet(2, toml);
    relays.push(b!, c!);
    await waitFor(async () => {
      const [r] = await adminBudgets(b!.url, b!.token);
      return r.running === 2 && r.queued === 3;
    });
    doomed.proc.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor(
      async () => {
        const [r] = await adminBudgets(b!.url, b!.token);
        return r.running === 0 && r.queued === 0;
      },
      2_000 + 5_000,
      "reservations handed back",
    );
    expect(Date.now() - killedAt).toBeLessThan(2_000 + 5_000);
    // the 2 that ran count as turns (counted at admission, no rows); the 3 that never started
    // (rows: they waited) were refunded; once each, and nothing is held any more
    const db = dbOf(store);
    expect(ledgerStates(pg!, db)).toBe("counted|2\nrefunded|3\n");
    expect(pg!.psql("SELECT count(*) FROM budget_ledger WHERE holder IS NOT NULL", db)).toBe("0\n");
    expect(pg!.psql("SELECT count(*) FROM budget_open", db)).toBe("0\n");
    await waitFor(async () => (await reclaimed(b!)) + (await reclaimed(c!)) === 5, 3000, "metrics");
    expect((await reclaimed(b!)) + (await reclaimed(c!))).toBe(5);
    // the survivors admit new turns at once
    expect((await startTurn(c!.url, 10)).result).toBeDefined();
  }, 60_000);

  test("a relay restarted after kill -9 hands back its previous process's reservations at once", async () => {
    const store = freshDb(pg!);
    const toml = fleetToml(store, "max_concurrent = 2\nmax_queued = 10"); // lease_s = 30
    const first = await startBinary({ toml, env: { BOT_TOKEN } });
    for (let i = 0; i < 3; i++) expect((await startTurn(first.url, 60_000)).result).toBeDefined();
    await waitFor(async () => {
      const [r] = await adminBudgets(first.url, first.token);
      return r.running === 2 && r.queued === 1;
    });
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const again = await startBinary({ toml, env: { BOT_TOKEN }, dataDir: first.dataDir });
    const [r] = await adminBudgets(again.url, again.token);
    expect(r).toMatchObject({ running: 0, queued: 0 }); // not 30 s later: at start
    expect(ledgerStates(pg!, dbOf(store))).toBe("counted|2\nrefunded|1\n");
    await again.stop();
  }, 60_000);

  test("budget show / reset with the binary's CLI read and write the shared ledger", async () => {
    const store = freshDb(pg!);
    const toml = fleetToml(store, `window = "total"\nmax_turns = 3`);
    const relay = await startBinary({ toml, env: { BOT_TOKEN } });
    for (let i = 0; i < 2; i++) expect((await startTurn(relay.url, 1)).result).toBeDefined();
    const dir = tempDir("a2a-cli-");
    writeFileSync(join(dir, "c.toml"), toml);
    const cli = (...args: string[]) =>
      spawnSync(BINARY, ["budget", ...args, "--config", join(dir, "c.toml"), "--data-dir", join(dir, "d")], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", BOT_TOKEN },
      });
    await waitFor(
      () => JSON.parse(cli("show", "--json").stdout).budgets[0].used.turns === 2,
      5000,
      "2 turns",
    );
    const peers = spawnSync(
      BINARY,
      ["peers", "--json", "--config", join(dir, "c.toml"), "--data-dir", join(dir, "d")],
      {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", BOT_TOKEN },
      },
    );
    expect(
      JSON.parse(peers.stdout).peers.find((p: { name: string }) => p.name === "bot").budget.used.turns,
    ).toBe(2);
    const text = cli("show", "bot");
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("max_turns              2 of 3");
    const reset = cli("reset", "bot");
    expect(reset.status).toBe(0);
    expect(reset.stdout).toContain(`reset in ${store}`);
    expect(JSON.parse(cli("show", "--json").stdout).budgets[0].used.turns).toBe(0);
    // the relay sees the reset at its next dispatch: three more fit
    for (let i = 0; i < 3; i++) expect((await startTurn(relay.url, 1)).result).toBeDefined();
    expect((await startTurn(relay.url, 1)).error?.code).toBe(-32042);
    // config check names the store (no password); doctor says it answers
    const check = spawnSync(BINARY, ["config", "check", "--config", join(dir, "c.toml")], {
      encoding: "utf8",
    });
    expect(check.stdout).toContain(`budgets in ${store} (shared; on_store_down = refuse, lease_s = 30)`);
    const doc = spawnSync(
      BINARY,
      ["doctor", "--json", "--config", join(dir, "c.toml"), "--data-dir", join(dir, "d")],
      {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", BOT_TOKEN },
      },
    );
    expect(doc.stdout).toContain(`budget store ${store} answers`);
    // an unreachable store: exit 2 naming the key
    writeFileSync(join(dir, "bad.toml"), fleetToml("postgres://relay@127.0.0.1:1/relay", "max_turns = 1"));
    const bad = spawnSync(BINARY, ["budget", "show", "--config", join(dir, "bad.toml")], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(
      "budgets.store: cannot use the budget store postgres://relay@127.0.0.1:1/relay",
    );
    await relay.stop();
  }, 120_000);
});
