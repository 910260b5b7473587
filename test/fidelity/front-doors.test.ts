import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bearerFetch } from "../helpers/bearer-fetch.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/**
 * What clients that no one here wrote do at the relay's front doors (issue 14): the a2a_fleet
 * client's `<url>/jsonrpc`, base-URL clients' trailing slash, card reads without A2A-Version, the
 * SDK's ProtoJSON field names, retries, subscriptions across INPUT_REQUIRED, push capability.
 */

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay({
    toml: `
[peers.local]
profiles = ["*"]
default_profile = "echo"
admin = true
[peers.pusher]
profiles = ["*"]
push_hosts = ["127.0.0.1"]
[profiles.echo]
handler = "echo"
[profiles.other]
handler = "echo"
`,
    env: {
      A2A_OC_TOKEN_PUSHER: "pusher-token-0123456789abcdef",
      A2A_OC_TOKEN_LOCAL: "local-token-0123456789abcdef",
    },
  });
});
afterAll(async () => {
  await r.stop();
});

describe("JSON-RPC wherever clients post it", () => {
  for (const path of [
    "/a2a/echo",
    "/a2a/echo/",
    "/a2a/echo/jsonrpc",
    "/a2a",
    "/a2a/",
    "/a2a/jsonrpc",
    "/jsonrpc",
  ]) {
    test(`POST ${path} runs the turn on profile echo`, async () => {
      const { status, body } = await r.rpc("SendMessage", { message: userMessage(`via ${path}`) }, { path });
      expect(status).toBe(200);
      expect(body.error).toBeUndefined();
      expect(body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
      expect(body.result.task.artifacts[0].parts[0].text).toBe(`via ${path}`);
      expect(r.relay.engine.profileOf(body.result.task.id)).toBe("echo");
    });
  }

  test("the a2a_fleet client's exact request to <url>/jsonrpc gets the fleet answer", async () => {
    const res = await fetch(`${r.url}/a2a/echo/jsonrpc`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${r.token}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "6f1c0a56-6f43-4a4a-9d39-6d0c9a1f8b11",
        method: "SendMessage",
        params: {
          message: { role: "user", parts: [{ text: "hello from the fleet client" }], contextId: "fleet-1" },
        },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      jsonrpc: "2.0",
      id: "6f1c0a56-6f43-4a4a-9d39-6d0c9a1f8b11",
      result: {
        kind: "message",
        message: { role: "agent", parts: [{ text: "hello from the fleet client" }], contextId: "fleet-1" },
      },
    });
  });

  test("the REST binding still answers under the profile URL", async () => {
    const res = await fetch(`${r.url}/a2a/echo/message:send`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        authorization: `Bearer ${r.token}`,
      },
      body: JSON.stringify({ message: userMessage("rest still") }),
    });
    const body = (await res.json()) as { task: { status: { state: string } } };
    expect(res.status).toBe(200);
    expect(body.task.status.state).toBe("TASK_STATE_COMPLETED");
  });
});

