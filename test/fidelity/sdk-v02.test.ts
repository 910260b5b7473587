import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { A2AClient } from "@a2a-js/sdk-v02/client";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";

/**
 * A client of A2A before v0.3: the official SDK's 0.2.5 release (installed as `@a2a-js/sdk-v02`;
 * VoltAgent's A2A server still depends on 0.2). It reads a card at `<base>/.well-known/agent.json`,
 * the name before `agent-card.json`; the relay served that name only at its root, so this client
 * could not reach any profile. It has no fetch of its own: the global one carries the token here.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC results of the old SDK
type Json = any;
let agent: SdkAgent;
let r: TestRelay;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  agent = await startSdkAgent();
  r = await startTestRelay({
    toml: `
[peers.local]
profiles = ["*"]
default_profile = "echo"
[profiles.echo]
handler = "echo"
[profiles.sdk]
handler = "a2a"
url = "${agent.rpcUrl}"
`,
    env: { A2A_OC_TOKEN_LOCAL: "local-token-0123456789abcdef" },
  });
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
});

const send = (text: string, extra: object = {}): Json => ({
  message: {
    kind: "message",
    messageId: crypto.randomUUID(),
    role: "user",
    parts: [{ kind: "text", text }],
    ...extra,
  },
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
