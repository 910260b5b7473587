import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { currentRuntime } from "../../src/runtime/index.ts";
import type { Listener } from "../../src/runtime/types.ts";
import { type RelayProcess, startBinary, stopAll } from "../helpers/binary.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { sdkClient, sdkSend, taskJson } from "./_client.ts";

/**
 * Every route kind from the compiled binary with the official SDK client: relay A forwards to an
 * SDK agent (`a2a`, over JSON-RPC and, for a REST-only agent, HTTP+JSON), to relay B's `echo`
 * (`remote`, auth "token"), and to a tiny chat-completions server (`llm`).
 */

const PAIR = "pair-secret-binary-a-b";
const KEY = "fake-llm-key";
let a: RelayProcess;
let b: RelayProcess;
let agent: SdkAgent;
let restAgent: SdkAgent;
let model: Listener;

beforeAll(async () => {
  agent = await startSdkAgent();
  restAgent = await startSdkAgent({ binding: "rest" });
  model = fakeChat();
  b = await startBinary({
    env: { A2A_OC_TOKEN_HOST_A: PAIR },
    toml: `
[server]
id = "host-b"
[peers.host-a]
profiles = ["echo"]
[profiles.echo]
handler = "echo"
`,
  });
  a = await startBinary({
    env: { A2A_OC_TOKEN_HOST_B: PAIR, FAKE_LLM_KEY: KEY },
    toml: `
[server]
id = "host-a"
[profiles.agent]
handler = "a2a"
url = "${agent.rpcUrl}"
[profiles.agent-rest]
handler = "a2a"
url = "${restAgent.restUrl}"
[profiles.far]
remote = "${b.url}"
remote_profile = "echo"
auth = "token"
[profiles.chat]
handler = "llm"
base_url = "http://127.0.0.1:${model.port}/v1"
api_key_env = "FAKE_LLM_KEY"
model = "tiny-1"
`,
  });
}, 180_000);
afterAll(async () => {
  await stopAll();
  await agent?.stop();
  await restAgent?.stop();
  await model?.stop(true);
});

async function completed(profile: string, text: string) {
  const client = await sdkClient(a, `${a.url}/a2a/${profile}/`);
  const task = taskJson(await client.sendMessage(sdkSend(text)));
  expect(task.status.state).toBe("TASK_STATE_COMPLETED");
  return task;
}

describe("routing from the compiled binary (SDK client on relay A)", () => {
  test("a2a → an SDK agent over JSON-RPC", async () => {
    const t = await completed("agent", "hi agent");
    expect(t.status.message.parts[0].text).toBe("echo: hi agent");
    expect(t.metadata.upstream).toMatchObject({ url: agent.rpcUrl, binding: "jsonrpc" });
  });

  test("a2a → a REST-only SDK agent (binding auto reads its card)", async () => {
    const t = await completed("agent-rest", "hi rest");
    expect(t.status.message.parts[0].text).toBe("echo: hi rest");
    expect(t.metadata.upstream).toMatchObject({ url: restAgent.restUrl, binding: "rest" });
  });

  test("remote → relay B's echo, authenticated as host-a", async () => {
    const t = await completed("far", "hi far");
    expect(t.status.message.parts.map((p: { text: string }) => p.text).join("")).toBe("hi far");
    expect(t.metadata.upstream.url).toBe(`${b.url}/a2a/echo`);
  });

  test("llm → the chat-completions server", async () => {
    const t = await completed("chat", "hi model");
    expect(t.status.message.parts[0].text).toBe("you said: hi model");
  });

  test("B stopped: A's remote turn fails 'upstream unavailable' within a few seconds", async () => {
    expect(await b.stop()).toBe(0);
    const client = await sdkClient(a, `${a.url}/a2a/far/`);
    const t0 = Date.now();
    const t = taskJson(await client.sendMessage(sdkSend("anyone there?")));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toStartWith("upstream unavailable");
    expect(JSON.stringify(t)).not.toContain(PAIR);
  });
});

/** A chat-completions endpoint streaming `you said: <last user text>` (401 without the key). */
function fakeChat(): Listener {
  const enc = new TextEncoder();
  return currentRuntime().serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.headers.get("authorization") !== `Bearer ${KEY}`) {
        return Response.json({ error: { message: "Incorrect API key provided" } }, { status: 401 });
      }
      const body = (await req.json()) as { messages: Array<{ content: string }> };
      const chunk = (content: string) =>
        `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
      const usage = { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
      const text = `${chunk("you said: ")}${chunk(body.messages.at(-1)?.content ?? "")}data: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`;
      return new Response(enc.encode(text), { headers: { "content-type": "text/event-stream" } });
    },
  });
}
