import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "../../src/a2a/types.ts";
import type { Receiver } from "../../src/receivers/types.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { Writer } from "../../src/store/writer.ts";
import { Engine } from "../../src/tasks/engine.ts";
import { TaskRepo } from "../../src/tasks/repo.ts";
import { until } from "../helpers/until.ts";

/** A receiver whose turns finish only when the test says so. */
function gated() {
  const gates: Array<() => void> = [];
  let running = 0;
  let maxRunning = 0;
  const receiver: Receiver = {
    kind: "gated",
    run: (turn, _emit, signal) =>
      new Promise((resolve, reject) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        signal.addEventListener("abort", () => {
          running--;
          reject(signal.reason);
        });
        gates.push(() => {
          running--;
          resolve({
            state: "TASK_STATE_COMPLETED",
            parts: [{ text: `done ${turn.message.parts[0]?.text}` }],
          });
        });
      }),
  };
  return { receiver, gates, maxRunning: () => maxRunning };
}

function setup(receiver: Receiver, dbPath = ":memory:", maxContextQueue = 2) {
  const store = openStore(currentRuntime(), dbPath);
  const writer = new Writer(store.conn);
  const engine = new Engine({
    repo: new TaskRepo(store.db),
    writer,
    profiles: new Map([["p", { name: "p", receiver, timeoutMs: 5000 }]]),
    maxContextQueue,
  });
  return { engine, store, writer };
}

const msg = (text: string, extra: Partial<Message> = {}): Message => ({
  messageId: crypto.randomUUID(),
  role: "ROLE_USER",
  parts: [{ text }],
  ...extra,
});
const tick = () => new Promise((r) => setTimeout(r, 5));
describe("engine", () => {
  test("turns on one conversation run one at a time, in order; the queue is bounded", async () => {
    const g = gated();
    const { engine } = setup(g.receiver);
    const send = (t: string) =>
      engine.send({ peer: "a", profile: "p", origin: "a2a", message: msg(t, { contextId: "c" }) });
    const t1 = await send("1");
    const t2 = await send("2");
    const t3 = await send("3");
    await expect(send("4")).rejects.toMatchObject({ code: -32043, reason: "CONTEXT_BUSY" });
    await until(() => g.gates.length === 1);
    g.gates[0]!();
    await engine.waitSettled(t1.id, "a");
    await until(() => g.gates.length === 2);
    g.gates[1]!();
    await engine.waitSettled(t2.id, "a");
    await until(() => g.gates.length === 3);
    g.gates[2]!();
    const done3 = await engine.waitSettled(t3.id, "a");
    expect(done3.artifacts?.[0]?.parts[0]?.text).toBe("done 3");
    expect(g.maxRunning()).toBe(1);
  });

  test("other conversations and other peers run in parallel", async () => {
    const g = gated();
    const { engine } = setup(g.receiver);
    await engine.send({ peer: "a", profile: "p", origin: "a2a", message: msg("x", { contextId: "c" }) });
    await engine.send({ peer: "b", profile: "p", origin: "a2a", message: msg("y", { contextId: "c" }) });
    await engine.send({ peer: "a", profile: "p", origin: "a2a", message: msg("z", { contextId: "d" }) });
    await until(() => g.maxRunning() === 3);
    for (const open of g.gates) open();
  });

  test("cancel of a queued turn never runs it; cancel of a running turn aborts it", async () => {
    const g = gated();
    const { engine } = setup(g.receiver);
    const running = await engine.send({
      peer: "a",
      profile: "p",
      origin: "a2a",
      message: msg("r", { contextId: "c" }),
    });
    const queued = await engine.send({
      peer: "a",
      profile: "p",
      origin: "a2a",
      message: msg("q", { contextId: "c" }),
    });
    await tick();
    const c1 = await engine.cancel(queued.id, "a");
    expect(c1.status.state).toBe("TASK_STATE_CANCELED");
    const c2 = await engine.cancel(running.id, "a");
    expect(c2.status.state).toBe("TASK_STATE_CANCELED");
    expect(g.gates).toHaveLength(1);
    await expect(engine.cancel(running.id, "a")).rejects.toMatchObject({ code: -32002 });
  });

  test("tasks belong to their peer", async () => {
    const g = gated();
    const { engine } = setup(g.receiver);
    const t = await engine.send({ peer: "a", profile: "p", origin: "a2a", message: msg("mine") });
    expect(() => engine.get(t.id, "b")).toThrow("task not found");
    await expect(engine.cancel(t.id, "b")).rejects.toMatchObject({ code: -32001 });
    g.gates[0]?.();
  });

  test("a restart fails what was running and keeps the rest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-relay-engine-"));
    const path = join(dir, "relay.db");
    const g = gated();
    const first = setup(g.receiver, path);
    const done = await first.engine.send({ peer: "a", profile: "p", origin: "a2a", message: msg("ok") });
    await until(() => g.gates.length === 1);
    g.gates[0]!();
    await first.engine.waitSettled(done.id, "a");
    const stuck = await first.engine.send({ peer: "a", profile: "p", origin: "a2a", message: msg("stuck") });
    await until(() => g.gates.length === 2);
    first.writer.flush();
    first.store.close(); // the process "dies" with the turn running

    const second = setup(gated().receiver, path);
    expect(await second.engine.recover()).toBe(1);
    const t = second.engine.get(stuck.id, "a");
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message?.parts[0]?.text).toContain("relay restarted");
    expect(second.engine.get(done.id, "a").status.state).toBe("TASK_STATE_COMPLETED");
  });
});
