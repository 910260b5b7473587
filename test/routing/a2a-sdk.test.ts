import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@a2a-js/sdk/client";
import { type SdkAgent, startSdkAgent } from "../helpers/sdk-agent.ts";
import { until } from "../helpers/until.ts";
import { type RoutingRelay, sseData, startRoutingRelay, v1Message, v03Message } from "./_relay.ts";
import { artifactTexts, eventJson, type Json, resultJson, sdkClientFor, sdkSend, taskJson } from "./_sdk.ts";

const UP_TOKEN = "upstream-secret-token";
const OTHER_TOKEN = "other-peer-token-0123456789";
let agent: SdkAgent;
let relay: RoutingRelay;
let viaRelay: Client;
let direct: Client;

beforeAll(async () => {
  agent = await startSdkAgent({ token: UP_TOKEN });
  relay = await startRoutingRelay({
    env: { UP_TOKEN, OTHER_TOKEN },
    toml: `
[profiles.sdk]
handler = "a2a"
url = "${agent.rpcUrl}"
token_env = "UP_TOKEN"
turn_timeout_s = 20

[profiles.sdk03]
handler = "a2a"
url = "${agent.rpcUrl}"
protocol = "0.3"
token_env = "UP_TOKEN"

[profiles.echo]
handler = "echo"

[peers.other]
profiles = ["sdk"]
token_env = "OTHER_TOKEN"
`,
  });
  viaRelay = await sdkClientFor(`${relay.url}/a2a/sdk/`, relay.token);
  direct = await sdkClientFor(`${agent.url}/`, UP_TOKEN);
});
afterAll(async () => {
  await relay?.stop();
  await agent?.stop();
});

describe("an SDK v1.0 agent behind an a2a profile, SDK client talking v1.0 to the relay", () => {
  test("blocking send: same state, artifact text and final message as talking directly", async () => {
    const a = resultJson(await direct.sendMessage(sdkSend("hello there"))).task;
    const b = resultJson(await viaRelay.sendMessage(sdkSend("hello there"))).task;
    expect(b.status.state).toBe(a.status.state);
    expect(b.status.state).toBe("TASK_STATE_COMPLETED");
    expect(b.status.message.parts[0].text).toBe(a.status.message.parts[0].text);
    expect(artifactTexts(b)).toContain(artifactTexts(a)[0] as string);
    // the caller sees the relay's task id; the upstream ids are in metadata
    expect(b.id).not.toBe(a.id);
    expect(b.metadata.upstream.url).toBe(agent.rpcUrl);
    // binding = "auto": the agent's card offers JSON-RPC, so JSON-RPC it is
    expect(b.metadata.upstream.binding).toBe("jsonrpc");
    expect(b.metadata.upstream.taskId).toBeString();
    // the relay presented its own credential and the hop count upstream
    const last = agent.received.at(-1)!;
    expect(last.auth).toBe(`Bearer ${UP_TOKEN}`);
    expect(last.hops).toBe("1");
    expect(last.version).toBe("1.0");
  });
});

