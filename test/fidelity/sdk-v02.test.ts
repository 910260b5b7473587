import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { A2AClient } from "@a2a-js/sdk-v02/client";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { userMessageV03 } from "../helpers/messages.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { type Sdk03Agent, startSdk03Agent } from "../helpers/sdk03-agent.ts";
import { resultJson, sdkClientFor, sdkSend } from "../routing/_sdk.ts";

/**
 * A client of A2A before v0.3: the official SDK's 0.2.5 release (installed as `@a2a-js/sdk-v02`;
 * VoltAgent's A2A server still depends on 0.2). It reads a card at `<base>/.well-known/agent.json`,
 * the name before `agent-card.json`; the relay served that name only at its root, so this client
 * could not reach any profile. It has no fetch of its own: the global one carries the token here.
 * And an agent on the 0.2 SDK behind a `protocol = "0.3"` profile (the wire is the same): its card
 * is only at agent.json, where the relay now looks for the skills the profile card lists.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC results of the old SDK
type Json = any;
let agent: SdkAgent;
let agent02: Sdk03Agent;
let r: TestRelay;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  agent = await startSdkAgent();
  agent02 = await startSdk03Agent({ sdk: "0.2" });
  r = await startAgentRelay({ sdk: { url: agent.rpcUrl }, up02: { url: agent02.rpcUrl, protocol: "0.3" } });
  globalThis.fetch = Object.assign(
    (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      if (String(input).startsWith(r.url)) headers.set("authorization", `Bearer ${r.token}`);
      return realFetch(input, { ...init, headers });
    },
    { preconnect: realFetch.preconnect },
  );
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await r.stop();
  await agent.stop();
  await agent02.stop();
});

const send = (text: string, extra: Record<string, unknown> = {}): Json => ({
  message: userMessageV03(text, extra),
});

describe("the SDK's 0.2 client", () => {
  test("reads a profile's card at .well-known/agent.json, then sends, gets and streams", async () => {
    const c = new A2AClient(`${r.url}/a2a/echo`);
    const card = await c.getAgentCard();
    expect(card.url).toBe(`${r.url}/a2a/echo`);
    const sent: Json = await c.sendMessage(send("hello from 0.2"));
    expect(sent.result.kind).toBe("task");
    expect(sent.result.status.state).toBe("completed");
    expect(sent.result.status.message.parts[0].text).toBe("hello from 0.2");
    const got: Json = await c.getTask({ id: sent.result.id });
    expect(got.result.id).toBe(sent.result.id);
    const kinds: string[] = [];
    for await (const e of c.sendMessageStream(send("streamed"))) kinds.push((e as Json).kind);
    expect(kinds[0]).toBe("task");
    expect(kinds.at(-1)).toBe("status-update");
  });

  test("through an a2a profile: input-required, then its answer on the same task", async () => {
    const c = new A2AClient(`${r.url}/a2a/sdk`);
    const q: Json = await c.sendMessage(send("ask: name?"));
    expect(q.result.status.state).toBe("input-required");
    const a: Json = await c.sendMessage(send("bob", { taskId: q.result.id, contextId: q.result.contextId }));
    expect(a.result.id).toBe(q.result.id);
    expect(a.result.status.message.parts[0].text).toBe("got: bob");
  });

  test("the relay's own card answers at /a2a/.well-known/agent.json too", async () => {
    const res = await realFetch(`${r.url}/a2a/.well-known/agent.json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).url).toBe(`${r.url}/a2a`);
  });
});

describe('an agent on the SDK\'s 0.2 server behind a protocol = "0.3" profile', () => {
  test("the v1.0 client through the relay: an answer, input-required and its answer on the same task", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/up02/`, r.token);
    const t = resultJson(await c.sendMessage(sdkSend("hello 0.2 agent"))).task;
    expect(t.status.message.parts[0].text).toBe("echo: hello 0.2 agent");
    const q = resultJson(await c.sendMessage(sdkSend("ask: colour?"))).task;
    expect(q.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const a = resultJson(
      await c.sendMessage(sdkSend("red", { message: { taskId: q.id, contextId: q.contextId } })),
    ).task;
    expect(a.status.message.parts[0].text).toBe("got: red");
    const asked = agent02.received.filter((m) => m.text === "ask: colour?" || m.text === "red");
    expect(asked[1]!.taskId).toBe(asked[0]!.taskId);
  });

  test("the profile card lists the agent's skills, read from its agent.json", async () => {
    const card: Json = await (await realFetch(`${r.url}/a2a/up02/.well-known/agent-card.json`)).json();
    expect(card.skills.map((s: Json) => s.name)).toEqual(["Echo"]);
  });
});
