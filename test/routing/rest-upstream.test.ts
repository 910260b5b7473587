import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@a2a-js/sdk/client";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { until } from "../helpers/until.ts";
import { type RoutingRelay, startRoutingRelay } from "./_relay.ts";
import { artifactTexts, eventJson, type Json, resultJson, sdkClientFor, sdkSend, taskJson } from "./_sdk.ts";

// An SDK agent that offers ONLY HTTP+JSON, behind `a2a` profiles with binding "auto" (its card
// says REST) and "rest"; and relay → relay over REST (`remote`, binding = "rest").
const UP_TOKEN = "rest-upstream-secret";
const PAIR = "pair-secret-rest";
let agent: SdkAgent;
let relay: RoutingRelay;
let far: RoutingRelay;
let direct: Client;
const clients = new Map<string, Client>();

beforeAll(async () => {
  agent = await startSdkAgent({ token: UP_TOKEN, binding: "rest" });
  far = await startRoutingRelay({
    env: { A2A_OC_TOKEN_HOST_A: PAIR },
    toml: `
[server]
id = "host-b"
[peers.host-a]
profiles = ["echo"]
[peers.host-a.budget]
max_turns_per_context = 1
[profiles.echo]
handler = "echo"
`,
  });
  relay = await startRoutingRelay({
    env: { UP_TOKEN, WRONG: "not-the-token", A2A_OC_TOKEN_HOST_B: PAIR },
    toml: `
[server]
id = "host-a"
[profiles.auto]
handler = "a2a"
url = "${agent.restUrl}"
token_env = "UP_TOKEN"
turn_timeout_s = 20
[profiles.rest]
handler = "a2a"
url = "${agent.restUrl}"
binding = "rest"
token_env = "UP_TOKEN"
turn_timeout_s = 20
[profiles.badtoken]
handler = "a2a"
url = "${agent.restUrl}"
binding = "rest"
token_env = "WRONG"
[profiles.far]
remote = "${far.url}"
remote_profile = "echo"
auth = "token"
binding = "rest"
`,
  });
  direct = await sdkClientFor(`${agent.url}/`, UP_TOKEN, "rest");
  for (const profile of ["auto", "rest"]) {
    for (const binding of ["jsonrpc", "rest"] as const) {
      clients.set(
        `${profile}/${binding}`,
        await sdkClientFor(`${relay.url}/a2a/${profile}/`, relay.token, binding),
      );
    }
  }
});
afterAll(async () => {
  await relay?.stop();
  await far?.stop();
  await agent?.stop();
});

test("the agent's card lists only HTTP+JSON; the relay forwards over REST for auto and rest", async () => {
  const card = (await (
    await fetch(`${agent.url}/.well-known/agent-card.json`, { headers: { "a2a-version": "1.0" } })
  ).json()) as Json;
  expect(card.supportedInterfaces.map((i: Json) => i.protocolBinding)).toEqual(["HTTP+JSON"]);
  for (const profile of ["auto", "rest"]) {
    const t = resultJson(await clients.get(`${profile}/jsonrpc`)!.sendMessage(sdkSend("which way"))).task;
    expect(t.metadata.upstream).toMatchObject({ url: agent.restUrl, binding: "rest", protocol: "1.0" });
    const seen = agent.received.at(-1)!;
    expect(seen.text).toBe("which way");
    expect(seen.auth).toBe(`Bearer ${UP_TOKEN}`);
    expect(seen.hops).toBe("1");
    expect(seen.version).toBe("1.0");
  }
});

