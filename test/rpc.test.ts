import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay, userMessage } from "./helpers/relay.ts";

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay();
});
afterAll(async () => {
  await r.stop();
});

describe("JSON-RPC v1.0 on the echo profile", () => {
  test("SendMessage blocks until the task completes and returns the echo as an artifact", async () => {
    const { status, body } = await r.rpc("SendMessage", { message: userMessage("hello relay") });
    expect(status).toBe(200);
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.artifacts[0].parts[0].text).toBe("hello relay");
    expect(task.history.map((m: { role: string }) => m.role)).toEqual(["ROLE_USER", "ROLE_AGENT"]);
  });

  test("returnImmediately answers before the turn ends; GetTask later sees it completed", async () => {
    const { body } = await r.rpc("SendMessage", {
      message: userMessage("sleep:200 later"),
      configuration: { returnImmediately: true },
    });
    const t = body.result.task;
    expect(["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"]).toContain(t.status.state);
    const done = await r.relay.engine.waitSettled(t.id, "local");
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
    const got = await r.rpc("GetTask", { id: t.id, historyLength: 1 });
    expect(got.body.result.status.state).toBe("TASK_STATE_COMPLETED");
    expect(got.body.result.history).toHaveLength(1);
  });

  test("a retried messageId returns the same task and runs nothing twice", async () => {
    const msg = userMessage("once");
    const a = await r.rpc("SendMessage", { message: msg });
    const b = await r.rpc("SendMessage", { message: msg });
    expect(b.body.result.task.id).toBe(a.body.result.task.id);
  });

  test("unknown task is -32001, unknown method -32601, bad params -32602 naming the path", async () => {
    expect((await r.rpc("GetTask", { id: "nope" })).body.error.code).toBe(-32001);
    expect((await r.rpc("Frobnicate", {})).body.error.code).toBe(-32601);
    const bad = await r.rpc("SendMessage", { message: { role: "ROLE_USER", messageId: "x", parts: [] } });
    expect(bad.body.error.code).toBe(-32602);
    expect(bad.body.error.message).toContain("message.parts");
  });

  test("no credential is 401 with WWW-Authenticate", async () => {
    const res = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });
});

describe("older Hermes fleet dialect", () => {
  const fleet = (text: string, contextId?: string) =>
    r.rpc(
      "SendMessage",
      { message: { role: "user", parts: [{ text }], ...(contextId ? { contextId } : {}) } },
      {
        headers: { "a2a-version": "" },
        id: "fleet-1",
      },
    );

  test("a completed turn answers with a direct message; the context carries on", async () => {
    const first = await fleet("hi fleet");
    expect(first.body).toMatchObject({
      jsonrpc: "2.0",
      id: "fleet-1",
      result: { kind: "message", message: { role: "agent", parts: [{ text: "hi fleet" }] } },
    });
    const ctx = first.body.result.message.contextId;
    const second = await fleet("again", ctx);
    expect(second.body.result.message.contextId).toBe(ctx);
  });

  test("a failed turn is a JSON-RPC error naming the reason", async () => {
    const res = await fleet("fail: broken");
    expect(res.body.error.code).toBe(-32046);
    expect(res.body.error.message).toContain("broken");
    expect(res.body.error.data.reason).toBe("TASK_FAILED");
  });
});
