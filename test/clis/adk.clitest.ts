import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { bearerFetch } from "../helpers/bearer-fetch.ts";
import { type FakeModel, startFakeModel } from "../helpers/fake-model.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { resultJson, sdkClientFor, sdkSend } from "../routing/_sdk.ts";

/**
 * Google's Agent Development Kit (`@google/adk` 2.0.0, installed by test/clis/install.sh) on both
 * sides of the relay: an ADK `LlmAgent` on the suite's fake Gemini model, served over A2A by
 * `toA2a` behind an `a2a` profile; and ADK's `RemoteA2AAgent`, its A2A client, calling relay
 * profiles. ADK streams each answer as a partial artifact and then the whole under the same id
 * (`append: false`); it keys its session on the A2A contextId.
 */

const CACHE = resolve(import.meta.dir, "../../.cache/clis/node_modules");
// biome-ignore lint/suspicious/noExplicitAny: ADK and its SDK are loaded from the CLI cache, untyped here
type Any = any;
let adk: Any;
let sdk03: Any;
let model: FakeModel;
let server: Server;
let r: TestRelay;

beforeAll(async () => {
  adk = await import(`${CACHE}/@google/adk/dist/esm/index.js`);
  sdk03 = await import(`${CACHE}/@a2a-js/sdk/dist/client/index.js`);
  model = await startFakeModel("ok");
  // the Gemini client ADK builds reads these when it is created
  process.env.GOOGLE_GEMINI_BASE_URL = model.url;
  process.env.GOOGLE_API_KEY = "fake-key";
  const port = await freePort();
  const agent = new adk.LlmAgent({
    name: "adk_helper",
    model: "gemini-2.5-flash",
    description: "an ADK agent on the suite's fake model",
    instruction: "answer briefly",
  });
  const app = await adk.toA2a(agent, { host: "127.0.0.1", port, allowUnauthenticated: true });
  server = app.listen(port, "127.0.0.1");
  await new Promise<void>((res) => server.once("listening", () => res()));
  r = await startAgentRelay({ adk: { url: `http://127.0.0.1:${port}/jsonrpc`, protocol: "0.3" } });
}, 120_000);
afterAll(async () => {
  await r?.stop();
  server?.closeAllConnections?.();
  await new Promise((res) => server?.close(res));
  await model?.close();
});

/** ADK's RemoteA2AAgent on relay profile `profile`, run by an InMemoryRunner: one session. */
async function remoteSession(profile: string) {
  const fetchImpl = bearerFetch(r.token);
  const remote = new adk.RemoteA2AAgent({
    name: "relay_agent",
    agentCard: `${r.url}/a2a/${profile}/`,
    clientFactory: new sdk03.ClientFactory(
      sdk03.ClientFactoryOptions.createFrom(sdk03.ClientFactoryOptions.default, {
        transports: [new sdk03.JsonRpcTransportFactory({ fetchImpl })],
      }),
    ),
  });
  const runner = new adk.InMemoryRunner({ agent: remote, appName: "relay-test" });
  const session = await runner.sessionService.createSession({ appName: "relay-test", userId: "u" });
  return async (text: string): Promise<{ texts: string[]; contextIds: string[] }> => {
    const texts: string[] = [];
    const contextIds: string[] = [];
    for await (const ev of runner.runAsync({
      userId: "u",
      sessionId: session.id,
      newMessage: { role: "user", parts: [{ text }] },
    })) {
      for (const p of ev.content?.parts ?? []) if (p.text) texts.push(p.text);
      const resp = ev.customMetadata?.["a2a:response"];
      if (resp?.contextId) contextIds.push(resp.contextId);
    }
    return { texts, contextIds };
  };
}

describe("an ADK agent behind the relay", () => {
  test("the v1.0 SDK client gets its answer once; the next message in the context reaches the same ADK session", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/adk/`, r.token);
    const first = resultJson(await c.sendMessage(sdkSend("FIRST-QUESTION for adk"))).task;
    expect(first.status.state).toBe("TASK_STATE_COMPLETED");
    expect(first.status.message.parts).toEqual([{ text: "created notes.txt" }]);
    expect(first.artifacts).toHaveLength(1);
    expect(first.artifacts[0].parts).toEqual([{ text: "created notes.txt" }]);
    const second = resultJson(
      await c.sendMessage(sdkSend("SECOND-QUESTION for adk", { message: { contextId: first.contextId } })),
    ).task;
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    // ADK sent its model the whole session: the first exchange is in the second request
    const last = model.requests.filter((q) => q.body.includes("SECOND-QUESTION")).at(-1)!;
    expect(last.body).toContain("FIRST-QUESTION for adk");
  }, 120_000);
});

describe("ADK's RemoteA2AAgent as a client of the relay", () => {
  test("the echo profile: two turns of one ADK session share the relay's context", async () => {
    const ask = await remoteSession("echo");
    const a = await ask("hello from adk");
    expect(a.texts.join("")).toContain("hello from adk");
    const b = await ask("again from adk");
    expect(b.texts.join("")).toContain("again from adk");
    expect(new Set([...a.contextIds, ...b.contextIds]).size).toBe(1);
    const { body } = await r.rpc("ListTasks", { contextId: a.contextIds[0] }, { path: "/a2a/echo" });
    expect(body.result.tasks).toHaveLength(2);
  }, 120_000);

  test("through the relay to the ADK agent: Google's software at both ends", async () => {
    const ask = await remoteSession("adk");
    const a = await ask("hello across the relay");
    expect(a.texts.join("")).toContain("created notes.txt");
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}
