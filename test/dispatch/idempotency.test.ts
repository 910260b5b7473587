import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/logger.ts";
import type { Receiver } from "../../src/receivers/types.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { type RunningRelay, startRelay } from "../../src/server.ts";

/** A relay on a data dir that outlives it (so a second relay can start on the same one). */
async function relayOn(dir: string) {
  const config = loadConfig({
    env: { A2A_RELAY_HOME: join(dir, "data"), A2A_RELAY_LOCK_DIR: join(dir, "locks") },
    port: "0",
    prepare: true,
  });
  const relay: RunningRelay = await startRelay(config, currentRuntime(), createLogger("silent"));
  const token = readFileSync(join(dir, "data", "tokens", "local.token"), "utf8").trim();
  // count the echo receiver's runs
  const target = relay.engine.deps.profiles.get("echo")!;
  const inner: Receiver = target.receiver;
  const runs: string[] = [];
  target.receiver = {
    kind: inner.kind,
    run: (turn, emit, signal) => {
      runs.push(turn.taskId);
      return inner.run(turn, emit, signal);
    },
  };
  const send = async (messageId: string, text: string, configuration: Record<string, unknown> = {}) => {
    const res = await fetch(`${relay.url}/a2a/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: { message: { messageId, role: "ROLE_USER", parts: [{ text }] }, configuration },
      }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: checked field by field
    const body = (await res.json()) as any;
    if (body.error) throw new Error(JSON.stringify(body.error));
    return body.result.task as { id: string; status: { state: string }; artifacts?: unknown[] };
  };
  return { relay, runs, send };
}

let dir: string | undefined;
let running: RunningRelay | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("idempotent dispatch: the same messageId from the same peer runs the receiver once", () => {
  test("sequentially", async () => {
    dir = mkdtempSync(join(tmpdir(), "a2a-dispatch-"));
    const r = await relayOn(dir);
    running = r.relay;
    const id = crypto.randomUUID();
    const first = await r.send(id, "hello");
    const second = await r.send(id, "hello");
    expect(first.status.state).toBe("TASK_STATE_COMPLETED");
    expect(second.id).toBe(first.id);
    expect(r.runs).toEqual([first.id]);
    // a retry repeats the message: the same messageId with other content is a new message
    const third = await r.send(id, "something else entirely");
    expect(third.id).not.toBe(first.id);
    expect(r.runs).toEqual([first.id, third.id]);
  });

  test("concurrently (10 at once, while the turn runs)", async () => {
    dir = mkdtempSync(join(tmpdir(), "a2a-dispatch-"));
    const r = await relayOn(dir);
    running = r.relay;
    const id = crypto.randomUUID();
    const tasks = await Promise.all(Array.from({ length: 10 }, () => r.send(id, "sleep:100 hello")));
    expect(new Set(tasks.map((t) => t.id)).size).toBe(1);
    expect(tasks.every((t) => t.status.state === "TASK_STATE_COMPLETED")).toBe(true);
    expect(r.runs).toHaveLength(1);
  });

  test("after a restart, and while the first turn is still running", async () => {
    dir = mkdtempSync(join(tmpdir(), "a2a-dispatch-"));
    const a = await relayOn(dir);
    running = a.relay;
    const id = crypto.randomUUID();
    const queued = await a.send(id, "sleep:200 hi", { returnImmediately: true });
    const whileRunning = await a.send(id, "sleep:200 hi", { returnImmediately: true });
    expect(whileRunning.id).toBe(queued.id);
    const done = await a.relay.engine.waitSettled(queued.id, "local");
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
    await a.relay.stop();

    const b = await relayOn(dir);
    running = b.relay;
    const again = await b.send(id, "sleep:200 hi");
    expect(again.id).toBe(queued.id);
    expect(again.status.state).toBe("TASK_STATE_COMPLETED");
    expect(a.runs).toEqual([queued.id]);
    expect(b.runs).toEqual([]);
  });
});
