import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RelayProcess, startBinary, stopAll } from "../helpers/binary.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { rpc, userMessage } from "./_client.ts";

/**
 * Issue 14 against the compiled binary, in front of an @a2a-js/sdk agent: the caller's message
 * forwarded as sent, a Message answer kept a Message, subscriptions across INPUT_REQUIRED, the
 * retry rule, ProtoJSON field names, agent-role messages refused.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
type Json = any;
let agent: SdkAgent;
let r: RelayProcess;

beforeAll(async () => {
  agent = await startSdkAgent();
  r = await startBinary({
    toml: `
[profiles.echo]
handler = "echo"
[profiles.sut]
handler = "a2a"
url = "${agent.rpcUrl}"
binding = "jsonrpc"
`,
  });
});
afterAll(async () => {
  await stopAll();
  await agent?.stop();
});

describe("the compiled binary as a transparent proxy", () => {
  test("the upstream gets the caller's message fields and request metadata/configuration", async () => {
    const msg = userMessage("all of it", {
      metadata: { trace: "t-9" },
      extensions: ["urn:x"],
      referenceTaskIds: ["r-1"],
    });
    const sent = await rpc(
      r,
      "SendMessage",
      {
        message: msg,
        metadata: { req: 1 },
        configuration: { acceptedOutputModes: ["text/plain"], historyLength: 2 },
      },
      { path: "/a2a/sut" },
    );
    expect(sent.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    // streamed upstream even for a blocking caller: the first event names the upstream task
    const up = agent.bodies.map((b) => b.body as Json).findLast((b) => b.method === "SendStreamingMessage");
    expect(up.params.message.messageId).toStartWith(`${msg.messageId}.`);
    expect(up.params.message.metadata).toEqual({ trace: "t-9" });
    expect(up.params.message.extensions).toEqual(["urn:x"]);
    expect(up.params.message.referenceTaskIds).toEqual(["r-1"]);
    expect(up.params.metadata).toEqual({ req: 1 });
    // the relay keeps its own record of the conversation: no history comes back
    expect(up.params.configuration).toEqual({ acceptedOutputModes: ["text/plain"], historyLength: 0 });
  });

  test("an upstream Message answer reaches the caller as a Message", async () => {
    const { body } = await rpc(
      r,
      "SendMessage",
      { message: userMessage("direct: hi there") },
      { path: "/a2a/sut" },
    );
    expect(body.result.task).toBeUndefined();
    expect(body.result.message.parts[0].text).toBe("hi there");
  });

  test("SubscribeToTask goes on across INPUT_REQUIRED to the terminal state", async () => {
    const t = (await rpc(r, "SendMessage", { message: userMessage("ask: which?") })).body.result.task;
    const res = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        authorization: `Bearer ${r.token}`,
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "SubscribeToTask", params: { id: t.id } }),
    });
    const reader = res.body!.getReader();
    let text = "";
    const dec = new TextDecoder();
    const first = await reader.read();
    text += dec.decode(first.value);
    expect(text).toContain("TASK_STATE_INPUT_REQUIRED");
    await rpc(r, "SendMessage", { message: userMessage("this one", { taskId: t.id }) });
    const deadline = Date.now() + 5000;
    while (!text.includes("TASK_STATE_COMPLETED") && Date.now() < deadline) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    expect(text).toContain("TASK_STATE_COMPLETED");
    expect((await reader.read()).done).toBe(true);
  });

  test("the retry rule, ProtoJSON names and agent-role messages", async () => {
    const msg = userMessage("once per profile");
    const a = (await rpc(r, "SendMessage", { message: msg })).body.result.task;
    expect((await rpc(r, "SendMessage", { message: msg })).body.result.task.id).toBe(a.id);
    const b = (await rpc(r, "SendMessage", { message: msg }, { path: "/a2a/sut" })).body.result.task;
    expect(b.id).not.toBe(a.id);
    const snake = await rpc(r, "GetTask", { id: a.id, history_length: 1 });
    expect(snake.body.result.history).toHaveLength(1);
    const agentRole = await rpc(r, "SendMessage", {
      message: userMessage("i am an agent", { role: "ROLE_AGENT" }),
    });
    expect(agentRole.body.error.code).toBe(-32602);
    expect(agentRole.body.error.message).toContain("message.role");
  });
});

describe("the compiled binary: push capability, routed usage, clean disconnects", () => {
  test("a peer without push_hosts gets -32003 PushNotificationNotSupported", async () => {
    const t = (await rpc(r, "SendMessage", { message: userMessage("push?") })).body.result.task;
    const res = await rpc(r, "CreateTaskPushNotificationConfig", {
      taskId: t.id,
      url: "http://127.0.0.1:1/hook",
    });
    expect(res.body.error.code).toBe(-32003);
  });

  test("a caller that disconnects mid-call is counted CLIENT_CLOSED, not INTERNAL", async () => {
    const abort = new AbortController();
    const call = rpc(
      r,
      "SendMessage",
      { message: userMessage("sleep:600 bye") },
      { signal: abort.signal },
    ).catch(() => undefined);
    await Bun.sleep(150);
    abort.abort();
    await call;
    await Bun.sleep(200);
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    expect(metrics).toMatch(/a2a_relay_requests_total\{method="SendMessage",outcome="CLIENT_CLOSED"\} 1/);
    expect(metrics).not.toContain('outcome="INTERNAL"');
  });

  // two relay processes start in this test (on Deno about a second each)
  test("usage a far relay reports is charged to the near relay's max_tokens", {
    timeout: 20_000,
  }, async () => {
    const pair = "pair-secret-binary-usage-0123456789";
    const caller = "caller-token-binary-usage-0123456789";
    const far = await startBinary({
      env: { A2A_OC_TOKEN_NEAR: pair },
      toml: `[server]\nid = "far"\n[peers.near]\nprofiles = ["echo"]\n[profiles.echo]\nhandler = "echo"\n`,
    });
    const near = await startBinary({
      env: { A2A_OC_TOKEN_FAR: pair, A2A_OC_TOKEN_CALLER: caller },
      toml: `[server]\nid = "near"\n[peers.caller]\nprofiles = ["far"]\n[peers.caller.budget]\nmax_tokens = 10\n[profiles.far]\nremote = "${far.url}"\nremote_profile = "echo"\nauth = "token"\nbinding = "jsonrpc"\n`,
    });
    const as = { path: "/a2a/far", headers: { authorization: `Bearer ${caller}` } };
    const one = await rpc(near, "SendMessage", { message: userMessage("one two three") }, as);
    expect(one.body.result.task.metadata.usage).toMatchObject({ inputTokens: 3, outputTokens: 3 });
    expect((await rpc(near, "SendMessage", { message: userMessage("four five six") }, as)).status).toBe(200);
    const third = await rpc(near, "SendMessage", { message: userMessage("seven") }, as);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe(-32042);
  });
});
