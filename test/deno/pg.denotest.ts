import { afterAll, describe, expect, test } from "bun:test";
import { fleet, fleetToml, freshDb } from "../budgets/_fleet.ts";
import { startPg } from "../budgets/_pg.ts";
import { BOT_TOKEN, sendAsBot as send, tally } from "../budgets/_relay.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { type DenoRelay, startDenoRelay, stopAllDeno } from "./relay.ts";

/**
 * Fleet-wide budgets with relays on Deno: two relays running from source on Deno and one on Bun
 * share one PostgreSQL ledger (postgres.js runs on both). Run by `npm run test:deno`; skipped,
 * with the reason printed, only when PostgreSQL is not installed.
 */

const pg = await startPg();
const bun: TestRelay[] = [];
afterAll(async () => {
  await Promise.all(bun.map((r) => r.stop().catch(() => {})));
  await stopAllDeno();
  pg?.destroy();
});

describe.skipIf(!pg)("the shared budget store with relays on Deno", () => {
  test("two Deno relays and a Bun relay: 90 dispatches against max_turns = 20 → exactly 20 run", async () => {
    const store = freshDb(pg!);
    const toml = fleetToml(store, `max_turns = 20\nmax_concurrent = 2\nmax_queued = 100`);
    const deno: DenoRelay[] = [];
    for (let i = 0; i < 2; i++) deno.push(await startDenoRelay({ toml, env: { BOT_TOKEN } }));
    bun.push(...(await fleet(1, toml)));
    const urls = [...deno.map((d) => d.url), bun[0]!.url];
    const results = await Promise.all(
      Array.from({ length: 90 }, (_, i) => send(urls[i % 3]!, `sleep:5 d ${i}`)),
    );
    expect(tally(results)).toEqual({ TASK_STATE_COMPLETED: 20, "error -32042 429": 70 });
    pg!.stop();
    try {
      const down = await send(deno[0]!.url, "down");
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe(-32048);
    } finally {
      pg!.start();
    }
  }, 120_000);
});
