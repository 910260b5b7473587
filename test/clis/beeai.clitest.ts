import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { type FakeModel, startFakeModel } from "../helpers/fake-model.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { type Sdk03Agent, startSdk03Agent } from "../helpers/sdk03-agent.ts";
import { until } from "../helpers/until.ts";
import { freePort } from "../routing/_relay.ts";
import { resultJson, sdkClientFor, sdkSend } from "../routing/_sdk.ts";

/**
 * The BeeAI Framework (`beeai-framework` 0.1.30, the Linux Foundation's agent framework from IBM,
 * installed by test/clis/install.sh into a prefix of its own) on both sides of the relay: a BeeAI
 * `ToolCallingAgent` on the suite's fake model (OpenAI chat API; BeeAI answers through its
 * `final_answer` tool), served by BeeAI's `A2AServer` behind an `a2a` profile; and BeeAI's
 * `A2AAgent`, its A2A client, calling relay profiles. That client has no way to send a credential,
 * so this relay lets requests without one in (`--insecure-no-auth`, loopback only).
 *
 * BeeAI's client takes its result from the last `task` event of a stream when there is one, not
 * from the status and artifact updates after it. Its own server sends the task again at the end;
 * the official SDK's server (and the relay) send it only first, so against either the client's
 * `result` is the caller's own message. The answer is in the run's `event` (the final status
 * update), as it is from the official SDK's server: documented in docs/conformance.md.
 */

const CACHE = resolve(import.meta.dir, "../../.cache/clis/beeai/node_modules/beeai-framework/dist");
// biome-ignore lint/suspicious/noExplicitAny: BeeAI is loaded from the CLI cache, untyped here
type Any = any;
let bee: Any;
let model: FakeModel;
let sdk: Sdk03Agent;
let r: TestRelay;

beforeAll(async () => {
  const mods = await Promise.all(
    [
      "agents/toolCalling/agent.js",
      "memory/unconstrainedMemory.js",
      "adapters/openai/backend/chat.js",
      "adapters/a2a/serve/server.js",
      "adapters/a2a/agents/agent.js",
    ].map((m) => import(`${CACHE}/${m}`)),
  );
  bee = Object.assign({}, ...mods);
  model = await startFakeModel("ok");
  sdk = await startSdk03Agent();
  const port = freePort();
  const agent = new bee.ToolCallingAgent({
    llm: new bee.OpenAIChatModel("fake-model", {}, { baseURL: `${model.url}/v1`, apiKey: "fake-key" }),
    memory: new bee.UnconstrainedMemory(),
    tools: [],
  });
  const server = new bee.A2AServer({ host: "127.0.0.1", port, protocol: "jsonrpc" }).register(agent, {
    name: "beeai-helper",
    description: "a BeeAI agent on the suite's fake model",
  });
  void server.serve();
  await until(
    async () =>
      (await fetch(`http://127.0.0.1:${port}/.well-known/agent-card.json`).catch(() => undefined))?.ok,
    10_000,
    "the BeeAI agent's card",
  );
  r = await startAgentRelay(
    {
      beeai: { url: `http://127.0.0.1:${port}/`, protocol: "0.3" },
      sdk: { url: sdk.rpcUrl, protocol: "0.3" },
    },
    { insecureNoAuth: true },
  );
}, 120_000);
afterAll(async () => {
  await r?.stop();
  await sdk?.stop();
  await model?.close();
});

/** BeeAI's A2AAgent on `url`: each run's result text and the final event's message text. */
function beeClient(url: string) {
  const agent = new bee.A2AAgent({ url, memory: new bee.UnconstrainedMemory() });
  return {
    agent,
    async run(text: string): Promise<{ result: string; answer: string; state: string }> {
      const out = await agent.run({ input: text });
      const parts: Array<{ text?: string }> = out.event?.status?.message?.parts ?? [];
      return {
        result: out.result.text,
        answer: parts.map((p) => p.text ?? "").join(""),
        state: out.event?.status?.state,
      };
    },
  };
}

describe("a BeeAI agent behind the relay", () => {
  test("the v1.0 SDK client gets the agent's answer", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/beeai/`, r.token);
    const task = resultJson(await c.sendMessage(sdkSend("a question for beeai"))).task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.status.message.parts).toEqual([{ text: "created notes.txt" }]);
    expect(model.requests.some((q) => q.prompt.includes("a question for beeai"))).toBe(true);
  }, 120_000);
});

describe("BeeAI's A2AAgent as a client of the relay", () => {
  test("it reads the relay as it reads the official SDK's server: the answer in the final event", async () => {
    const direct = await beeClient(`${sdk.url}/`).run("hello from beeai");
    const relayed = await beeClient(`${r.url}/a2a/sdk/`).run("hello from beeai");
    expect(relayed.state).toBe("completed");
    expect(relayed.answer).toBe("echo: hello from beeai");
    expect(relayed.answer).toBe(direct.answer);
    // BeeAI's own reading (its result) is the same either way
    expect(relayed.result).toBe(direct.result);
  }, 120_000);

  test("BeeAI at both ends: the answer of the BeeAI agent comes through", async () => {
    const out = await beeClient(`${r.url}/a2a/beeai/`).run("hello across the relay");
    expect(out.state).toBe("completed");
    expect(out.answer).toBe("created notes.txt");
  }, 120_000);

  test("its runs keep one relay context, and the echo profile answers each", async () => {
    const c = beeClient(`${r.url}/a2a/echo/`);
    const a = await c.run("first from beeai");
    const b = await c.run("second from beeai");
    expect([a.answer, b.answer]).toEqual(["first from beeai", "second from beeai"]);
    // its tasks are peer `anonymous`'s: listed by a call without a credential too
    const res = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "ListTasks",
        params: { contextId: c.agent.contextId },
      }),
    });
    expect(((await res.json()) as { result: { tasks: unknown[] } }).result.tasks).toHaveLength(2);
  }, 120_000);
});
