import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay } from "./helpers/relay.ts";

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay();
});
afterAll(async () => {
  await r.stop();
});

const send = (text: string, query = "", headers: Record<string, string> = {}) =>
  fetch(`${r.url}/send/echo${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${r.token}`, "content-type": "text/plain", ...headers },
    body: text,
  });

describe("POST /send/{profile}: plain text for curl", () => {
  test("answers the final text with task and context ids in headers", async () => {
    const res = await send("hello there\n");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello there\n");
    expect(res.headers.get("a2a-task-id")).toBeTruthy();
    expect(res.headers.get("a2a-task-state")).toBe("completed");
  });

  test("?context= continues the same conversation", async () => {
    const first = await send("one");
    const ctx = first.headers.get("a2a-context-id")!;
    const second = await send("two", `?context=${ctx}`);
    expect(second.headers.get("a2a-context-id")).toBe(ctx);
    expect(second.headers.get("a2a-task-id")).not.toBe(first.headers.get("a2a-task-id"));
  });

  test("?wait=0 answers 202 with the task id at once", async () => {
    const res = await send("sleep:300 later", "?wait=0");
    expect(res.status).toBe(202);
    const id = (await res.text()).trim();
    expect(id).toBe(res.headers.get("a2a-task-id")!);
    expect(["submitted", "working"]).toContain(res.headers.get("a2a-task-state")!);
  });

  test("?stream=1 streams state and progress lines, then the answer", async () => {
    const res = await send("sleep:50 streamed", "?stream=1");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toBe("[submitted]");
    expect(lines).toContain("[working]");
    expect(lines).toContain("> echo: waiting 50 ms");
    expect(lines.slice(-2)).toEqual(["[completed]", "streamed"]);
  });

  test("failed → 422 with the reason, input required → 200, Idempotency-Key runs once", async () => {
    const failed = await send("fail: no luck");
    expect(failed.status).toBe(422);
    expect(await failed.text()).toBe("no luck\n");
    const ask = await send("ask: which branch?");
    expect(ask.status).toBe(200);
    expect(ask.headers.get("a2a-task-state")).toBe("input-required");
    const a = await send("once", "", { "idempotency-key": "k-123" });
    const b = await send("once", "", { "idempotency-key": "k-123" });
    expect(b.headers.get("a2a-task-id")).toBe(a.headers.get("a2a-task-id")!);
  });

  test("errors: 401 without a token, 404 unknown profile, 400 empty body", async () => {
    expect((await fetch(`${r.url}/send/echo`, { method: "POST", body: "x" })).status).toBe(401);
    const unknown = await fetch(`${r.url}/send/nope`, {
      method: "POST",
      headers: { authorization: `Bearer ${r.token}` },
      body: "x",
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("PROFILE_NOT_FOUND");
    expect((await send("   ")).status).toBe(400);
  });
});

describe("loop protection on the plain-text and REST doors", () => {
  test("A2A-Relay-Hops over max_hops is refused before any task exists", async () => {
    const res = await send("x", "", { "a2a-relay-hops": "9" });
    expect(res.status).toBe(508);
    const rest = await fetch(`${r.url}/a2a/echo/message:send`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${r.token}`,
        "content-type": "application/json",
        "a2a-relay-hops": "9",
      },
      body: JSON.stringify({ message: { messageId: "h", role: "ROLE_USER", parts: [{ text: "x" }] } }),
    });
    expect(rest.status).toBe(508);
    const list = await r.rpc("ListTasks", {});
    expect(
      list.body.result.tasks.some(
        (t: { history?: Array<{ messageId: string }> }) => t.history?.[0]?.messageId === "h",
      ),
    ).toBe(false);
  });
});
