import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type {
  GetTaskPushNotificationConfigParams,
  Message,
  MessageSendParams,
  Task,
  TaskArtifactUpdateEvent,
  TaskStatusUpdateEvent,
} from "@a2a-js/sdk-v03";
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  JsonRpcTransportFactory,
} from "@a2a-js/sdk-v03/client";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { bearerFetch } from "../helpers/bearer-fetch.ts";
import { userMessageV03 } from "../helpers/messages.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { type Sdk03Agent, startSdk03Agent } from "../helpers/sdk03-agent.ts";
import { until } from "../helpers/until.ts";
import { resultJson, sdkClientFor, sdkSend } from "../routing/_sdk.ts";

/**
 * The last v0.3 release of the official SDK (`@a2a-js/sdk` 0.3.14), which agents and clients
 * written before v1.0 still run: its client at the relay's front door (it reads the profile's card
 * without A2A-Version, then speaks v0.3 JSON-RPC), and its server behind a `protocol = "0.3"`
 * profile, reached by it and by the v1.0 SDK client through the relay.
 */

let agent: Sdk03Agent;
let relay: TestRelay;
beforeAll(async () => {
  agent = await startSdk03Agent();
  relay = await startAgentRelay(
    { up03: { url: agent.rpcUrl, protocol: "0.3" } },
    { peer: 'push_hosts = ["127.0.0.1"]' },
  );
});
afterAll(async () => {
  await relay.stop();
  await agent.stop();
});

async function client03(profile: string): Promise<Client> {
  const fetchImpl = bearerFetch(relay.token);
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
    }),
  );
  return factory.createFromUrl(`${relay.url}/a2a/${profile}/`);
}

const send = (text: string, extra: Partial<Message> = {}, blocking = true): MessageSendParams => ({
  message: userMessageV03(text, extra) as Message,
  configuration: { blocking },
});
const textOf = (m: Message | undefined) => m?.parts.map((p) => (p.kind === "text" ? p.text : "")).join("");
type Event = Message | Task | TaskStatusUpdateEvent | TaskArtifactUpdateEvent;
const shape = (e: Event) =>
  e.kind === "status-update" ? `status:${e.status.state}${e.final ? ":final" : ""}` : e.kind;

describe("the v0.3 SDK client at the relay's front door", () => {
  test("reads the profile's card and gets a v0.3 task back: send, get, stream", async () => {
    const c = await client03("echo");
    const t = (await c.sendMessage(send("hello v0.3"))) as Task;
    expect(t.kind).toBe("task");
    expect(t.status.state).toBe("completed");
    expect(textOf(t.status.message)).toBe("hello v0.3");
    const got = await c.getTask({ id: t.id, historyLength: 1 });
    expect(got.id).toBe(t.id);
    expect(got.history).toHaveLength(1);
    const events: string[] = [];
    for await (const e of c.sendMessageStream(send("streamed"))) events.push(shape(e));
    expect(events[0]).toBe("task");
    expect(events.at(-1)).toBe("status:completed:final");
    expect(events).toContain("artifact-update");
  });

  test("the spec's errors arrive as the SDK's typed errors", async () => {
    const c = await client03("echo");
    const t = (await c.sendMessage(send("done"))) as Task;
    expect(await c.getTask({ id: "no-such-task" }).catch((e: Error) => e.constructor.name)).toBe(
      "TaskNotFoundJSONRPCError",
    );
    expect(await c.cancelTask({ id: t.id }).catch((e: Error) => e.constructor.name)).toBe(
      "TaskNotCancelableJSONRPCError",
    );
  });

  test("push notification configs: set, get, list, delete", async () => {
    const c = await client03("echo");
    const t = (await c.sendMessage(send("with push"))) as Task;
    const cfg = { id: "p1", url: "http://127.0.0.1:1/hook" };
    const byId: GetTaskPushNotificationConfigParams = { id: t.id, pushNotificationConfigId: "p1" };
    expect(await c.setTaskPushNotificationConfig({ taskId: t.id, pushNotificationConfig: cfg })).toEqual({
      taskId: t.id,
      pushNotificationConfig: cfg,
    });
    expect(
      // the client's type has only the task id; the wire's params take the config id too
      (await c.getTaskPushNotificationConfig(byId)).pushNotificationConfig,
    ).toEqual(cfg);
    expect(await c.listTaskPushNotificationConfig({ id: t.id })).toHaveLength(1);
    await c.deleteTaskPushNotificationConfig({ id: t.id, pushNotificationConfigId: "p1" });
    expect(await c.listTaskPushNotificationConfig({ id: t.id })).toEqual([]);
  });
});

describe('the v0.3 SDK agent behind a protocol = "0.3" profile', () => {
  test("the v0.3 client: an answer to input-required continues the agent's task; a subscription sees it", async () => {
    const c = await client03("up03");
    const q = (await c.sendMessage(send("ask: your name?"))) as Task;
    expect(q.status.state).toBe("input-required");
    expect(textOf(q.status.message)).toBe("your name?");
    const seen: string[] = [];
    const sub = (async () => {
      for await (const e of c.resubscribeTask({ id: q.id })) seen.push(shape(e));
    })();
    await until(() => seen.length > 0, 5000, "the subscription's snapshot");
    const a = (await c.sendMessage(send("bob", { taskId: q.id, contextId: q.contextId }))) as Task;
    expect(a.id).toBe(q.id);
    expect(a.status.state).toBe("completed");
    expect(textOf(a.status.message)).toBe("got: bob");
    await sub;
    expect(seen.at(-1)).toBe("status:completed:final");
    // the agent continued its own task: both messages reached the same upstream task
    const mine = agent.received.filter((r) => r.text === "ask: your name?" || r.text === "bob");
    expect(mine).toHaveLength(2);
    expect(mine[1]!.taskId).toBe(mine[0]!.taskId);
  });

  test("the v0.3 client: a cancel reaches the agent's running task", async () => {
    const c = await client03("up03");
    const s = (await c.sendMessage(send("slow", {}, false))) as Task;
    await until(() => agent.received.some((r) => r.text === "slow"), 5000, "the slow turn at the agent");
    const canceled = await c.cancelTask({ id: s.id });
    expect(canceled.status.state).toBe("canceled");
    await until(() => agent.canceled.size > 0, 5000, "the agent's cancel");
  });

  test("the v1.0 SDK client through the relay to the v0.3 agent: echo, then input-required and its answer", async () => {
    const c = await sdkClientFor(`${relay.url}/a2a/up03/`, relay.token);
    const t = resultJson(await c.sendMessage(sdkSend("hello from v1.0"))).task;
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.status.message.parts[0].text).toBe("echo: hello from v1.0");
    expect(t.artifacts[0].parts[0].text).toBe("hello from v1.0");
    const q = resultJson(await c.sendMessage(sdkSend("ask: colour?"))).task;
    expect(q.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const a = resultJson(
      await c.sendMessage(sdkSend("blue", { message: { taskId: q.id, contextId: q.contextId } })),
    ).task;
    expect(a.status.state).toBe("TASK_STATE_COMPLETED");
    expect(a.status.message.parts[0].text).toBe("got: blue");
  });
});
