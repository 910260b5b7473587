import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cli } from "../cli/_run.ts";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import { type FakeModel, startFakeModel } from "../helpers/fake-model.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { until } from "../helpers/until.ts";
import {
  artifactTexts,
  eventJson,
  type Json,
  resultJson,
  sdkClientFor,
  sdkSend,
  taskJson,
} from "../routing/_sdk.ts";
import { type MastraAgents, startMastraAgents } from "./mastra-agent.ts";

/**
 * Mastra's A2A server (`@mastra/core` 1.71.0 agents served by `@mastra/hono` 1.7.9, whose A2A
 * routes are `@mastra/server` 1.67.0's handlers; installed by test/clis/install.sh) behind `a2a`
 * profiles, called through the relay with the official SDK client. Agent `helper` runs on the
 * suite's fake model (OpenAI chat completions), `slow` on one that never answers. Mastra speaks
 * A2A v0.3 (`protocol = "0.3"`); its memory keys a conversation on the A2A contextId.
 */

let ok: FakeModel;
let hang: FakeModel;
let mastra: MastraAgents;
let r: TestRelay;

beforeAll(async () => {
  [ok, hang] = await Promise.all([startFakeModel("ok"), startFakeModel("hang")]);
  mastra = await startMastraAgents({ helper: ok.url, slow: hang.url });
  const card = (id: string) => `${mastra.base}/.well-known/${id}/agent-card.json`;
  r = await startAgentRelay({
    mastra: { url: `${mastra.base}/a2a/helper`, protocol: "0.3", cardUrl: card("helper") },
    slow: { url: `${mastra.base}/a2a/slow`, protocol: "0.3" },
    // the profile's default protocol, as a first configuration would have it
    "mastra-v1": { url: `${mastra.base}/a2a/helper`, cardUrl: card("helper") },
  });
}, 120_000);
afterAll(async () => {
  await r?.stop();
  mastra?.stop();
  await Promise.all([ok?.close(), hang?.close()]);
});

describe("a Mastra agent behind the relay", () => {
  test("message/send answers with the model's text; the next message in the context reaches the same Mastra thread", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/mastra/`, r.token);
    const first = resultJson(await c.sendMessage(sdkSend("FIRST-QUESTION for mastra"))).task;
    expect(first.status.state).toBe("TASK_STATE_COMPLETED");
    expect(first.status.message.parts).toEqual([{ text: "created notes.txt" }]);
    expect(artifactTexts(first)).toEqual(["created notes.txt"]);
    const second = resultJson(
      await c.sendMessage(sdkSend("SECOND-QUESTION for mastra", { message: { contextId: first.contextId } })),
    ).task;
    expect(second.status.state).toBe("TASK_STATE_COMPLETED");
    expect(second.contextId).toBe(first.contextId);
    // Mastra's memory gave its model the first exchange with the second question
    const asked = ok.requests.filter((q) => q.body.includes("SECOND-QUESTION for mastra")).at(-1)!;
    expect(asked.body).toContain("FIRST-QUESTION for mastra");
    expect(second.metadata.upstream.contextId).toBe(first.metadata.upstream.contextId);
  }, 60_000);

  test("a stream carries Mastra's text artifact and ends COMPLETED; tasks/get then has the answer", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/mastra/`, r.token);
    const events: Json[] = [];
    for await (const e of c.sendMessageStream(sdkSend("STREAM-QUESTION for mastra")))
      events.push(eventJson(e));
    const artifacts = events.filter((e) => e.artifactUpdate).map((e) => e.artifactUpdate.artifact);
    expect(artifacts.flatMap((a: Json) => a.parts.map((p: Json) => p.text)).join("")).toBe(
      "created notes.txt",
    );
    const last = events.at(-1).statusUpdate;
    expect(last.status.state).toBe("TASK_STATE_COMPLETED");
    expect(last.status.message.parts).toEqual([{ text: "created notes.txt" }]);
    const got = taskJson(await c.getTask({ id: last.taskId, historyLength: 0 } as never));
    expect(got.status.state).toBe("TASK_STATE_COMPLETED");
    expect(artifactTexts(got)).toEqual(["created notes.txt"]);
  }, 60_000);

  test("CancelTask reaches the Mastra task while its model is still thinking", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/slow/`, r.token);
    const before = hang.requests.length;
    const started = resultJson(
      await c.sendMessage(sdkSend("HOLD for mastra", { configuration: { returnImmediately: true } })),
    ).task;
    await until(() => hang.requests.length > before, 30_000);
    const canceled = taskJson(await c.cancelTask({ id: started.id } as never));
    expect(canceled.status.state).toBe("TASK_STATE_CANCELED");
    const upstream = taskJson(await c.getTask({ id: started.id } as never)).metadata.upstream.taskId;
    await until(
      () =>
        mastra.tasks.loadWithVersion({ agentId: "slow", taskId: upstream })?.task.status.state === "canceled",
      10_000,
    );
  }, 60_000);
});

describe("where Mastra is not where the relay first looks", () => {
  test("its card is read at card_url: the profile's card lists the agent's tools as skills", async () => {
    const card: Json = await (await fetch(`${r.url}/a2a/mastra/.well-known/agent-card.json`)).json();
    expect(card.skills.map((s: Json) => s.id)).toContain("lookup_station");
  });

  test("behind a profile left at protocol 1.0, the failure says to set protocol = 0.3", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/mastra-v1/`, r.token);
    const t = resultJson(await c.sendMessage(sdkSend("hello mastra over 1.0"))).task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    const text = t.status.message.parts[0].text;
    // Mastra takes A2A-Version: 1.0 only with the v0.3 method names
    expect(text).toContain("HTTP 400");
    expect(text).toContain('offers A2A 0.3.0 only and this profile speaks 1.0: set protocol = "0.3"');
  }, 60_000);

  test("doctor reads both cards at card_url and warns about the 1.0 profile", async () => {
    const env = { A2A_OC_TOKEN_LOCAL: r.token, A2A_RELAY_LOCK_DIR: join(r.dir, "locks"), PATH: "" };
    const d = await cli(["doctor", "--config", join(r.dir, "config.toml")], env);
    const cardAt = `${mastra.base}/.well-known/helper/agent-card.json`;
    expect(d.out).toContain(`ok    profile mastra: upstream card ${cardAt} (helper)`);
    expect(d.out).toContain(`ok    profile mastra-v1: upstream card ${cardAt} (helper)`);
    expect(d.out).toMatch(/^warn {2}profile mastra-v1: the upstream's card offers A2A 0.3.0 only/m);
    expect(d.out).not.toMatch(/^warn {2}profile mastra:/m);
    // without card_url the origin has no card: doctor says where Mastra serves it
    expect(d.out).toMatch(/^fail {2}profile slow: upstream card .* unreachable \(HTTP 404\)/m);
    expect(d.out).toContain("needs card_url");
  }, 30_000);
});
