import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";

/**
 * Forwarding as a transparent proxy (issue 14, items 3, 4, 11): the upstream gets the caller's
 * message as it was sent, a Message answer stays a Message, and the usage an upstream relay
 * reports counts against this relay's budgets.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
type Json = any;
let agent: SdkAgent;
let r: TestRelay;
let far: TestRelay;
const PAIR = "pair-secret-for-usage-test";
const LOCAL = "local-token-forwarding-0123456789";

beforeAll(async () => {
  agent = await startSdkAgent();
  far = await startTestRelay({
    env: { A2A_OC_TOKEN_NEAR: PAIR },
    toml: `
[server]
id = "far"
[peers.near]
profiles = ["echo"]
[profiles.echo]
handler = "echo"
`,
  });
  r = await startTestRelay({
    env: { A2A_OC_TOKEN_FAR: PAIR, A2A_OC_TOKEN_LOCAL: LOCAL },
    toml: `
[server]
id = "near"
[peers.local]
profiles = ["*"]
admin = true
[peers.local.budget]
max_tokens = 10
[profiles.sut]
handler = "a2a"
url = "${agent.rpcUrl}"
[profiles.sut03]
handler = "a2a"
url = "${agent.rpcUrl}"
protocol = "0.3"
[profiles.far]
remote = "${far.url}"
remote_profile = "echo"
auth = "token"
`,
  });
});
afterAll(async () => {
  await r?.stop();
  await far?.stop();
  await agent?.stop();
});

const lastSend = (): Json => {
  const sends = agent.bodies.filter((b) => /send|Send|stream|Stream/.test((b.body as Json)?.method));
  return sends.at(-1)!.body;
};

describe("the caller's message travels as it was sent", () => {
  for (const [profile, method] of [
    // streamed upstream even for a blocking caller: the first event names the upstream task
    ["sut", "SendStreamingMessage"],
    ["sut03", "message/stream"],
  ] as const) {
    test(`metadata, extensions, referenceTaskIds, request metadata and configuration reach the upstream (${profile})`, async () => {
      const before = (
        await r.rpc("SendMessage", { message: userMessage("earlier") }, { path: `/a2a/${profile}` })
      ).body.result.task;
      const msg = userMessage("carry it all", {
        metadata: { trace: { id: "t-1" }, snake_key: true },
        extensions: ["https://example.com/ext/v1"],
        referenceTaskIds: [before.id],
      });
      const sent = await r.rpc(
        "SendMessage",
        {
          message: msg,
          metadata: { requestTag: "req-1" },
          configuration: { acceptedOutputModes: ["text/plain"], historyLength: 3, returnImmediately: false },
        },
        { path: `/a2a/${profile}` },
      );
      expect(sent.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
      const up = lastSend();
      expect(up.method).toBe(method);
      const m = up.params.message;
      expect(m.messageId).toStartWith(msg.messageId);
      expect(m.messageId).not.toBe(msg.messageId);
      expect(m.metadata).toEqual({ trace: { id: "t-1" }, snake_key: true });
      expect(m.extensions).toEqual(["https://example.com/ext/v1"]);
      // a task of the same upstream is named by its id there (the relay's id names nothing upstream)
      expect(m.referenceTaskIds).toEqual([before.metadata.upstream.taskId]);
      expect(before.metadata.upstream.taskId).not.toBe(before.id);
      expect(up.params.metadata).toEqual({ requestTag: "req-1" });
      // the relay keeps its own record: the upstream is asked for no history back
      expect(up.params.configuration).toEqual({
        acceptedOutputModes: ["text/plain"],
        historyLength: 0,
        ...(profile === "sut03" ? { blocking: true } : {}),
      });
      // the relay's own ids stay in the relay's answer; the upstream's in metadata.upstream
      expect(sent.body.result.task.id).not.toBe(sent.body.result.task.metadata.upstream.taskId);
    });
  }

  test("the upstream messageId is fixed per turn: the same caller message never reaches it twice", async () => {
    const msg = userMessage("only once");
    await r.rpc("SendMessage", { message: msg }, { path: "/a2a/sut" });
    await r.rpc("SendMessage", { message: msg }, { path: "/a2a/sut" });
    const ids = agent.bodies
      .map((b) => (b.body as Json).params?.message?.messageId)
      .filter((id) => id?.startsWith(msg.messageId));
    expect(ids).toHaveLength(1);
  });
});

describe("an upstream Message stays a Message", () => {
  test("v1.0 caller: {message}; v0.3 caller: kind message; the relay records the turn", async () => {
    const v1 = await r.rpc(
      "SendMessage",
      { message: userMessage("direct: plain answer") },
      { path: "/a2a/sut" },
    );
    expect(v1.body.result.task).toBeUndefined();
    expect(v1.body.result.message.role).toBe("ROLE_AGENT");
    expect(v1.body.result.message.parts[0].text).toBe("plain answer");
    const v03 = await r.rpc(
      "message/send",
      {
        message: {
          kind: "message",
          messageId: crypto.randomUUID(),
          role: "user",
          parts: [{ kind: "text", text: "direct: v03 answer" }],
        },
      },
      { path: "/a2a/sut", headers: { "a2a-version": "0.3" } },
    );
    expect(v03.body.result.kind).toBe("message");
    expect(v03.body.result.role).toBe("agent");
    expect(v03.body.result.parts[0].text).toBe("v03 answer");
    const recorded = r.relay.engine.list("local", { pageSize: 5, historyLength: 0 }).tasks;
    expect(recorded.some((t) => t.status.message?.parts[0]?.text === "v03 answer")).toBe(true);
  });
});

describe("a streamed send whose upstream answers with a Message", () => {
  test("streams that one Message, as talking to the upstream directly would", async () => {
    const { body } = await r.rpc(
      "SendStreamingMessage",
      { message: userMessage("direct: streamed plain") },
      { path: "/a2a/sut" },
    );
    const frames = String(body)
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => JSON.parse(l.slice(5)).result);
    expect(frames).toHaveLength(1);
    expect(frames[0].message.parts[0].text).toBe("streamed plain");
    expect(frames[0].task).toBeUndefined();
  });

  test("an upstream that answers with a task streams the task as before", async () => {
    const { body } = await r.rpc(
      "SendStreamingMessage",
      { message: userMessage("a task please") },
      { path: "/a2a/sut" },
    );
    const frames = String(body)
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => JSON.parse(l.slice(5)).result);
    expect(frames[0].task).toBeDefined();
    expect(frames.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
    expect(frames.some((f) => f.artifactUpdate)).toBe(true);
  });
});

describe("routed usage counts", () => {
  test("a remote relay's reported usage is charged to the caller relay's max_tokens", async () => {
    // far's echo reports 3 input + 3 output tokens for a three-word text
    const one = await r.rpc("SendMessage", { message: userMessage("one two three") }, { path: "/a2a/far" });
    expect(one.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(one.body.result.task.metadata.usage).toEqual({ inputTokens: 3, outputTokens: 3, costUsd: 0 });
    const two = await r.rpc("SendMessage", { message: userMessage("four five six") }, { path: "/a2a/far" });
    expect(two.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    const three = await r.rpc("SendMessage", { message: userMessage("seven") }, { path: "/a2a/far" });
    expect(three.status).toBe(429);
    expect(three.body.error.code).toBe(-32042);
    expect(three.body.error.message).toContain("tokens");
  });
});
