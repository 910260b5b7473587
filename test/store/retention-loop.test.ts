import { expect, test } from "bun:test";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { startRetention } from "../../src/store/retention-loop.ts";
import { Writer } from "../../src/store/writer.ts";
import { ManualClock } from "../helpers/clock.ts";
import { until } from "../helpers/until.ts";

test("retention passes run every everyMs on the relay's clock, each armed when the last one ends", async () => {
  const clock = new ManualClock();
  const store = openStore(currentRuntime(), ":memory:");
  const cutoffs: number[] = [];
  const loop = startRetention({
    conn: store.conn,
    writer: new Writer(store.conn),
    retainMs: 60_000,
    ledgerCutoff: (_peer, now) => now - 60_000,
    logger: createLogger("silent"),
    pruneFiles: (cutoff) => {
      cutoffs.push(cutoff);
      return 0;
    },
    now: clock.now,
    timers: clock,
    everyMs: 10_000,
  });
  const t0 = clock.now();
  clock.advance(9_999);
  expect(cutoffs).toEqual([]);
  clock.advance(1);
  await until(() => cutoffs.length === 1 && clock.pending === 1);
  expect(cutoffs[0]).toBe(t0 + 10_000 - 60_000);

  clock.advance(10_000);
  await until(() => cutoffs.length === 2 && clock.pending === 1);
  expect(cutoffs[1]).toBe(t0 + 20_000 - 60_000);

  await loop.stop();
  expect(clock.pending).toBe(0);
  clock.advance(60_000);
  expect(cutoffs).toHaveLength(2);
});
