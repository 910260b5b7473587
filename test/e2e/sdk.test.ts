import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ListTasksRequest } from "@a2a-js/sdk";
import type { Client } from "@a2a-js/sdk/client";
import { type RelayProcess, startBinary, stopAll, waitFor } from "../helpers/binary.ts";
import { sdkClient, sdkSend, taskJson } from "./_client.ts";

/** The compiled binary driven by the official @a2a-js/sdk 1.3.0 client (v1.0 JSON-RPC). */

let r: RelayProcess;
let client: Client;
beforeAll(async () => {
  r = await startBinary();
  client = await sdkClient(r);
}, 60_000);
afterAll(stopAll);

type Json = ReturnType<typeof taskJson>;

async function send(text: string, extra: Parameters<typeof sdkSend>[1] = {}): Promise<Json> {
  const res = await client.sendMessage(sdkSend(text, extra));
  expect("status" in res).toBe(true);
  return taskJson(res);
}

async function collect(gen: AsyncGenerator<{ payload?: { $case: string; value: unknown } }>) {
  const events: Array<{ kind: string; state?: string; json: Json }> = [];
  for await (const e of gen) {
    const p = e.payload!;
    const json = p.$case === "task" ? taskJson(p.value) : (p.value as Json);
    const state =
      p.$case === "task" ? json.status?.state : p.$case === "statusUpdate" ? json.status : undefined;
    events.push({ kind: p.$case, state: stateName(state), json });
  }
  return events;
}

/** statusUpdate values are ts-proto objects (numeric enum); normalise to the enum name. */
function stateName(s: unknown): string | undefined {
  if (s === undefined) return undefined;
  if (typeof s === "string") return s;
  const st = (s as { state?: number }).state;
  return taskJson({ id: "", contextId: "", status: { state: st }, artifacts: [], history: [] }).status.state;
}

async function rpcCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    return (e as { envelopeCode?: number }).envelopeCode ?? Number.NaN;
  }
  throw new Error("expected a JSON-RPC error, got a result");
}

describe("card resolution", () => {
  test("`…/a2a/echo/` reads the profile card and sends to the profile", async () => {
    const c = await sdkClient(r, `${r.url}/a2a/echo/`);
    const card = await c.getAgentCard();
    expect(card.supportedInterfaces[0]!.url).toBe(`${r.url}/a2a/echo`);
    const t = taskJson(await c.sendMessage(sdkSend("via profile card")));
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.artifacts[0].parts[0].text).toBe("via profile card");
  });

  test("`…/a2a/echo` (no slash) reads the relay card at /a2a/.well-known and still works", async () => {
    const c = await sdkClient(r, `${r.url}/a2a/echo`);
    const card = await c.getAgentCard();
    expect(card.supportedInterfaces[0]!.url).toBe(`${r.url}/a2a`);
    const t = taskJson(await c.sendMessage(sdkSend("via relay card")));
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.artifacts[0].parts[0].text).toBe("via relay card");
  });
});

describe("sendMessage", () => {
  test("blocking returns the completed task with the echo as artifact and full history", async () => {
    const t = await send("hello e2e");
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.artifacts[0].parts[0].text).toBe("hello e2e");
    expect(t.history.map((m: Json) => m.role)).toEqual(["ROLE_USER", "ROLE_AGENT"]);
  });

  test("returnImmediately returns at once; getTask later sees it completed", async () => {
    const t0 = Date.now();
    const t = await send("sleep:1000 later", { configuration: { returnImmediately: true } });
    expect(Date.now() - t0).toBeLessThan(800);
    expect(["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"]).toContain(t.status.state);
    const done = await waitFor(
      async () => {
        const g = taskJson(await client.getTask({ tenant: "", id: t.id }));
        return g.status.state === "TASK_STATE_COMPLETED" ? g : undefined;
      },
      5_000,
      "the task to complete",
    );
    expect(done.artifacts[0].parts[0].text).toBe("later");
  });

  test("fail: ends FAILED with the reason", async () => {
    const t = await send("fail: on purpose");
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toBe("on purpose");
  });
});

