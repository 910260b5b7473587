import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ListTasksRequest } from "@a2a-js/sdk";
import type { Client } from "@a2a-js/sdk/client";
import { rpc, sdkClient, sdkSend, taskJson, userMessage, userMessageV03 } from "../e2e/_client.ts";
import { type DenoRelay, startDenoRelay, stopAllDeno, waitFor } from "./relay.ts";

/**
 * The relay running from source on Deno (`deno run` with the flags of `deno task serve`), driven by
 * the official @a2a-js/sdk client. Run by `npm run test:deno` (not by the default `bun test`: the
 * file name does not match *.test.ts).
 */

let r: DenoRelay;
let client: Client;
beforeAll(async () => {
  r = await startDenoRelay();
  client = await sdkClient(r);
}, 90_000);
afterAll(stopAllDeno);

type Json = ReturnType<typeof taskJson>;

async function send(text: string, extra: Parameters<typeof sdkSend>[1] = {}): Promise<Json> {
  return taskJson(await client.sendMessage(sdkSend(text, extra)));
}

async function states(gen: AsyncGenerator<{ payload?: { $case: string; value: unknown } }>) {
  const out: string[] = [];
  for await (const e of gen) {
    const p = e.payload!;
    if (p.$case === "task") out.push(`task:${taskJson(p.value).status.state}`);
    else if (p.$case === "statusUpdate") {
      const st = (p.value as { status?: { state?: number } }).status?.state;
      out.push(`status:${taskJson({ id: "", contextId: "", status: { state: st } }).status.state}`);
    } else out.push(p.$case);
  }
  return out;
}

async function stateOf(id: string): Promise<string> {
  return taskJson(await client.getTask({ tenant: "", id })).status.state;
}

describe("on Deno", () => {
  test("started with the least-privilege flags of `deno task serve`: writes only to the data and lock dirs", () => {
    expect(r.flags).toContain("--allow-net");
    expect(r.flags.some((f) => f.startsWith("--allow-write="))).toBe(true);
    expect(r.flags).not.toContain("--allow-all");
    expect(r.flags).not.toContain("-A");
    expect(r.flags).toContain(`--allow-write=${r.dataDir},${join(r.dataDir, "..", "locks")}`);
  });

  test("the agent card resolves and names the profile endpoint", async () => {
    const card = await client.getAgentCard();
    expect(card.supportedInterfaces[0]!.url).toBe(`${r.url}/a2a/echo`);
  });

  test("sendMessage blocking returns the completed task", async () => {
    const t = await send("hello deno");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.artifacts[0].parts[0].text).toBe("hello deno");
    expect(t.history.map((m: Json) => m.role)).toEqual(["ROLE_USER", "ROLE_AGENT"]);
  });

  test("returnImmediately answers at once; getTask later sees COMPLETED", async () => {
    const t0 = Date.now();
    const t = await send("sleep:800 later", { configuration: { returnImmediately: true } });
    expect(Date.now() - t0).toBeLessThan(700);
    expect(["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"]).toContain(t.status.state);
    await waitFor(async () => (await stateOf(t.id)) === "TASK_STATE_COMPLETED", 5_000, "completion");
  });

  test("sendMessageStream: snapshot, WORKING, artifact, COMPLETED, then the stream ends", async () => {
    const seen = await states(client.sendMessageStream(sdkSend("sleep:100 streamed")));
    expect(seen.slice(0, 2)).toEqual(["task:TASK_STATE_SUBMITTED", "status:TASK_STATE_WORKING"]);
    expect(seen.slice(-2)).toEqual(["artifactUpdate", "status:TASK_STATE_COMPLETED"]);
    expect(new Set(seen.slice(2, -2))).toEqual(new Set(seen.length > 4 ? ["status:TASK_STATE_WORKING"] : []));
  });

  test("resubscribeTask follows a running task to its end", async () => {
    const t = await send("sleep:400 watched", { configuration: { returnImmediately: true } });
    const seen = await states(client.resubscribeTask({ tenant: "", id: t.id }));
    expect(seen[0]!.startsWith("task:")).toBe(true);
    expect(seen[seen.length - 1]).toBe("status:TASK_STATE_COMPLETED");
  });

  test("listTasks filters by contextId and pages", async () => {
    const contextId = crypto.randomUUID();
    for (let i = 0; i < 3; i++) await send(`item ${i}`, { message: { contextId } });
    const all = await client.listTasks(ListTasksRequest.fromJSON({ contextId }));
    expect(all.totalSize).toBe(3);
    const page = await client.listTasks(ListTasksRequest.fromJSON({ contextId, pageSize: 2 }));
    expect(page.tasks).toHaveLength(2);
    expect(page.nextPageToken).not.toBe("");
  });

  test("cancelTask stops a running turn quickly", async () => {
    const t = await send("sleep:5000 slow", { configuration: { returnImmediately: true } });
    await waitFor(async () => (await stateOf(t.id)) === "TASK_STATE_WORKING", 3_000, "the turn to start");
    const t0 = Date.now();
    const c = taskJson(await client.cancelTask({ tenant: "", id: t.id, metadata: undefined }));
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(c.status.state).toBe("TASK_STATE_CANCELED");
  });

  test("v0.3 message/send (no A2A-Version header) answers a kind-tagged task", async () => {
    const { status, body } = await rpc(
      r,
      "message/send",
      { message: userMessageV03("hello v0.3") },
      { version: null },
    );
    expect(status).toBe(200);
    expect(body.result.kind).toBe("task");
    expect(body.result.status.state).toBe("completed");
    expect(body.result.artifacts[0].parts[0]).toEqual({ kind: "text", text: "hello v0.3" });
  });

  test("an unknown task is -32001", async () => {
    const { body } = await rpc(r, "GetTask", { id: "no-such-task" });
    expect(body.error.code).toBe(-32001);
  });
});

