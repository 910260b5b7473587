import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startBinary, stopAll, waitFor } from "../helpers/binary.ts";
import { type RpcReply, rpc, userMessage } from "./_client.ts";

/** kill -9 and SIGTERM against the compiled binary: what survives a crash, what a graceful stop finishes. */

afterAll(stopAll);

type Relay = Awaited<ReturnType<typeof startBinary>>;

async function stateOf(r: Relay, id: string): Promise<string> {
  const { body } = await rpc(r, "GetTask", { id });
  return body.result.status.state;
}

describe("kill -9 during a running turn, then restart on the same data dir", () => {
  test("the running and the queued task read FAILED (relay restarted); completed ones are intact", async () => {
    const a = await startBinary();
    const done: RpcReply[] = [];
    for (const text of ["kept one", "kept two"])
      done.push(await rpc(a, "SendMessage", { message: userMessage(text) }));
    const contextId = crypto.randomUUID();
    const running = await rpc(a, "SendMessage", {
      message: userMessage("sleep:10000 interrupted", { contextId }),
      configuration: { returnImmediately: true },
    });
    const queued = await rpc(a, "SendMessage", {
      message: userMessage("queued behind it", { contextId }),
      configuration: { returnImmediately: true },
    });
    const runningId = running.body.result.task.id as string;
    const queuedId = queued.body.result.task.id as string;
    await waitFor(
      async () => (await stateOf(a, runningId)) === "TASK_STATE_WORKING",
      3_000,
      "the turn to start",
    );
    expect(await stateOf(a, queuedId)).toBe("TASK_STATE_SUBMITTED");

    await a.stop("SIGKILL");
    expect(a.proc.signalCode).toBe("SIGKILL");

    const b = await startBinary({ dataDir: a.dataDir });
    expect(b.token).toBe(a.token);
    for (const id of [runningId, queuedId]) {
      const { body } = await rpc(b, "GetTask", { id });
      expect(body.result.status.state).toBe("TASK_STATE_FAILED");
      expect(body.result.status.message.parts[0].text).toContain("relay restarted");
    }
    for (const d of done) {
      const t = d.body.result.task;
      const { body } = await rpc(b, "GetTask", { id: t.id });
      expect(body.result).toEqual(t);
    }
    const list = await rpc(b, "ListTasks", {}, { path: "/a2a" });
    expect(list.body.result.totalSize).toBe(4);
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
    // the conversation whose turn died is usable again
    const next = await rpc(b, "SendMessage", { message: userMessage("after restart", { contextId }) });
    expect(next.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");

    expect(await b.stop("SIGTERM")).toBe(0);
    const db = new Database(join(a.dataDir, "relay.db"), { readonly: true });
    try {
      expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
      expect(db.query("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 5 });
    } finally {
      db.close();
    }
  }, 30_000);
});

describe("SIGTERM", () => {
  test("lets an in-flight turn finish, answers its blocking caller, exits 0", async () => {
    const r = await startBinary();
    const blocking = rpc(r, "SendMessage", { message: userMessage("sleep:700 graceful") });
    await waitFor(
      async () => {
        const { body } = await rpc(r, "ListTasks", { status: "TASK_STATE_WORKING" }, { path: "/a2a" });
        return body.result.totalSize === 1;
      },
      3_000,
      "the turn to start",
    );
    const t0 = Date.now();
    const code = r.stop("SIGTERM");
    const answer = await blocking;
    expect(answer.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(answer.body.result.task.artifacts[0].parts[0].text).toBe("graceful");
    expect(await code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.stderr()).toContain("received SIGTERM");

    const again = await startBinary({ dataDir: r.dataDir });
    const { body } = await rpc(again, "GetTask", { id: answer.body.result.task.id });
    expect(body.result.status.state).toBe("TASK_STATE_COMPLETED");
  }, 30_000);

  test("fails a turn that outlives shutdown_grace_s cleanly, then exits 0", async () => {
    const r = await startBinary({ toml: "[server]\nshutdown_grace_s = 0.3\n" });
    const { body } = await rpc(r, "SendMessage", {
      message: userMessage("sleep:10000 too long"),
      configuration: { returnImmediately: true },
    });
    const id = body.result.task.id as string;
    await waitFor(async () => (await stateOf(r, id)) === "TASK_STATE_WORKING", 3_000, "the turn to start");
    const t0 = Date.now();
    expect(await r.stop("SIGTERM")).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3_000);
    const again = await startBinary({ dataDir: r.dataDir });
    const got = await rpc(again, "GetTask", { id });
    expect(got.body.result.status.state).toBe("TASK_STATE_FAILED");
    expect(got.body.result.status.message.parts[0].text).toContain("shutting down");
  }, 30_000);
});
