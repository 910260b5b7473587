import { describe, expect, test } from "bun:test";
import type { Receiver } from "../../src/receivers/types.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { Writer } from "../../src/store/writer.ts";
import { Engine } from "../../src/tasks/engine.ts";
import { TaskRepo } from "../../src/tasks/repo.ts";
import { ManualClock } from "../helpers/clock.ts";
import { until } from "../helpers/until.ts";

/** A receiver that runs until its turn is aborted. */
const endless: Receiver = {
  kind: "endless",
  run: (_turn, _emit, signal) =>
    new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
};

describe("the turn cap runs on the engine's clock", () => {
  test("a turn is cut at its cap and not a millisecond before: no test sleeps for it", async () => {
    const clock = new ManualClock();
    const store = openStore(currentRuntime(), ":memory:");
    const engine = new Engine({
      repo: new TaskRepo(store.db),
      writer: new Writer(store.conn),
      profiles: new Map([["p", { name: "p", receiver: endless, timeoutMs: 60_000 }]]),
      now: clock.now,
      timers: clock,
    });
    const message = { messageId: "m1", role: "ROLE_USER" as const, parts: [{ text: "go" }] };
    const task = await engine.send({ peer: "a", profile: "p", origin: "a2a", message });
    await until(() => engine.snapshot(task.id, "a").status.state === "TASK_STATE_WORKING");

    clock.advance(59_999);
    expect(engine.snapshot(task.id, "a").status.state).toBe("TASK_STATE_WORKING");

    clock.advance(1);
    const done = await engine.waitSettled(task.id, "a");
    expect(done.status.state).toBe("TASK_STATE_FAILED");
    expect(done.status.message?.parts[0]?.text).toContain("turn exceeded");
    expect(Date.parse(done.status.timestamp ?? "")).toBe(clock.now());
    expect(clock.pending).toBe(0);
    store.close();
  });
});
