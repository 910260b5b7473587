import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type DarkProxy, startDarkProxy } from "../helpers/dark-proxy.ts";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { until } from "../helpers/until.ts";
import { type RoutingRelay, startRoutingRelay, v1Message } from "./_relay.ts";
import type { Json } from "./_sdk.ts";

/**
 * A continued turn (a follow-up to a task waiting for input) whose send is lost on the way to an
 * official-SDK agent: the relay knows the upstream task from the previous turn, so it re-attaches
 * to it once the path is back, and finds it still waiting with the previous turn's question. That
 * question is not this turn's answer: the message never arrived, and the relay sends it again.
 * Over each way the relay talks to an agent: JSON-RPC v1.0, JSON-RPC v0.3 and HTTP+JSON.
 */

const WAYS = [
  { name: "JSON-RPC v1.0", binding: "jsonrpc", profile: (u: string) => `url = "${u}/a2a/jsonrpc"` },
  {
    name: "JSON-RPC v0.3",
    binding: "jsonrpc",
    profile: (u: string) => `url = "${u}/a2a/jsonrpc"\nprotocol = "0.3"`,
  },
  { name: "HTTP+JSON", binding: "rest", profile: (u: string) => `url = "${u}/a2a/rest"\nbinding = "rest"` },
] as const;

for (const way of WAYS) {
  describe(`a follow-up lost on a dark path to an SDK agent (${way.name})`, () => {
    let agent: SdkAgent;
    let proxy: DarkProxy;
    let relay: RoutingRelay;

    beforeAll(async () => {
      agent = await startSdkAgent({ binding: way.binding });
      proxy = await startDarkProxy(Number(new URL(agent.url).port));
      relay = await startRoutingRelay({
        toml: `
[server]
connect_timeout_s = 1
[profiles.sdk]
handler = "a2a"
${way.profile(proxy.url)}
turn_timeout_s = 30
`,
      });
    });
    afterAll(async () => {
      proxy?.setDark(false);
      await relay?.stop();
      proxy?.stop();
      await agent?.stop();
    });

    const send = async (text: string, message: object = {}, configuration: object = {}): Promise<Json> => {
      const r = await relay.rpc(
        "SendMessage",
        { message: { ...v1Message(text), ...message }, configuration },
        { path: "/a2a/sdk" },
      );
      expect(r.body.error).toBeUndefined();
      return r.body.result.task;
    };
    const settled = (id: string): Promise<Json> =>
      until(
        async () => {
          const task = (await relay.rpc("GetTask", { id }, { path: "/a2a/sdk" })).body.result;
          const state = task.status.state;
          return state === "TASK_STATE_WORKING" || state === "TASK_STATE_SUBMITTED" ? undefined : task;
        },
        20_000,
        `task ${id} to settle`,
      );

    test("is sent again once the path is back: the task completes with the answer to it", async () => {
      const first = await send("ask: your name?");
      expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
      expect(first.status.message.parts[0].text).toBe("your name?");
      const upstreamTask = first.metadata.upstream.taskId;
      const before = agent.received.length;

      // the path goes dark: open connections close, new ones are refused
      proxy.setDark(true);
      proxy.cut();
      const ref = { taskId: first.id, contextId: first.contextId };
      const second = await send("Ada", ref, { returnImmediately: true });
      expect(second.id).toBe(first.id);
      // the relay keeps trying to reach the upstream task while the path is down
      await Bun.sleep(1500);
      expect(agent.received.length).toBe(before);
      proxy.setDark(false);

      const done = await settled(first.id);
      expect(done.status.state).toBe("TASK_STATE_COMPLETED");
      expect(done.status.message.parts[0].text).toBe("got: Ada");
      // the upstream task got the follow-up exactly once
      const got = agent.received.slice(before);
      expect(got.map((r) => [r.text, r.taskId])).toEqual([["Ada", upstreamTask]]);
    });

    test("that reached the upstream task but was not taken up yet is waited for, not answered with the old question", async () => {
      const first = await send("ask: your name?");
      expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
      const upstreamTask = first.metadata.upstream.taskId;
      const before = agent.received.length;
      const ref = { taskId: first.id, contextId: first.contextId };
      await send("later: Ada", ref, { returnImmediately: true });
      // the upstream task has the message in its history, still INPUT_REQUIRED with the old
      // question, and its executor has not started on it: the connection breaks now
      await until(() => agent.received.length > before || undefined, 5000, "the follow-up to arrive");
      proxy.cut();

      const done = await settled(first.id);
      expect(done.status.state).toBe("TASK_STATE_COMPLETED");
      expect(done.status.message.parts[0].text).toBe("got: later: Ada");
      const got = agent.received.slice(before);
      expect(got.map((r) => [r.text, r.taskId])).toEqual([["later: Ada", upstreamTask]]);
    });
  });
}