describe("one card every client can read", () => {
  test("without A2A-Version: v1.0 supportedInterfaces and the v0.3 url/preferredTransport together", async () => {
    const card = (await (await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`)).json()) as Record<
      string,
      // biome-ignore lint/suspicious/noExplicitAny: card JSON
      any
    >;
    expect(card.supportedInterfaces).toEqual([
      { url: `${r.url}/a2a/echo`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
      { url: `${r.url}/a2a/echo`, protocolBinding: "HTTP+JSON", protocolVersion: "1.0" },
    ]);
    expect(card.url).toBe(`${r.url}/a2a/echo`);
    expect(card.preferredTransport).toBe("JSONRPC");
    expect(card.protocolVersion).toBe("0.3.0");
    expect(card.securitySchemes.bearer).toMatchObject({
      type: "http",
      scheme: "bearer",
      httpAuthSecurityScheme: { scheme: "Bearer" },
    });
    expect(card.capabilities).toMatchObject({ streaming: true, pushNotifications: true });
  });

  test("cards carry Last-Modified beside ETag and Cache-Control", async () => {
    const res = await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`);
    const lm = res.headers.get("last-modified");
    expect(lm).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Date.parse(lm!)).toBeLessThanOrEqual(Date.now());
  });

  test("REST: a body that is not JSON is 415 ContentTypeNotSupported (the spec's HTTP mapping)", async () => {
    const res = await fetch(`${r.url}/a2a/echo/message:send`, {
      method: "POST",
      headers: { "content-type": "text/plain", "a2a-version": "1.0", authorization: `Bearer ${r.token}` },
      body: JSON.stringify({ message: userMessage("ct") }),
    });
    expect(res.status).toBe(415);
    expect(JSON.stringify(await res.json())).toContain("CONTENT_TYPE_NOT_SUPPORTED");
  });

  test("with a version header: that version's card alone", async () => {
    const v1 = (await (
      await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`, { headers: { "a2a-version": "1.0" } })
    ).json()) as Record<string, unknown>;
    expect(v1.supportedInterfaces).toBeDefined();
    expect(v1.url).toBeUndefined();
    const v03 = (await (
      await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`, { headers: { "a2a-version": "0.3" } })
    ).json()) as Record<string, unknown>;
    expect(v03.url).toBe(`${r.url}/a2a/echo`);
    expect(v03.supportedInterfaces).toBeUndefined();
  });

  test("the official SDK client reads the header-less card and talks JSON-RPC v1.0", async () => {
    const { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } = await import(
      "@a2a-js/sdk/client"
    );
    const auth = bearerFetch(r.token);
    const factory = new ClientFactory(
      ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
        transports: [new JsonRpcTransportFactory({ fetchImpl: auth })],
      }),
    );
    const client = await factory.createFromUrl(`${r.url}/a2a/echo/`);
    const { SendMessageRequest, Task } = await import("@a2a-js/sdk");
    const res = await client.sendMessage(
      SendMessageRequest.fromJSON({
        message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text: "sdk hello" }] },
      }),
    );
    // biome-ignore lint/suspicious/noExplicitAny: JSON for assertions
    const task = Task.toJSON(res as InstanceType<any>) as any;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.artifacts[0].parts[0].text).toBe("sdk hello");
  });
});

describe("ProtoJSON original field names", () => {
  test("history_length, message_id, context_id and return_immediately are read like their camelCase names", async () => {
    const sent = await r.rpc("SendMessage", {
      message: {
        message_id: crypto.randomUUID(),
        role: "ROLE_USER",
        parts: [{ text: "snake" }],
        context_id: "snake-ctx",
      },
      configuration: { return_immediately: false, history_length: 1 },
    });
    expect(sent.body.error).toBeUndefined();
    const task = sent.body.result.task;
    expect(task.contextId).toBe("snake-ctx");
    expect(task.history).toHaveLength(1);
    const got = await r.rpc("GetTask", { id: task.id, history_length: 0 });
    expect(got.body.result.history ?? []).toHaveLength(0);
    const cont = await r.rpc("SendMessage", {
      message: {
        message_id: crypto.randomUUID(),
        role: "ROLE_USER",
        parts: [{ text: "again" }],
        task_id: task.id,
      },
    });
    expect(cont.body.error.code).toBe(-32004); // the task is COMPLETED: the task_id was read
  });

  test("metadata and data parts keep their keys as sent", async () => {
    const sent = await r.rpc("SendMessage", {
      message: userMessage("meta", { metadata: { snake_key: 1 } }),
      metadata: { other_key: true },
    });
    expect(sent.body.result.task.history[0].metadata).toEqual({ snake_key: 1 });
  });
});