for (const profile of ["auto", "rest"]) {
  for (const binding of ["jsonrpc", "rest"] as const) {
    describe(`binding = "${profile}" profile, SDK client over ${binding}`, () => {
      const client = () => clients.get(`${profile}/${binding}`)!;

      test("blocking send: same state, final message and artifact as talking directly", async () => {
        const a = resultJson(await direct.sendMessage(sdkSend("hello rest"))).task;
        const b = resultJson(await client().sendMessage(sdkSend("hello rest"))).task;
        expect(b.status.state).toBe("TASK_STATE_COMPLETED");
        expect(b.status.state).toBe(a.status.state);
        expect(b.status.message.parts[0].text).toBe(a.status.message.parts[0].text);
        expect(b.status.message.parts[0].text).toBe("echo: hello rest");
        expect(artifactTexts(b)).toEqual(artifactTexts(a));
        expect(b.id).not.toBe(a.id);
      });

      test("stream: WORKING progress, the artifact, then COMPLETED, like directly", async () => {
        const via: Json[] = [];
        for await (const e of client().sendMessageStream(sdkSend("stream rest"))) via.push(eventJson(e));
        const dir: Json[] = [];
        for await (const e of direct.sendMessageStream(sdkSend("stream rest"))) dir.push(eventJson(e));
        expect(via[0].task).toBeDefined();
        const progress = via
          .filter((e) => e.statusUpdate?.status.state === "TASK_STATE_WORKING")
          .map((e) => e.statusUpdate.status.message?.parts[0].text);
        expect(progress).toContain("echoing");
        const arts = (evs: Json[]) =>
          evs.filter((e) => e.artifactUpdate).map((e) => e.artifactUpdate.artifact);
        expect(arts(via).map((a) => [a.name, a.parts[0].text])).toEqual(
          arts(dir).map((a) => [a.name, a.parts[0].text]),
        );
        expect(via.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
        expect(dir.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
      });

      test("get returns the settled task with the upstream's artifact", async () => {
        const t = resultJson(await client().sendMessage(sdkSend("get me"))).task;
        const got = taskJson(await client().getTask({ id: t.id, historyLength: undefined, tenant: "" }));
        expect(got.status.state).toBe("TASK_STATE_COMPLETED");
        expect(artifactTexts(got)).toContain("get me");
      });

      test("cancel reaches the upstream task (POST …/tasks/{id}:cancel); the relay task is CANCELED", async () => {
        const t = resultJson(
          await client().sendMessage(sdkSend("slow", { configuration: { returnImmediately: true } })),
        ).task;
        const upstreamId = await until(
          () => agent.received.find((x) => x.text === "slow" && !agent.canceled.has(x.taskId))?.taskId,
          5000,
          "the upstream task",
        );
        const c = taskJson(await client().cancelTask({ id: t.id, tenant: "", metadata: undefined }));
        expect(c.status.state).toBe("TASK_STATE_CANCELED");
        expect(agent.canceled.has(upstreamId!)).toBe(true);
      });
    });
  }
}

describe("REST upstream: conversations and failures", () => {
  test("input-required, then the next message continues the same upstream task", async () => {
    const c = clients.get("rest/rest")!;
    const first = resultJson(await c.sendMessage(sdkSend("ask: colour?"))).task;
    expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const second = resultJson(
      await c.sendMessage(sdkSend("green", { message: { taskId: first.id, contextId: first.contextId } })),
    ).task;
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    expect(second.status.message.parts[0].text).toBe("got: green");
    expect(second.metadata.upstream.taskId).toBe(first.metadata.upstream.taskId);
  });

  test("a refused credential fails the turn naming the HTTP status, never the token", async () => {
    const t = resultJson(
      await (await sdkClientFor(`${relay.url}/a2a/badtoken/`, relay.token)).sendMessage(sdkSend("hi")),
    ).task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toStartWith("upstream refused the relay's credential (HTTP 401");
    expect(JSON.stringify(t)).not.toContain("not-the-token");
  });

  test("remote relay over REST: a turn completes; the far relay's REST error keeps its code", async () => {
    const c = await sdkClientFor(`${relay.url}/a2a/far/`, relay.token);
    const t = resultJson(await c.sendMessage(sdkSend("over the hop"))).task;
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.metadata.upstream).toMatchObject({ url: `${far.url}/a2a/echo`, binding: "rest" });
    expect(artifactTexts(t)).toContain("over the hop");
    // host-a may run one turn per conversation on host-b: the second is refused (REST 429, BUDGET_EXCEEDED)
    const again = resultJson(
      await c.sendMessage(sdkSend("once more", { message: { contextId: t.contextId } })),
    ).task;
    expect(again.status.state).toBe("TASK_STATE_REJECTED");
    expect(again.metadata.error).toEqual({ code: -32042, reason: "BUDGET_EXCEEDED" });
  });

  test("binding = rest with protocol 0.3 is a config error naming the key", async () => {
    await expect(
      startRoutingRelay({
        toml: `
[profiles.old]
handler = "a2a"
url = "${agent.restUrl}"
protocol = "0.3"
binding = "rest"
`,
      }),
    ).rejects.toThrow(/profiles\.old\.binding: "rest" \(HTTP\+JSON\) needs protocol = "1\.0"/);
  });
});
