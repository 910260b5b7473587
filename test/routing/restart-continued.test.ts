import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DarkProxy, startDarkProxy } from "../helpers/dark-proxy.ts";
import { until } from "../helpers/until.ts";
import {
  freePort,
  hostAToml,
  type RoutingRelay,
  startHostB,
  startRoutingRelay,
  v1Message,
} from "./_relay.ts";
import type { Json } from "./_sdk.ts";

/**
 * A relay restarted while it forwards a turn of a conversation that waits for input (relay A in
 * front of relay B's echo, through a proxy that can go dark). The restarted relay re-attaches to
 * the upstream task and must keep the conversation on it: a turn that ends waiting for input
 * leaves its upstream task as the one the next message goes to, and a follow-up whose send was
 * lost before the restart is sent again instead of answered with the previous question.
 */

const PAIR = "pair-secret-between-a-and-b";
let b: RoutingRelay;
let proxy: DarkProxy;

const configA = (far: string) => hostAToml(far);

beforeAll(async () => {
  b = await startHostB(PAIR);
  proxy = await startDarkProxy(Number(new URL(b.url).port));
});
afterAll(async () => {
  proxy?.setDark(false);
  proxy?.stop();
  await b?.stop();
}, 30_000);

/** B's task `id` (history included). */
async function onB(id: string): Promise<Json> {
  const r = await b.rpc(
    "GetTask",
    { id, historyLength: 100 },
    { headers: { authorization: `Bearer ${PAIR}` } },
  );
  return r.body.result;
}

async function send(relay: RoutingRelay, text: string, message: object = {}, wait = true): Promise<Json> {
  const r = await relay.rpc(
    "SendMessage",
    { message: { ...v1Message(text), ...message }, configuration: { returnImmediately: !wait } },
    { path: "/a2a/far" },
  );
  expect(r.body.error).toBeUndefined();
  return r.body.result.task;
}

const settled = (relay: RoutingRelay, id: string): Promise<Json> =>
  until(
    async () => {
      const t = (await relay.rpc("GetTask", { id }, { path: "/a2a/far" })).body.result;
      const state = t?.status.state;
      return state === "TASK_STATE_WORKING" || state === "TASK_STATE_SUBMITTED" ? undefined : t;
    },
    20_000,
    `task ${id} to settle`,
  );

const userTexts = (t: Json): string[] =>
  (t.history ?? []).filter((m: Json) => m.role === "ROLE_USER").map((m: Json) => m.parts[0].text);

describe("a relay restarted during a conversation that waits for input", () => {
  let dir: string;
  let port: number;
  let a: RoutingRelay;
  const env = { A2A_OC_TOKEN_HOST_B: PAIR };
  const start = () => startRoutingRelay({ env, toml: configA(proxy.url), dir, port });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "a2a-restart-continued-"));
    port = freePort();
    a = await start();
  });
  afterAll(async () => {
    proxy.setDark(false);
    await a?.stop();
  });

  test("a resumed turn that ends waiting for input keeps its upstream task for the next message", async () => {
    const first = await send(a, "sleep:1500 ask: your name?", {}, false);
    // the upstream task is known (and written down) once B has taken the turn
    await until(
      async () =>
        (await a.rpc("GetTask", { id: first.id }, { path: "/a2a/far" })).body.result.metadata?.upstream
          ?.taskId,
      5000,
      "the upstream task to be known",
    );
    await a.halt();
    a = await start();
    const asked = await settled(a, first.id);
    expect(asked.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(asked.status.message.parts[0].text).toBe("your name?");
    const upstream = asked.metadata.upstream.taskId;

    const done = await send(a, "Ada", { taskId: first.id, contextId: first.contextId });
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
    expect(done.status.message.parts[0].text).toBe("Ada");
    // the follow-up went to the same upstream task, which now holds both messages
    const up = await onB(upstream);
    expect(up.status.state).toBe("TASK_STATE_COMPLETED");
    expect(userTexts(up)).toEqual(["sleep:1500 ask: your name?", "Ada"]);
  }, 30_000);

  test("a follow-up lost on a dark path before the restart is sent again after it", async () => {
    const first = await send(a, "ask: your colour?");
    expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const upstream = first.metadata.upstream.taskId;

    proxy.setDark(true);
    proxy.cut();
    await send(a, "blue", { taskId: first.id, contextId: first.contextId }, false);
    await Bun.sleep(700); // A tries, and re-attaches with backoff
    await a.halt();
    a = await start();
    await Bun.sleep(1000);
    expect(userTexts(await onBWhenLit(upstream))).toEqual(["ask: your colour?"]);

    const done = await settled(a, first.id);
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
    expect(done.status.message.parts[0].text).toBe("blue");
    expect(userTexts(await onB(upstream))).toEqual(["ask: your colour?", "blue"]);
  }, 30_000);
});

/** B's task read while the path is still dark for A (B itself is reachable directly), then lit. */
async function onBWhenLit(id: string): Promise<Json> {
  const t = await onB(id);
  proxy.setDark(false);
  return t;
}