describe("a retry is a retry only when it is one", () => {
  test("the same messageId on another profile, task or context is a new message", async () => {
    const msg = userMessage("ask: which one?", { contextId: "retry-ctx" });
    const first = (await r.rpc("SendMessage", { message: msg })).body.result.task;
    expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    // a true retry: same everything
    expect((await r.rpc("SendMessage", { message: msg })).body.result.task.id).toBe(first.id);
    // the same messageId to another profile runs there
    const other = (await r.rpc("SendMessage", { message: msg }, { path: "/a2a/other" })).body.result.task;
    expect(other.id).not.toBe(first.id);
    expect(r.relay.engine.profileOf(other.id)).toBe("other");
    // the same messageId naming another task continues that task
    const target = (await r.rpc("SendMessage", { message: userMessage("ask: second?") })).body.result.task;
    const named = (
      await r.rpc("SendMessage", {
        message: { ...msg, contextId: undefined, taskId: target.id, parts: [{ text: "answer" }] },
      })
    ).body.result.task;
    expect(named.id).toBe(target.id);
    expect(named.status.state).toBe("TASK_STATE_COMPLETED");
    expect(named.artifacts[0].parts[0].text).toBe("answer");
    // and the same messageId in another context is a new task
    const ctx = (await r.rpc("SendMessage", { message: { ...msg, contextId: "another-ctx" } })).body.result
      .task;
    expect(ctx.id).not.toBe(first.id);
    expect(ctx.contextId).toBe("another-ctx");
  });
});

describe("a repeated messageId with other content", () => {
  test("is a new message: a retry repeats the message, it does not change it", async () => {
    const msg = userMessage("first text");
    const a = (await r.rpc("SendMessage", { message: msg })).body.result.task;
    const b = (await r.rpc("SendMessage", { message: { ...msg, parts: [{ text: "second text" }] } })).body
      .result.task;
    expect(b.id).not.toBe(a.id);
    expect(b.artifacts[0].parts[0].text).toBe("second text");
    // and a true retry of the second still finds the second
    const again = (await r.rpc("SendMessage", { message: { ...msg, parts: [{ text: "second text" }] } })).body
      .result.task;
    expect(again.id).toBe(b.id);
  });
});

describe("subscriptions end only at terminal states", () => {
  test("SubscribeToTask stays open across INPUT_REQUIRED until the task completes", async () => {
    const t = (await r.rpc("SendMessage", { message: userMessage("ask: name?") })).body.result.task;
    expect(t.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const res = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        accept: "text/event-stream",
        authorization: `Bearer ${r.token}`,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "SubscribeToTask", params: { id: t.id } }),
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      const deadline = Date.now() + 5000;
      while (!text.includes(needle) && Date.now() < deadline) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    };
    await readUntil("TASK_STATE_INPUT_REQUIRED");
    // still open: answer the question, the same stream carries the rest
    await r.rpc("SendMessage", { message: userMessage("Ada", { taskId: t.id }) });
    await readUntil("TASK_STATE_COMPLETED");
    const { done } = await reader.read();
    expect(text).toContain("TASK_STATE_WORKING");
    expect(text).toContain("TASK_STATE_COMPLETED");
    expect(text).toContain('"text":"Ada"');
    expect(done || (await reader.read()).done).toBe(true);
  });

  test("a follow-up turn's stream does not echo the caller's own message as an event", async () => {
    const t = (await r.rpc("SendMessage", { message: userMessage("ask: color?") })).body.result.task;
    const { body } = await r.rpc("SendStreamingMessage", { message: userMessage("blue", { taskId: t.id }) });
    const frames = String(body)
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => JSON.parse(l.slice(5)).result);
    expect(frames.filter((f) => f.message)).toEqual([]);
    expect(frames.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
    // the history still has it
    const got = await r.rpc("GetTask", { id: t.id });
    expect(
      got.body.result.history.map((m: { parts: Array<{ text: string }> }) => m.parts[0]!.text),
    ).toContain("blue");
  });

  test("a streaming send still ends at INPUT_REQUIRED", async () => {
    const { body } = await r.rpc("SendStreamingMessage", { message: userMessage("ask: stop here?") });
    const frames = String(body)
      .split("\n")
      .filter((l) => l.startsWith("data:"));
    expect(frames.at(-1)).toContain("TASK_STATE_INPUT_REQUIRED");
  });
});

