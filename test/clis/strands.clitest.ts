import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { bearerFetch } from "../helpers/bearer-fetch.ts";
import { type FakeModel, startFakeModel } from "../helpers/fake-model.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { until } from "../helpers/until.ts";
import { freePort } from "../routing/_relay.ts";
import { resultJson, sdkClientFor, sdkSend } from "../routing/_sdk.ts";

/**
 * The Strands Agents SDK (`@strands-agents/sdk` 1.19.0, AWS's agent framework, installed by
 * test/clis/install.sh into a prefix of its own) on both sides of the relay: a Strands `Agent` on the suite's fake model
 * (its OpenAI chat-completions model), served over A2A by `A2AExpressServer` (one agent per
 * context) behind an `a2a` profile; and Strands' `A2AAgent`, its A2A client, calling relay
 * profiles. Its server streams each answer as appended text chunks ending in an empty last chunk;
 * its client reads the final status message's parts joined with newlines, so the relay's answer
 * must be the text in one part (it was a part per chunk: "created notes.txt\n").
 */

const CACHE = resolve(import.meta.dir, "../../.cache/clis/strands/node_modules");
const STRANDS = `${CACHE}/@strands-agents/sdk/dist/src`;
const ANSWER = "created notes.txt";
// biome-ignore lint/suspicious/noExplicitAny: Strands and its SDK are loaded from the CLI cache, untyped here
type Any = any;
let strands: Any;
let sdk03: Any;
let model: FakeModel;
const stopServer = new AbortController();
let r: TestRelay;

beforeAll(async () => {
  const [core, openai, a2a, express] = await Promise.all([
    import(`${STRANDS}/index.js`),
    import(`${STRANDS}/models/openai/index.js`),
    import(`${STRANDS}/a2a/index.js`),
    import(`${STRANDS}/a2a/express-server.js`),
  ]);
  strands = { ...core, ...openai, ...a2a, ...express };
  sdk03 = await import(`${CACHE}/@a2a-js/sdk/dist/client/index.js`);
  model = await startFakeModel("ok");
  const port = freePort();
  const server = new strands.A2AExpressServer({
    // one agent (one conversation) per A2A context, as Strands recommends
    agentFactory: () =>
      new strands.Agent({
        model: new strands.OpenAIModel({
          api: "chat",
          modelId: "fake-model",
          apiKey: "fake-key",
          clientConfig: { baseURL: `${model.url}/v1` },
        }),
        systemPrompt: "answer briefly",
        printer: false,
      }),
    name: "strands-helper",
    description: "a Strands agent on the suite's fake model",
    host: "127.0.0.1",
    port,
    httpUrl: `http://127.0.0.1:${port}`,
  });
  void server.serve({ signal: stopServer.signal });
  await until(
    async () =>
      (await fetch(`http://127.0.0.1:${port}/.well-known/agent-card.json`).catch(() => undefined))?.ok,
    10_000,
    "the Strands agent's card",
  );
  r = await startAgentRelay({ strands: { url: `http://127.0.0.1:${port}/`, protocol: "0.3" } });
}, 120_000);
afterAll(async () => {
  await r?.stop();
  stopServer.abort();
  await model?.close();
});

/** Strands' A2AAgent on relay profile `profile`, with `token` as its bearer credential. */
function remote(profile: string, token = r.token) {
  const transports = [new sdk03.JsonRpcTransportFactory({ fetchImpl: bearerFetch(token) })];
  return new strands.A2AAgent({
    url: `${r.url}/a2a/${profile}/`,
    clientFactory: new sdk03.ClientFactory(
      sdk03.ClientFactoryOptions.createFrom(sdk03.ClientFactoryOptions.default, { transports }),
    ),
  });
}

describe("a Strands agent behind the relay", () => {
  test("the v1.0 SDK client gets the answer in one part; the next message in the context reaches the same Strands agent", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/strands/`, r.token);
    const first = resultJson(await c.sendMessage(sdkSend("FIRST-QUESTION for strands"))).task;
    expect(first.status.state).toBe("TASK_STATE_COMPLETED");
    expect(first.status.message.parts).toEqual([{ text: ANSWER }]);
    // the artifact as Strands streamed it: the text, then an empty last chunk
    expect(first.artifacts).toHaveLength(1);
    expect(first.artifacts[0].parts.map((p: { text: string }) => p.text).join("")).toBe(ANSWER);
    const second = resultJson(
      await c.sendMessage(
        sdkSend("SECOND-QUESTION for strands", { message: { contextId: first.contextId } }),
      ),
    ).task;
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    // the context's agent sent its model the whole conversation: the first turn is in the second
    const last = model.requests.filter((q) => q.body.includes("SECOND-QUESTION")).at(-1)!;
    expect(last.body).toContain("FIRST-QUESTION for strands");
  }, 120_000);
});

describe("Strands' A2AAgent as a client of the relay", () => {
  test("the echo profile: a stream of the relay's events, and the text back", async () => {
    const agent = remote("echo");
    const kinds: string[] = [];
    const gen = agent.stream("hello from strands");
    let result: Any;
    for (;;) {
      const n = await gen.next();
      if (n.done) {
        result = n.value;
        break;
      }
      kinds.push(n.value.event?.kind ?? n.value.type);
    }
    expect(String(result)).toBe("hello from strands");
    expect(kinds[0]).toBe("task");
    expect(kinds).toContain("artifact-update");
    expect(kinds.filter((k) => k === "status-update").length).toBeGreaterThanOrEqual(1);
    // the card it read names the relay's profile
    expect(agent.name).toContain("echo");
  }, 120_000);

  test("through the relay to the Strands agent: Strands at both ends gets the text as the agent wrote it", async () => {
    const result = await remote("strands").invoke("hello across the relay");
    expect(String(result)).toBe(ANSWER);
  }, 120_000);

  test("a wrong token reaches the caller as the relay's 401", async () => {
    const err = await remote("echo", "not-the-token-0123456789")
      .invoke("hello")
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(String(err)).toMatch(/401|unauthori[sz]ed|UNAUTHENTICATED/i);
  }, 120_000);
});
