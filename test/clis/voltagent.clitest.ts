import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { type FakeModel, startFakeModel } from "../helpers/fake-model.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { until } from "../helpers/until.ts";
import { eventJson, type Json, resultJson, sdkClientFor, sdkSend, taskJson } from "../routing/_sdk.ts";
import { startVoltAgents, type VoltAgents } from "./voltagent-agent.ts";

/**
 * VoltAgent's A2A server (`@voltagent/a2a-server` 2.0.3 on `@voltagent/core` 2.10.0 and
 * `@voltagent/server-hono` 2.0.14; installed by test/clis/install.sh, run in a process of its own)
 * behind `a2a` profiles, called through the relay with the official SDK client. Agent `helper`
 * runs on the suite's fake model, `slow` on one that never answers. VoltAgent speaks A2A v0.3
 * with two departures the relay tolerates: each event's data starts with an RS (U+001E), and its
 * tasks have no `kind`. It keeps a conversation only for a named user: the profile's URL names
 * one (`?context={"userId": …}`).
 */

let ok: FakeModel;
let hang: FakeModel;
let volt: VoltAgents;
let r: TestRelay;

beforeAll(async () => {
  [ok, hang] = await Promise.all([startFakeModel("ok"), startFakeModel("hang")]);
  volt = await startVoltAgents({ helper: ok.url, slow: hang.url });
  const user = encodeURIComponent(JSON.stringify({ userId: "relay" }));
  r = await startAgentRelay({
    volt: {
      url: `${volt.url}/a2a/helper?context=${user}`,
      protocol: "0.3",
      cardUrl: `${volt.url}/.well-known/helper/agent-card.json`,
    },
    slow: { url: `${volt.url}/a2a/slow`, protocol: "0.3" },
    "volt-v1": { url: `${volt.url}/a2a/helper` },
  });
}, 120_000);
afterAll(async () => {
  await r?.stop();
  volt?.stop();
  await Promise.all([ok?.close(), hang?.close()]);
});

describe("a VoltAgent agent behind the relay", () => {
  test("message/send answers with the model's text; the next message in the context continues VoltAgent's conversation", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/volt/`, r.token);
    const first = resultJson(await c.sendMessage(sdkSend("FIRST-QUESTION for volt"))).task;
    expect(first.status.state).toBe("TASK_STATE_COMPLETED");
    expect(first.status.message.parts).toEqual([{ text: "created notes.txt" }]);
    const second = resultJson(
      await c.sendMessage(sdkSend("SECOND-QUESTION for volt", { message: { contextId: first.contextId } })),
    ).task;
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    expect(second.metadata.upstream.contextId).toBe(first.metadata.upstream.contextId);
    // VoltAgent's memory gave its model the first exchange with the second question
    const asked = ok.requests.filter((q) => q.body.includes("SECOND-QUESTION for volt")).at(-1)!;
    expect(asked.body).toContain("FIRST-QUESTION for volt");
  }, 60_000);

  test("a stream ends COMPLETED with the answer; tasks/get then has it", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/volt/`, r.token);
    const events: Json[] = [];
    for await (const e of c.sendMessageStream(sdkSend("STREAM-QUESTION for volt"))) events.push(eventJson(e));
    const last = events.at(-1).statusUpdate;
    expect(last.status.state).toBe("TASK_STATE_COMPLETED");
    expect(last.status.message.parts).toEqual([{ text: "created notes.txt" }]);
    const got = taskJson(await c.getTask({ id: last.taskId } as never));
    expect(got.status.state).toBe("TASK_STATE_COMPLETED");
    expect(got.status.message.parts).toEqual([{ text: "created notes.txt" }]);
  }, 60_000);

  test("CancelTask reaches the VoltAgent task while its model is still thinking", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/slow/`, r.token);
    const before = hang.requests.length;
    const started = resultJson(
      await c.sendMessage(sdkSend("HOLD for volt", { configuration: { returnImmediately: true } })),
    ).task;
    await until(() => hang.requests.length > before, 30_000);
    const canceled = taskJson(await c.cancelTask({ id: started.id } as never));
    expect(canceled.status.state).toBe("TASK_STATE_CANCELED");
    // VoltAgent answered the relay's tasks/cancel with its task canceled; its own record does not
    // keep that state (its run, once aborted, saves WORKING or COMPLETED over it), so the relay's
    // word is what is checked
    expect(canceled.status.message.parts[0].text).toMatch(
      /^canceled by the peer; upstream task \S+ at .*: last seen TASK_STATE_WORKING; it was asked to cancel$/,
    );
  }, 60_000);

  test("behind a profile left at protocol 1.0, the failure says to set protocol = 0.3", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/volt-v1/`, r.token);
    const t = resultJson(await c.sendMessage(sdkSend("hello volt over 1.0"))).task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toBe(
      `upstream error -32601: Unknown method 'SendMessage'; it knows no A2A v1.0 method: set protocol = "0.3" on profiles.volt-v1`,
    );
  }, 60_000);
});