describe("streaming, multi-turn, get, list, cancel through the relay (SDK client, v1.0)", () => {
  test("stream: WORKING progress and the upstream artifact arrive as events, then COMPLETED", async () => {
    const events: Json[] = [];
    for await (const e of viaRelay.sendMessageStream(sdkSend("stream me"))) events.push(eventJson(e));
    const direct_: Json[] = [];
    for await (const e of direct.sendMessageStream(sdkSend("stream me"))) direct_.push(eventJson(e));
    expect(events[0].task).toBeDefined();
    const working = events.filter((e) => e.statusUpdate?.status.state === "TASK_STATE_WORKING");
    expect(working.map((e) => e.statusUpdate.status.message?.parts[0].text)).toContain("echoing");
    const arts = events.filter((e) => e.artifactUpdate).map((e) => e.artifactUpdate.artifact);
    const directArts = direct_.filter((e) => e.artifactUpdate).map((e) => e.artifactUpdate.artifact);
    expect(arts[0].name).toBe(directArts[0].name);
    expect(arts[0].parts[0].text).toBe(directArts[0].parts[0].text as string);
    expect(events.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
    expect(direct_.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("a direct Message answer upstream stays a Message for the caller, as talking directly", async () => {
    const d = resultJson(await direct.sendMessage(sdkSend("direct: just this")));
    const m = resultJson(await viaRelay.sendMessage(sdkSend("direct: just this")));
    expect(d.task).toBeUndefined();
    expect(m.task).toBeUndefined();
    expect(m.message.role).toBe(d.message.role);
    expect(m.message.parts[0].text).toBe("just this");
    expect(m.message.parts[0].text).toBe(d.message.parts[0].text);
    expect(m.message.contextId).toBeString();
    // the relay still recorded the turn
    const [t] = relay.relay.engine.list("local", { pageSize: 1, historyLength: 0 }).tasks;
    expect(t!.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t!.status.message?.parts[0]?.text).toBe("just this");
  });

  test("input-required, then a second turn on the same task continues the same upstream task", async () => {
    const first = resultJson(await viaRelay.sendMessage(sdkSend("ask: your name?"))).task;
    expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(first.status.message.parts[0].text).toBe("your name?");
    const upstreamTask = first.metadata.upstream.taskId;
    const second = resultJson(
      await viaRelay.sendMessage(
        sdkSend("Ada", { message: { taskId: first.id, contextId: first.contextId } }),
      ),
    ).task;
    expect(second.id).toBe(first.id);
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    expect(second.status.message.parts[0].text).toBe("got: Ada");
    const turns = agent.received.slice(-2);
    expect(turns.map((r) => r.taskId)).toEqual([upstreamTask, upstreamTask]);
  });

  test("a second turn whose upstream stream opens with the task still INPUT_REQUIRED runs to its end", async () => {
    // the SDK streams the task as the executor re-announces it: here unchanged, still interrupted;
    // only the stream's last event (or its close) ends the upstream's turn
    const first = resultJson(await viaRelay.sendMessage(sdkSend("ask: and then?"))).task;
    expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const ref = { message: { taskId: first.id, contextId: first.contextId } };
    const second = resultJson(await viaRelay.sendMessage(sdkSend("as-is: go on", ref))).task;
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    expect(second.status.message.parts[0].text).toBe("got: as-is: go on");
    const got = taskJson(await viaRelay.getTask({ id: first.id, historyLength: undefined, tenant: "" }));
    expect(got.status.state).toBe("TASK_STATE_COMPLETED");
    // and the relay's task, like the upstream's, now refuses another message
    await expect(viaRelay.sendMessage(sdkSend("more", ref))).rejects.toThrow(/TASK_STATE_COMPLETED/);
  });

  test("a new task in the same relay context reuses the upstream context", async () => {
    const a = resultJson(await viaRelay.sendMessage(sdkSend("one"))).task;
    const b = resultJson(
      await viaRelay.sendMessage(sdkSend("two", { message: { contextId: a.contextId } })),
    ).task;
    expect(b.contextId).toBe(a.contextId);
    expect(b.metadata.upstream.contextId).toBe(a.metadata.upstream.contextId);
    expect(b.metadata.upstream.taskId).not.toBe(a.metadata.upstream.taskId);
  });

  test("get and list answer from the relay's own record", async () => {
    const t = resultJson(await viaRelay.sendMessage(sdkSend("to be listed"))).task;
    const got = taskJson(await viaRelay.getTask({ id: t.id, historyLength: undefined, tenant: "" }));
    expect(got.status.state).toBe("TASK_STATE_COMPLETED");
    expect(artifactTexts(got)).toContain("to be listed");
    const list = await viaRelay.listTasks({
      tenant: "",
      contextId: t.contextId,
      status: 0,
      pageSize: 10,
      pageToken: "",
      historyLength: undefined,
      statusTimestampAfter: undefined,
      includeArtifacts: false,
    });
    expect(list.tasks.map((x) => x.id)).toContain(t.id);
  });

  test("canceling a task that waits for input cancels the upstream task too", async () => {
    const first = resultJson(await viaRelay.sendMessage(sdkSend("ask: which branch?"))).task;
    expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const upstreamTask = first.metadata.upstream.taskId as string;
    const c = taskJson(await viaRelay.cancelTask({ id: first.id, tenant: "", metadata: undefined }));
    expect(c.status.state).toBe("TASK_STATE_CANCELED");
    expect(agent.canceled.has(upstreamTask)).toBe(true);
  });

  test("cancel reaches the upstream task and the relay task ends CANCELED", async () => {
    const t = resultJson(
      await viaRelay.sendMessage(sdkSend("slow", { configuration: { returnImmediately: true } })),
    ).task;
    const upstreamId = await until(
      () => agent.received.find((x) => x.text === "slow" && !agent.canceled.has(x.taskId))?.taskId,
      5000,
      "the upstream task",
    );
    const c = taskJson(await viaRelay.cancelTask({ id: t.id, tenant: "", metadata: undefined }));
    expect(c.status.state).toBe("TASK_STATE_CANCELED");
    expect(agent.canceled.has(upstreamId!)).toBe(true);
  });
});

describe("resubscribe to a forwarded task", () => {
  test("the stream starts with the task snapshot and ends when the task is canceled", async () => {
    const t = resultJson(
      await viaRelay.sendMessage(sdkSend("slow", { configuration: { returnImmediately: true } })),
    ).task;
    const seen: Json[] = [];
    const reading = (async () => {
      for await (const e of viaRelay.resubscribeTask({ id: t.id, tenant: "" })) seen.push(eventJson(e));
    })();
    const slowNow = (e: Json) =>
      (e.task ?? e.statusUpdate)?.status.message?.parts[0].text === "working slowly";
    await until(() => seen.some(slowNow), 5000, "upstream progress on the resubscribed stream");
    await viaRelay.cancelTask({ id: t.id, tenant: "", metadata: undefined });
    await reading;
    expect(seen[0].task.id).toBe(t.id);
    expect(seen.at(-1).statusUpdate.status.state).toBe("TASK_STATE_CANCELED");
  });
});

describe("the same profile through plain fetch in v0.3", () => {
  const v03 = (method: string, params: unknown) =>
    relay.rpc(method, params, { path: "/a2a/sdk", headers: { "a2a-version": "" } });

  test("message/send returns a v0.3 task with the upstream's artifact", async () => {
    const { body } = await v03("message/send", { message: v03Message("hi in v0.3") });
    expect(body.result.kind).toBe("task");
    expect(body.result.status.state).toBe("completed");
    const texts = body.result.artifacts.flatMap((a: Json) => a.parts.map((p: Json) => p.text));
    expect(texts).toContain("hi in v0.3");
  });

  test("message/stream: kind-tagged events, artifact-update, last status-update final", async () => {
    const { body } = await v03("message/stream", { message: v03Message("stream v03") });
    const events = sseData(body).map((d) => d.result);
    expect(events[0].kind).toBe("task");
    expect(
      events.some((e) => e.kind === "artifact-update" && e.artifact.parts[0].text === "stream v03"),
    ).toBe(true);
    const last = events.at(-1);
    expect(last.kind).toBe("status-update");
    expect(last.status.state).toBe("completed");
    expect(last.final).toBe(true);
  });

  test("input-required then a second turn, and tasks/get", async () => {
    const first = (await v03("message/send", { message: v03Message("ask: colour?") })).body.result;
    expect(first.status.state).toBe("input-required");
    const second = (
      await v03("message/send", {
        message: v03Message("blue", { taskId: first.id, contextId: first.contextId }),
      })
    ).body.result;
    expect(second.status.state).toBe("completed");
    expect(second.status.message.parts[0].text).toBe("got: blue");
    const got = (await v03("tasks/get", { id: first.id })).body.result;
    expect(got.kind).toBe("task");
    expect(got.status.state).toBe("completed");
  });
});

describe('protocol = "0.3" upstream (the SDK agent\'s v0.3 compat layer)', () => {
  test("send and input-required work when the relay speaks v0.3 upstream", async () => {
    const c = await sdkClientFor(`${relay.url}/a2a/sdk03/`, relay.token);
    const t = resultJson(await c.sendMessage(sdkSend("via 0.3"))).task;
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(artifactTexts(t)).toContain("via 0.3");
    const ask = resultJson(await c.sendMessage(sdkSend("ask: why?"))).task;
    expect(ask.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const done = resultJson(
      await c.sendMessage(sdkSend("because", { message: { taskId: ask.id, contextId: ask.contextId } })),
    ).task;
    expect(done.status.message.parts[0].text).toBe("got: because");
  });
});

describe("referenceTaskIds reach the upstream as its own task ids", () => {
  /** The message the upstream received with `text`, from the JSON-RPC bodies it recorded. */
  const upstreamMessage = (text: string): Json =>
    agent.bodies
      .map((b) => (b.body as Json)?.params?.message)
      .find((m: Json) => m?.parts?.some((p: Json) => p.text === text));

  test("a task of the same upstream is named by its upstream id; a local one is left out; an unknown id passes", async () => {
    const first = resultJson(await viaRelay.sendMessage(sdkSend("ref-first"))).task;
    const upstreamId = first.metadata.upstream.taskId;
    expect(upstreamId).toBeString();
    expect(upstreamId).not.toBe(first.id);
    const viaEcho = await sdkClientFor(`${relay.url}/a2a/echo/`, relay.token);
    const local = resultJson(await viaEcho.sendMessage(sdkSend("ref-local"))).task;
    const second = resultJson(
      await viaRelay.sendMessage(
        sdkSend("ref-second", { message: { referenceTaskIds: [first.id, local.id, "not-a-relay-task"] } }),
      ),
    ).task;
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    expect(upstreamMessage("ref-second").referenceTaskIds).toEqual([upstreamId, "not-a-relay-task"]);
    // the relay's own task keeps what the caller sent
    expect(second.history[0].referenceTaskIds).toEqual([first.id, local.id, "not-a-relay-task"]);
  });

  test("another peer's task is not looked up: its id passes on as it came", async () => {
    const mine = resultJson(await viaRelay.sendMessage(sdkSend("ref-mine"))).task;
    const res = await relay.rpc(
      "SendMessage",
      { message: { ...v1Message("ref-foreign"), referenceTaskIds: [mine.id] } },
      { path: "/a2a/sdk", headers: { authorization: `Bearer ${OTHER_TOKEN}` } },
    );
    expect(res.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(upstreamMessage("ref-foreign").referenceTaskIds).toEqual([mine.id]);
  });
});