describe("sendMessageStream", () => {
  test("events arrive in order: task snapshot, WORKING, artifact, COMPLETED, then the stream ends", async () => {
    const events = await collect(client.sendMessageStream(sdkSend("sleep:150 streamed")));
    expect(events[0]!.kind).toBe("task");
    expect(events[0]!.state).toBe("TASK_STATE_SUBMITTED");
    expect(events[1]).toMatchObject({ kind: "statusUpdate", state: "TASK_STATE_WORKING" });
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ kind: "statusUpdate", state: "TASK_STATE_COMPLETED" });
    const artifact = events.findIndex((e) => e.kind === "artifactUpdate");
    expect(artifact).toBeGreaterThan(1);
    expect(artifact).toBe(events.length - 2);
    const a = events[artifact]!.json as { artifact: { parts: Array<{ content: { value: string } }> } };
    expect(a.artifact.parts[0]!.content.value).toBe("streamed");
    const taskId = events[0]!.json.id;
    for (const e of events.slice(1)) expect((e.json as { taskId: string }).taskId).toBe(taskId);
  });

  test("ask: stops at INPUT_REQUIRED; a second message with the same taskId continues the task", async () => {
    const first = await collect(client.sendMessageStream(sdkSend("ask: which colour?")));
    const last = first[first.length - 1]!;
    expect(last.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const taskId = first[0]!.json.id as string;
    const contextId = first[0]!.json.contextId as string;
    const second = await collect(
      client.sendMessageStream(sdkSend("blue", { message: { taskId, contextId } })),
    );
    expect(second[0]!.json.id).toBe(taskId);
    expect(second[second.length - 1]!.state).toBe("TASK_STATE_COMPLETED");
    const t = taskJson(await client.getTask({ tenant: "", id: taskId }));
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.history.map((m: Json) => m.parts[0].text)).toEqual([
      "ask: which colour?",
      "which colour?",
      "blue",
      "blue",
    ]);
  });
});

describe("conversations", () => {
  test("a retried messageId returns the task it created and runs nothing twice", async () => {
    const req = sdkSend("sleep:200 once");
    const [a, b] = await Promise.all([client.sendMessage(req), client.sendMessage(req)]);
    const c = await client.sendMessage(req);
    expect(taskJson(b).id).toBe(taskJson(a).id);
    expect(taskJson(c).id).toBe(taskJson(a).id);
    const t = taskJson(await client.getTask({ tenant: "", id: taskJson(a).id }));
    expect(t.history).toHaveLength(2);
  });

  test("one turn at a time per context: a later message waits for the running one", async () => {
    const contextId = crypto.randomUUID();
    const first = await send("sleep:400 first", {
      message: { contextId },
      configuration: { returnImmediately: true },
    });
    const second = await send("second", {
      message: { contextId },
      configuration: { returnImmediately: true },
    });
    expect(second.status.state).toBe("TASK_STATE_SUBMITTED");
    const done = await collect(client.resubscribeTask({ tenant: "", id: second.id }));
    expect(done[done.length - 1]!.state).toBe("TASK_STATE_COMPLETED");
    const f = taskJson(await client.getTask({ tenant: "", id: first.id }));
    expect(f.status.state).toBe("TASK_STATE_COMPLETED");
    expect(Date.parse(f.status.timestamp)).toBeLessThanOrEqual(
      Date.parse(done[done.length - 1]!.json.status.timestamp),
    );
  });

  test("an INPUT_REQUIRED task can be canceled", async () => {
    const t = await send("ask: anything?");
    expect(t.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const c = taskJson(await client.cancelTask({ tenant: "", id: t.id, metadata: undefined }));
    expect(c.status.state).toBe("TASK_STATE_CANCELED");
  });
});

describe("getTask", () => {
  test("historyLength trims the history to the last N messages", async () => {
    const t = await send("trim me");
    const one = taskJson(await client.getTask({ tenant: "", id: t.id, historyLength: 1 }));
    expect(one.history).toHaveLength(1);
    expect(one.history[0].role).toBe("ROLE_AGENT");
    const none = taskJson(await client.getTask({ tenant: "", id: t.id, historyLength: 0 }));
    expect(none.history ?? []).toHaveLength(0);
    const all = taskJson(await client.getTask({ tenant: "", id: t.id }));
    expect(all.history).toHaveLength(2);
  });

  test("an unknown task is -32001", async () => {
    expect(await rpcCode(client.getTask({ tenant: "", id: "no-such-task" }))).toBe(-32001);
  });
});

describe("listTasks", () => {
  test("filters by contextId and status, pages with nextPageToken, reports totalSize", async () => {
    const contextId = crypto.randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await send(`item ${i}`, { message: { contextId } })).id);
    const failed = await send("fail: nope", { message: { contextId } });

    const byContext = await client.listTasks(ListTasksRequest.fromJSON({ contextId }));
    expect(byContext.totalSize).toBe(6);
    expect(byContext.nextPageToken).toBe("");

    const byStatus = await client.listTasks(
      ListTasksRequest.fromJSON({ contextId, status: "TASK_STATE_FAILED" }),
    );
    expect(byStatus.totalSize).toBe(1);
    expect(byStatus.tasks.map((t) => t.id)).toEqual([failed.id]);

    const seen: string[] = [];
    const sizes: number[] = [];
    let pageToken = "";
    for (let page = 0; page < 10; page++) {
      const res = await client.listTasks(
        ListTasksRequest.fromJSON({ contextId, status: "TASK_STATE_COMPLETED", pageSize: 2, pageToken }),
      );
      expect(res.totalSize).toBe(5);
      expect(res.pageSize).toBe(2);
      sizes.push(res.tasks.length);
      seen.push(...res.tasks.map((t) => t.id));
      pageToken = res.nextPageToken;
      if (!pageToken) break;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect([...seen].sort()).toEqual([...ids].sort());
  });
});

