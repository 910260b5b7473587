import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { type FleetAgent, startHermesFleetAgent } from "../helpers/hermes-fleet-agent.ts";
import { type RoutingRelay, startRoutingRelay, v03Message } from "./_relay.ts";
import { resultJson, sdkClientFor, sdkSend } from "./_sdk.ts";

let node: FleetAgent;
let relay: RoutingRelay;
// a node that takes connections and never answers (a receiver hung in its shutdown, seen live)
let hung: TCPSocketListener;

beforeAll(async () => {
  node = startHermesFleetAgent({ token: "fleet-token" });
  hung = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  relay = await startRoutingRelay({
    env: { FLEET_TOKEN: "fleet-token", WRONG_TOKEN: "nope" },
    toml: `
[profiles.fleet]
handler = "a2a"
url = "${node.url}"
protocol = "hermes-fleet"
token_env = "FLEET_TOKEN"

[profiles.fleet-as-v1]
handler = "a2a"
url = "${node.url}"
token_env = "FLEET_TOKEN"

[profiles.fleet-as-v03]
handler = "a2a"
url = "${node.url}"
protocol = "0.3"
token_env = "FLEET_TOKEN"

[profiles.fleet-hung]
handler = "a2a"
url = "http://127.0.0.1:${hung.port}/jsonrpc"
protocol = "hermes-fleet"
token_env = "FLEET_TOKEN"
turn_timeout_s = 1

[profiles.fleet-badauth]
handler = "a2a"
url = "${node.url}"
protocol = "hermes-fleet"
token_env = "WRONG_TOKEN"
`,
  });
});
afterAll(async () => {
  await relay?.stop();
  await node?.stop();
  hung?.stop(true);
});

describe("an older Hermes fleet node behind an a2a profile (protocol = hermes-fleet)", () => {
  test("a v1.0 SDK client: the node's message becomes a completed task; the context carries over", async () => {
    const c = await sdkClientFor(`${relay.url}/a2a/fleet/`, relay.token);
    const a = resultJson(await c.sendMessage(sdkSend("hello fleet"))).task;
    expect(a.status.state).toBe("TASK_STATE_COMPLETED");
    const text1: string = a.status.message.parts[0].text;
    expect(text1).toMatch(/^turn 1 in [\w-]+: hello fleet$/);
    const fleetCtx = text1.split(" ")[3]!.replace(":", "");
    expect(a.metadata.upstream.contextId).toBe(fleetCtx);
    const b = resultJson(await c.sendMessage(sdkSend("again", { message: { contextId: a.contextId } }))).task;
    expect(b.status.message.parts[0].text).toBe(`turn 2 in ${fleetCtx}: again`);
    // the node saw exactly its dialect: no messageId, no version header, the relay's token
    const seen = node.received.at(-1)!;
    expect(seen.contextId).toBe(fleetCtx);
    expect(seen.headers["a2a-version"]).toBeUndefined();
    expect(seen.messageId).toBeUndefined();
    expect(seen.headers.authorization).toBe("Bearer fleet-token");
  });

  test("a v0.3 client (plain fetch, message/send) gets a v0.3 task; multi-turn by context", async () => {
    const path = "/a2a/fleet";
    const headers = { "a2a-version": "" };
    const first = (await relay.rpc("message/send", { message: v03Message("v03 one") }, { path, headers }))
      .body.result;
    expect(first.kind).toBe("task");
    expect(first.status.state).toBe("completed");
    expect(first.status.message.parts[0].text).toMatch(/^turn 1 in .*: v03 one$/);
    const second = (
      await relay.rpc(
        "message/send",
        { message: v03Message("v03 two", { contextId: first.contextId }) },
        { path, headers },
      )
    ).body.result;
    expect(second.status.message.parts[0].text).toMatch(/^turn 2 in .*: v03 two$/);
  });

  test("a bad upstream token ends the turn FAILED with the node's 401, never the token", async () => {
    const r = await relay.rpc(
      "SendMessage",
      { message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text: "x" }] } },
      { path: "/a2a/fleet-badauth" },
    );
    const t = r.body.result.task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    const text: string = t.status.message.parts[0].text;
    expect(text).toContain("HTTP 401");
    expect(text).toContain("invalid or missing bearer token");
    expect(text).not.toContain("nope");
  });

  for (const profile of ["fleet-as-v1", "fleet-as-v03"]) {
    test(`a node behind a profile without protocol = "hermes-fleet" (${profile}): the failure says to set it`, async () => {
      const r = await relay.rpc(
        "SendMessage",
        { message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text: "hi" }] } },
        { path: `/a2a/${profile}` },
      );
      const t = r.body.result.task;
      expect(t.status.state).toBe("TASK_STATE_FAILED");
      expect(t.status.message.parts[0].text).toContain('set protocol = "hermes-fleet"');
    });
  }

  test("a node that takes the dispatch and never answers: the turn cap's failure says so", async () => {
    const r = await relay.rpc(
      "SendMessage",
      { message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text: "anyone?" }] } },
      { path: "/a2a/fleet-hung" },
    );
    const text: string = r.body.result.task.status.message.parts[0].text;
    expect(text).toContain("turn exceeded");
    expect(text).toContain("took the dispatch and never answered it");
    expect(text).not.toContain("TASK_STATE_SUBMITTED");
  });
});
