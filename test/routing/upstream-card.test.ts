import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseProfile } from "../../src/config/schema.ts";
import { cardUrl, UpstreamCards } from "../../src/routing/upstream-card.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import type { Listener } from "../../src/runtime/types.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { freePort, type RoutingRelay, startRoutingRelay } from "./_relay.ts";
import type { Json } from "./_sdk.ts";

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

describe("profile cards of forwarded profiles show the upstream's skills", () => {
  let relay: RoutingRelay;
  let far: RoutingRelay;
  let silent: Listener;
  beforeAll(async () => {
    silent = currentRuntime().serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Promise<Response>(() => {}),
    });
    far = await startRoutingRelay({
      toml: `
[profiles.helper]
handler = "echo"
description = "Helps by echoing."
`,
    });
    relay = await startRoutingRelay({
      toml: `
[server]
id = "host-a"
[profiles.sdk]
handler = "a2a"
url = "${agent.rpcUrl}"
[profiles.far]
remote = "${far.url}"
remote_profile = "helper"
auth = "token"
[profiles.down]
handler = "a2a"
url = "http://127.0.0.1:${freePort()}/rpc"
description = "the local entry"
[profiles.hangs]
handler = "a2a"
url = "http://127.0.0.1:${silent.port}/rpc"
`,
    });
  });
  afterAll(async () => {
    await relay?.stop();
    await far?.stop();
    await silent?.stop(true);
  });

  const card = async (profile: string, v1 = true): Promise<Json> =>
    (
      await fetch(`${relay.url}/a2a/${profile}/.well-known/agent-card.json`, {
        headers: v1 ? { "a2a-version": "1.0" } : {},
      })
    ).json();

  test("a2a: the SDK agent's skills; every interface URL still points at this relay", async () => {
    for (const c of [await card("sdk"), await card("sdk", false)]) {
      expect(c.skills).toEqual([
        { id: "echo", name: "Echo", description: "Echoes text back", tags: ["test"] },
      ]);
      expect(JSON.stringify(c)).not.toContain(agent.url);
    }
    const v1 = await card("sdk");
    expect(v1.supportedInterfaces.map((i: Json) => i.url)).toEqual([
      `${relay.url}/a2a/sdk`,
      `${relay.url}/a2a/sdk`,
    ]);
  });

  test("remote: the far relay's profile skill", async () => {
    expect((await card("far")).skills).toEqual([
      { id: "helper", name: "helper", description: "Helps by echoing.", tags: ["echo"] },
    ]);
  });

  test("an upstream that is down or never answers: the local entry, quickly", async () => {
    for (const profile of ["down", "hangs"]) {
      const t0 = Date.now();
      const c = await card(profile);
      expect(Date.now() - t0).toBeLessThan(2500);
      expect(c.skills).toHaveLength(1);
      expect(c.skills[0].id).toBe(profile);
      expect(c.skills[0].tags).toEqual(["a2a"]);
    }
    expect((await card("down")).skills[0].description).toBe("the local entry");
  });

  test("a local profile keeps its own entry", async () => {
    const r = await fetch(`${far.url}/a2a/helper/.well-known/agent-card.json`, {
      headers: { "a2a-version": "1.0" },
    });
    expect(((await r.json()) as Json).skills[0].id).toBe("helper");
  });
});