describe("on Deno: restart and signals", () => {
  test("kill -9 during a turn, restart on the same data dir: the task reads FAILED (relay restarted)", async () => {
    const a = await startDenoRelay();
    const kept = (await rpc(a, "SendMessage", { message: userMessage("kept") })).body.result.task;
    const running = await rpc(a, "SendMessage", {
      message: userMessage("sleep:10000 interrupted"),
      configuration: { returnImmediately: true },
    });
    const id = running.body.result.task.id as string;
    await waitFor(
      async () => (await rpc(a, "GetTask", { id })).body.result.status.state === "TASK_STATE_WORKING",
      3_000,
      "the turn to start",
    );
    await a.stop("SIGKILL");
    expect(a.proc.signalCode).toBe("SIGKILL");

    const b = await startDenoRelay({ dataDir: a.dataDir });
    const { body } = await rpc(b, "GetTask", { id });
    expect(body.result.status.state).toBe("TASK_STATE_FAILED");
    expect(body.result.status.message.parts[0].text).toContain("relay restarted");
    expect((await rpc(b, "GetTask", { id: kept.id })).body.result).toEqual(kept);
    await b.stop();
  }, 90_000);

  test("SIGTERM lets the running turn finish, then exits 0", async () => {
    const a = await startDenoRelay();
    const running = await rpc(a, "SendMessage", {
      message: userMessage("sleep:600 finishing"),
      configuration: { returnImmediately: true },
    });
    const id = running.body.result.task.id as string;
    await waitFor(
      async () => (await rpc(a, "GetTask", { id })).body.result.status.state === "TASK_STATE_WORKING",
      3_000,
      "the turn to start",
    );
    expect(await a.stop("SIGTERM")).toBe(0);
    expect(a.stderr()).toContain("received SIGTERM");
    expect(a.stderr()).not.toContain("legacy behavior"); // --unstable-no-legacy-abort took effect
    const b = await startDenoRelay({ dataDir: a.dataDir });
    expect((await rpc(b, "GetTask", { id })).body.result.status.state).toBe("TASK_STATE_COMPLETED");
    await b.stop();
  }, 90_000);
});
