import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import type { TestRelay } from "../helpers/relay.ts";

/**
 * `a2a-ai-provider` 0.5.0-alpha.1 (a Vercel AI SDK provider whose "model" is an A2A agent, on
 * `ai` 6.0.333; installed by test/clis/install.sh) calling relay profiles. It takes the agent's
 * card URL and builds the 0.3 SDK client itself, with no way to pass a credential: the relay lets
 * it in as peer "anonymous" (`--insecure-no-auth`, loopback only). `generateText` joins a
 * task's status message and its artifacts, so a relay answer (both) comes twice; `streamText`
 * reads the artifact updates and gets it once.
 */

const CACHE = resolve(import.meta.dir, "../../.cache/clis/node_modules");
// biome-ignore lint/suspicious/noExplicitAny: the provider and the AI SDK are loaded from the CLI cache, untyped here
type Any = any;
let ai: Any;
let model: (cardUrl: string) => Any;
let r: TestRelay;
let log: typeof console.log;

beforeAll(async () => {
  ({ a2a: model } = await import(`${CACHE}/a2a-ai-provider/dist/index.js`));
  ai = await import(`${CACHE}/ai/dist/index.mjs`);
  r = await startAgentRelay({}, { insecureNoAuth: true });
  // the provider logs every request and event to the console
  log = console.log;
  console.log = () => {};
});
afterAll(async () => {
  console.log = log;
  await r?.stop();
});

const echo = () => model(`${r.url}/a2a/echo/.well-known/agent-card.json`);

/** The anonymous peer's tasks in a context, as the relay lists them. */
async function tasksIn(contextId: string): Promise<Any[]> {
  const res = await fetch(`${r.url}/a2a/echo`, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ListTasks", params: { contextId } }),
  });
  return ((await res.json()) as Any).result.tasks;
}

describe("a2a-ai-provider against the relay", () => {
  test("generateText: the answer, once from the status message and once from the artifact", async () => {
    const g = await ai.generateText({ model: echo(), prompt: "hello from the ai sdk" });
    expect(g.finishReason).toBe("stop");
    expect(g.content.map((c: Any) => c.text)).toEqual(["hello from the ai sdk", "hello from the ai sdk"]);
  }, 60_000);

  test("streamText: the answer once; two calls with one contextId are one relay conversation", async () => {
    const options = { providerOptions: { a2a: { contextId: "ai-sdk-chat-1" } } };
    const first = ai.streamText({ model: echo(), prompt: "sleep:300 streamed hello", ...options });
    let text = "";
    for await (const d of first.textStream) text += d;
    expect(text).toBe("streamed hello");
    expect(await first.finishReason).toBe("stop");
    const second = ai.streamText({ model: echo(), prompt: "and again", ...options });
    let again = "";
    for await (const d of second.textStream) again += d;
    expect(again).toBe("and again");
    const tasks = await tasksIn("ai-sdk-chat-1");
    expect(tasks.map((t: Any) => t.status.state)).toEqual(["TASK_STATE_COMPLETED", "TASK_STATE_COMPLETED"]);
  }, 60_000);

  test("a failed turn: streamText finishes with error; generateText gives its text as an answer", async () => {
    const streamed = ai.streamText({ model: echo(), prompt: "fail: the tests are red" });
    let text = "";
    for await (const d of streamed.textStream) text += d;
    expect(text).toBe("");
    expect(await streamed.finishReason).toBe("error");
    // the provider's doGenerate reports every task as finished with "stop", whatever its state
    const g = await ai.generateText({ model: echo(), prompt: "fail: the tests are red" });
    expect(g.text).toBe("the tests are red");
    expect(g.finishReason).toBe("stop");
  }, 60_000);
});