describe("push capability tells the truth per caller", () => {
  test("a peer without push_hosts gets -32003 PushNotificationNotSupported, one with them is served", async () => {
    const t = (await r.rpc("SendMessage", { message: userMessage("push?") })).body.result.task;
    const denied = await r.rpc("CreateTaskPushNotificationConfig", {
      taskId: t.id,
      url: "http://127.0.0.1:1/hook",
    });
    expect(denied.body.error.code).toBe(-32003);
    expect(denied.body.error.message).toContain("push_hosts");
    const onSend = await r.rpc("SendMessage", {
      message: userMessage("push on send"),
      configuration: { taskPushNotificationConfig: { url: "http://127.0.0.1:1/hook" } },
    });
    expect(onSend.body.error.code).toBe(-32003);
    const rest = await fetch(`${r.url}/a2a/echo/tasks/${t.id}/pushNotificationConfigs`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        authorization: `Bearer ${r.token}`,
      },
      body: JSON.stringify({ url: "http://127.0.0.1:1/hook" }),
    });
    expect(JSON.stringify(await rest.json())).toContain("PUSH_NOTIFICATION_NOT_SUPPORTED");

    const pusher = { authorization: "Bearer pusher-token-0123456789abcdef" };
    const own = (await r.rpc("SendMessage", { message: userMessage("mine") }, { headers: pusher })).body
      .result.task;
    const ok = await r.rpc(
      "CreateTaskPushNotificationConfig",
      { taskId: own.id, url: "http://127.0.0.1:1/hook" },
      { headers: pusher },
    );
    expect(ok.body.error).toBeUndefined();
    expect(ok.body.result.url).toBe("http://127.0.0.1:1/hook");
  });
});

describe("a push setup under a messageId seen before", () => {
  test("is a new request (the TCK reuses messageIds); the same setup again is a retry", async () => {
    const pusher = { authorization: "Bearer pusher-token-0123456789abcdef" };
    const msg = userMessage("with a hook later");
    const plain = (await r.rpc("SendMessage", { message: msg }, { headers: pusher })).body.result.task;
    const hook = { taskPushNotificationConfig: { url: "http://127.0.0.1:1/hook" } };
    const withHook = (await r.rpc("SendMessage", { message: msg, configuration: hook }, { headers: pusher }))
      .body.result.task;
    expect(withHook.id).not.toBe(plain.id);
    const configs = await r.rpc(
      "ListTaskPushNotificationConfigs",
      { taskId: withHook.id },
      { headers: pusher },
    );
    expect(configs.body.result.configs.map((c: { url: string }) => c.url)).toEqual([
      "http://127.0.0.1:1/hook",
    ]);
    const again = (await r.rpc("SendMessage", { message: msg, configuration: hook }, { headers: pusher }))
      .body.result.task;
    expect(again.id).toBe(withHook.id);
  });
});

describe("agent messages are never user turns", () => {
  test("ROLE_AGENT (v1.0), role agent (v0.3) and a fleet agent message that settles nothing: -32602 naming the role", async () => {
    const v1 = await r.rpc("SendMessage", { message: userMessage("hi", { role: "ROLE_AGENT" }) });
    expect(v1.body.error.code).toBe(-32602);
    expect(v1.body.error.message).toContain("ROLE_AGENT");
    const v03 = await r.rpc(
      "message/send",
      {
        message: {
          kind: "message",
          messageId: crypto.randomUUID(),
          role: "agent",
          parts: [{ kind: "text", text: "hi" }],
        },
      },
      { headers: { "a2a-version": "" } },
    );
    expect(v03.body.error.code).toBe(-32602);
    expect(v03.body.error.message).toContain("ROLE_AGENT");
    const fleet = await fetch(`${r.url}/a2a/echo/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${r.token}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "x",
        method: "SendMessage",
        params: {
          message: { role: "agent", parts: [{ text: "a reply nobody waits for" }], contextId: "nope" },
        },
      }),
    });
    const body = (await fleet.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toContain("message.role is agent");
    expect(r.relay.engine.list("local", { pageSize: 100 }).tasks.some((t) => t.contextId === "nope")).toBe(
      false,
    );
  });
});
