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
    const up = agent.bodies.map((b) => b.body as Json).findLast((b) => b.method === "SendMessage");
    expect(up.params.message.messageId).toStartWith(`${msg.messageId}.`);
    expect(up.params.message.metadata).toEqual({ trace: "t-9" });
    expect(up.params.message.extensions).toEqual(["urn:x"]);
    expect(up.params.message.referenceTaskIds).toEqual(["r-1"]);
    expect(up.params.metadata).toEqual({ req: 1 });
    expect(up.params.configuration).toEqual({ acceptedOutputModes: ["text/plain"], historyLength: 2 });
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
