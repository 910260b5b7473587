import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseProfile } from "../../src/config/schema.ts";
import { cardUrl, UpstreamCards } from "../../src/routing/upstream-card.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";

let agent: SdkAgent;
beforeAll(async () => {
  agent = await startSdkAgent();
});
afterAll(async () => {
  await agent?.stop();
});

describe("upstream card skills for forwarded profiles", () => {
  test("card URLs: the agent's origin for a2a, the remote relay's profile card for remote", () => {
    expect(cardUrl("x", parseProfile({ handler: "a2a", url: "http://h:1/a2a/jsonrpc" }))).toBe(
      "http://h:1/.well-known/agent-card.json",
    );
    expect(cardUrl("far", parseProfile({ remote: "http://b:9200/", remote_profile: "coder" }))).toBe(
      "http://b:9200/a2a/coder/.well-known/agent-card.json",
    );
    expect(cardUrl("e", parseProfile({ handler: "echo" }))).toBeUndefined();
  });

  test("reads the SDK agent's skills once and serves them from the cache", async () => {
    let calls = 0;
    const cards = new UpstreamCards({
      fetch: (i, init) => {
        calls++;
        return fetch(i, init);
      },
    });
    const p = parseProfile({ handler: "a2a", url: agent.rpcUrl });
    expect(await cards.skills("sdk", p)).toEqual([
      { id: "echo", name: "Echo", description: "Echoes text back", tags: ["test"] },
    ]);
    await cards.skills("sdk", p);
    expect(calls).toBe(1);
  });

  test("an unreachable upstream yields no skills, quickly", async () => {
    const cards = new UpstreamCards({ fetch, timeoutMs: 500 });
    const t0 = Date.now();
    expect(
      await cards.skills("x", parseProfile({ handler: "a2a", url: "http://127.0.0.1:1/rpc" })),
    ).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