describe("cancelTask", () => {
  test("a running sleep:5000 task is CANCELED quickly", async () => {
    const t = await send("sleep:5000 slow", { configuration: { returnImmediately: true } });
    await waitFor(
      async () =>
        taskJson(await client.getTask({ tenant: "", id: t.id })).status.state === "TASK_STATE_WORKING",
      3_000,
      "the turn to start",
    );
    const t0 = Date.now();
    const c = taskJson(await client.cancelTask({ tenant: "", id: t.id, metadata: undefined }));
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(c.status.state).toBe("TASK_STATE_CANCELED");
    const g = taskJson(await client.getTask({ tenant: "", id: t.id }));
    expect(g.status.state).toBe("TASK_STATE_CANCELED");
  });

  test("a completed task is not cancelable: -32002", async () => {
    const t = await send("done already");
    expect(await rpcCode(client.cancelTask({ tenant: "", id: t.id, metadata: undefined }))).toBe(-32002);
  });
});

describe("resubscribeTask", () => {
  test("three concurrent subscribers each get the snapshot first, then every event", async () => {
    const t = await send("sleep:1200 fan out", { configuration: { returnImmediately: true } });
    await waitFor(
      async () => taskJson(await client.getTask({ tenant: "", id: t.id })).status.message !== undefined,
      3_000,
      "the turn to report progress",
    );
    const subs = await Promise.all(
      [1, 2, 3].map(() => collect(client.resubscribeTask({ tenant: "", id: t.id }))),
    );
    for (const events of subs) {
      expect(events.map((e) => `${e.kind}:${e.state ?? ""}`)).toEqual([
        "task:TASK_STATE_WORKING",
        "artifactUpdate:",
        "statusUpdate:TASK_STATE_COMPLETED",
      ]);
      expect(events[0]!.json.id).toBe(t.id);
    }
  });

  test("resubscribing to a terminal task is -32004", async () => {
    const t = await send("finished");
    expect(await rpcCode(collect(client.resubscribeTask({ tenant: "", id: t.id })))).toBe(-32004);
  });
});
