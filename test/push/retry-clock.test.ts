import { expect, test } from "bun:test";
import { PushDeliverer } from "../../src/push/deliverer.ts";
import { PushStore } from "../../src/push/store.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { Writer } from "../../src/store/writer.ts";
import { ManualClock } from "../helpers/clock.ts";
import { until } from "../helpers/until.ts";

test("push retries back off on the deliverer's clock: 1 s, then 2 s, and not a millisecond early", async () => {
  const clock = new ManualClock();
  const store = openStore(currentRuntime(), ":memory:");
  const writer = new Writer(store.conn);
  const push = new PushStore(store.db);
  const statuses = [503, 502, 200];
  const seen: number[] = [];
  const deliverer = new PushDeliverer({
    store: push,
    writer,
    now: clock.now,
    timers: clock,
    baseDelayMs: 1000,
    fetch: async () => {
      seen.push(clock.now());
      return new Response("", { status: statuses[seen.length - 1] ?? 500 });
    },
  });
  const task = {
    id: "t1",
    contextId: "c1",
    status: { state: "TASK_STATE_WORKING" as const },
  };
  await writer.run(() => {
    push.put("a", { taskId: "t1", id: "p1", url: "http://127.0.0.1:1/hook" }, clock.now());
    push.enqueue(
      "t1",
      { statusUpdate: { taskId: "t1", contextId: "c1", status: task.status } },
      task,
      clock.now(),
    );
  });
  const t0 = clock.now();
  deliverer.poke();
  clock.advance(0);
  // each failure is written down, then the next pass is armed
  await until(() => seen.length === 1 && clock.pending === 1);

  clock.advance(999);
  expect(seen).toHaveLength(1);
  clock.advance(1);
  await until(() => seen.length === 2 && clock.pending === 1);
  expect(seen[1]! - t0).toBe(1000);

  clock.advance(1999);
  expect(seen).toHaveLength(2);
  clock.advance(1);
  await until(() => seen.length === 3 && push.heads(10).length === 0);
  expect(seen[2]! - t0).toBe(3000);
  // delivered: nothing is left to retry, so no timer stays armed
  expect(clock.pending).toBe(0);
  await deliverer.stop();
});
