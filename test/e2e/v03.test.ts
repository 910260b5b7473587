import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RelayProcess, startBinary, stopAll, waitFor } from "../helpers/binary.ts";
import { readSse, rpc, stream, userMessageV03 } from "./_client.ts";

/** The compiled binary spoken to in A2A v0.3 (no A2A-Version header) and the older Hermes fleet dialect. */

let r: RelayProcess;
beforeAll(async () => {
  r = await startBinary();
}, 60_000);
afterAll(stopAll);

const v03 = (method: string, params: unknown, id: unknown = 1) =>
  rpc(r, method, params, { version: null, id });

describe("v0.3 with plain fetch", () => {
  test("message/send blocks and answers a kind-tagged task in kebab-case states", async () => {
    const { status, body } = await v03("message/send", { message: userMessageV03("hello v0.3") }, "req-1");
    expect(status).toBe(200);
    expect(body.id).toBe("req-1");
    const t = body.result;
    expect(t.kind).toBe("task");
    expect(t.status.state).toBe("completed");
    expect(t.artifacts[0].parts[0]).toEqual({ kind: "text", text: "hello v0.3" });
    expect(t.history.map((m: { kind: string; role: string }) => `${m.kind}:${m.role}`)).toEqual([
      "message:user",
      "message:agent",
    ]);
  });

  test("message/send with blocking:false returns at once; tasks/get sees it complete", async () => {
    const { body } = await v03("message/send", {
      message: userMessageV03("sleep:300 later"),
      configuration: { blocking: false },
    });
    expect(["submitted", "working"]).toContain(body.result.status.state);
    const id = body.result.id;
    const done = await waitFor(
      async () => {
        const g = await v03("tasks/get", { id, historyLength: 1 });
        return g.body.result.status.state === "completed" ? g.body.result : undefined;
      },
      5_000,
      "the task to complete",
    );
    expect(done.kind).toBe("task");
    expect(done.history).toHaveLength(1);
    expect(done.artifacts[0].parts[0].text).toBe("later");
  });

  test("message/stream: kind-tagged events, the last one a status-update with final: true", async () => {
    const res = await stream(
      r,
      "message/stream",
      { message: userMessageV03("sleep:100 streamed") },
      { version: null },
    );
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = await readSse(res);
    for (const f of frames) {
      expect(f.jsonrpc).toBe("2.0");
      expect(f.id).toBe(7);
    }
    const events = frames.map((f) => f.result);
    expect(events[0].kind).toBe("task");
    expect(events.map((e) => e.kind)).toContain("artifact-update");
    const last = events[events.length - 1];
    expect(last).toMatchObject({ kind: "status-update", final: true, status: { state: "completed" } });
    for (const e of events.slice(1, -1)) expect(e.final ?? false).toBe(false);
  });

  test("tasks/cancel cancels a running task; tasks/cancel again is -32002; tasks/get of unknown is -32001", async () => {
    const { body } = await v03("message/send", {
      message: userMessageV03("sleep:5000 slow"),
      configuration: { blocking: false },
    });
    const id = body.result.id;
    const c = await v03("tasks/cancel", { id });
    expect(c.body.result.kind).toBe("task");
    expect(c.body.result.status.state).toBe("canceled");
    expect((await v03("tasks/cancel", { id })).body.error.code).toBe(-32002);
    expect((await v03("tasks/get", { id: "missing" })).body.error.code).toBe(-32001);
  });

  test("tasks/resubscribe streams the task snapshot then its events to the end", async () => {
    const { body } = await v03("message/send", {
      message: userMessageV03("sleep:400 resub"),
      configuration: { blocking: false },
    });
    const id = body.result.id;
    const frames = await readSse(await stream(r, "tasks/resubscribe", { id }, { version: null }));
    const events = frames.map((f) => f.result);
    expect(events[0]).toMatchObject({ kind: "task", id });
    expect(events[events.length - 1]).toMatchObject({
      kind: "status-update",
      final: true,
      status: { state: "completed" },
    });
    const again = await v03("tasks/resubscribe", { id });
    expect(again.body.error.code).toBe(-32004);
  });
});

describe("the older Hermes fleet dialect", () => {
  const hermes = (text: string, contextId?: string) =>
    rpc(
      r,
      "SendMessage",
      { message: { role: "user", parts: [{ text }], ...(contextId ? { contextId } : {}) } },
      { version: null, id: crypto.randomUUID() },
    );

  test('header-less SendMessage with no messageId gets {"kind":"message","message":{…}} after the turn', async () => {
    const { status, body } = await hermes("sleep:100 hi fleet");
    expect(status).toBe(200);
    expect(body.result.kind).toBe("message");
    expect(body.result.message.role).toBe("agent");
    expect(body.result.message.parts).toEqual([{ text: "hi fleet" }]);
    expect(typeof body.result.message.contextId).toBe("string");
    expect(body.result.task).toBeUndefined();
  });

  test("multi-turn: the contextId of the answer continues the conversation", async () => {
    const a = await hermes("first");
    const ctx = a.body.result.message.contextId;
    const b = await hermes("second", ctx);
    expect(b.body.result).toEqual({
      kind: "message",
      message: { role: "agent", parts: [{ text: "second" }], contextId: ctx },
    });
    const list = await rpc(r, "ListTasks", { contextId: ctx }, { path: "/a2a" });
    expect(list.body.result.totalSize).toBe(2);
  });

  test("message/send without messageId is the same dialect", async () => {
    const { body } = await rpc(
      r,
      "message/send",
      { message: { role: "user", parts: [{ kind: "text", text: "slash form" }] } },
      { version: null, id: "h-2" },
    );
    expect(body.id).toBe("h-2");
    expect(body.result).toMatchObject({ kind: "message", message: { parts: [{ text: "slash form" }] } });
  });
});

describe("agent cards", () => {
  test("no A2A-Version: the v0.3 card shape; ETag answers If-None-Match with 304", async () => {
    const res = await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`);
    expect(res.status).toBe(200);
    const card = (await res.json()) as { url: string; preferredTransport: string; protocolVersion: string };
    expect(card).toMatchObject({ url: `${r.url}/a2a/echo`, preferredTransport: "JSONRPC" });
    expect(card.protocolVersion).toStartWith("0.3");
    const etag = res.headers.get("etag")!;
    expect(etag).toBeTruthy();
    expect(res.headers.get("cache-control")).toContain("max-age");
    const again = await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
  });

  test("card URLs ignore X-Forwarded-Proto/Host from an address outside server.trusted_proxies", async () => {
    const res = await fetch(`${r.url}/.well-known/agent-card.json`, {
      headers: {
        "a2a-version": "1.0",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "relay.example:8443",
      },
    });
    const card = (await res.json()) as { supportedInterfaces: Array<{ url: string }> };
    expect(card.supportedInterfaces[0]!.url).toBe(`${r.url}/a2a`);
  });

  test("an unknown profile's card is 404", async () => {
    expect((await fetch(`${r.url}/a2a/nope/.well-known/agent-card.json`)).status).toBe(404);
  });
});
