import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { userMessageV03 } from "../helpers/messages.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";

/**
 * Mastra's A2A client (`@mastra/client-js` 1.47.0, installed by test/clis/install.sh): its own
 * JSON-RPC calls and SSE parser, not the SDK's. With `apiPrefix: ""` its paths are the relay's
 * (`POST /a2a/{agent}`); it reads cards at `/.well-known/{agent}/agent-card.json`. Its parser
 * takes a block of SSE comments alone for an event and fails on it ("Failed to parse A2A stream
 * event"): the relay's streams opened with such a block, and every keepalive was one.
 */

const CACHE = resolve(import.meta.dir, "../../.cache/clis/node_modules");
// biome-ignore lint/suspicious/noExplicitAny: Mastra's client is loaded from the CLI cache, untyped here
type Any = any;
let mastra: Any;
let agent: SdkAgent;
let r: TestRelay;

beforeAll(async () => {
  const { MastraClient } = await import(`${CACHE}/@mastra/client-js/dist/index.js`);
  agent = await startSdkAgent();
  r = await startAgentRelay({ sdk: { url: agent.rpcUrl } }, { server: "keepalive_s = 0.5" });
  mastra = new MastraClient({
    baseUrl: r.url,
    apiPrefix: "",
    retries: 0,
    headers: { Authorization: `Bearer ${r.token}` },
  });
});
afterAll(async () => {
  await r?.stop();
  await agent?.stop();
});

const send = (text: string, extra: Record<string, unknown> = {}) => ({
  message: userMessageV03(text, extra),
});

describe("Mastra's A2A client against the relay", () => {
  test("reads a profile's card where it looks for one", async () => {
    const card = await mastra.getA2A("echo").getAgentCard();
    expect(card.url).toBe(`${r.url}/a2a/echo`);
  });

  test("a stream with keepalives between its events arrives whole", async () => {
    const kinds: string[] = [];
    let last: Any;
    for await (const e of mastra
      .getA2A("echo")
      .sendMessageStream(send("sleep:1300 slow enough for keepalives"))) {
      kinds.push(e.kind);
      last = e;
    }
    expect(kinds[0]).toBe("task");
    expect(last.kind).toBe("status-update");
    expect(last.status.state).toBe("completed");
    expect(last.final).toBe(true);
  });

  test("through an a2a profile: send, input-required and its answer, get, cancel", async () => {
    const a = mastra.getA2A("sdk");
    const q = (await a.sendMessage(send("ask: name?"))).result;
    expect(q.status.state).toBe("input-required");
    const done = (await a.sendMessage(send("bob", { taskId: q.id, contextId: q.contextId }))).result;
    expect(done.status.message.parts[0].text).toBe("got: bob");
    expect((await a.getTask({ id: q.id })).result.status.state).toBe("completed");
    const slow = (await a.sendMessage({ ...send("slow"), configuration: { blocking: false } })).result;
    expect((await a.cancelTask({ id: slow.id })).result.status.state).toBe("canceled");
  });
});
