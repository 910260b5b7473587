import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { until } from "../helpers/until.ts";
import { freePort, type RoutingRelay, sseData, startRoutingRelay, v1Message } from "./_relay.ts";
import { type Json, resultJson, sdkClientFor, sdkSend } from "./_sdk.ts";

// One shared secret per pair of relays: A sends it to B as A2A_OC_TOKEN_HOST_B (B's id), B knows
// it as peer host-a's token (A2A_OC_TOKEN_HOST_A), and the other way round.
const PAIR = "pair-secret-between-a-and-b";
let a: RoutingRelay;
let b: RoutingRelay;

beforeAll(async () => {
  const portA = freePort();
  b = await startRoutingRelay({
    env: { A2A_OC_TOKEN_HOST_A: PAIR },
    toml: `
[server]
id = "host-b"
[peers.host-a]
profiles = ["*"]
[profiles.echo]
handler = "echo"
[profiles.back]
remote = "http://127.0.0.1:${portA}"
remote_profile = "far-loop"
auth = "token"
`,
  });
  a = await startRoutingRelay({
    port: portA,
    env: { A2A_OC_TOKEN_HOST_B: PAIR },
    toml: `
[server]
id = "host-a"
[peers.host-b]
profiles = ["*"]
[profiles.far]
remote = "${b.url}"
remote_profile = "echo"
auth = "token"
[profiles.far-loop]
remote = "${b.url}"
remote_profile = "back"
auth = "token"
[profiles.me]
remote = "http://127.0.0.1:${portA}"
remote_profile = "far"
auth = "token"
`,
  });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

/** JSON-RPC to B as peer host-a (what A presents). */
async function onB(method: string, params: unknown): Promise<Json> {
  const r = await b.rpc(method, params, { headers: { authorization: `Bearer ${PAIR}` } });
  return r.body;
}

describe("A's remote profile → B's echo profile", () => {
  test("blocking send through the hop (SDK client on A)", async () => {
    const c = await sdkClientFor(`${a.url}/a2a/far/`, a.token);
    const t = resultJson(await c.sendMessage(sdkSend("over the hop"))).task;
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.status.message.parts[0].text).toBe("over the hop");
    expect(t.metadata.upstream.url).toBe(`${b.url}/a2a/echo`);
    // B recorded the task as peer host-a's
    const onb = await onB("GetTask", { id: t.metadata.upstream.taskId });
    expect(onb.result.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("streaming: B's progress reaches A's caller while the turn runs, then the final state", async () => {
    const t0 = Date.now();
    const res = await fetch(`${a.url}/a2a/far`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        authorization: `Bearer ${a.token}`,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendStreamingMessage",
        params: { message: v1Message("sleep:400 streamed") },
      }),
    });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    const arrivals: Array<{ at: number; e: Json }> = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      const frames = buf.split("\n\n");
      buf = frames.pop()!;
      for (const f of frames)
        for (const d of sseData(`${f}\n\n`)) arrivals.push({ at: Date.now() - t0, e: d.result });
    }
    const progress = arrivals.find(
      (x) => x.e.statusUpdate?.status.message?.parts[0].text === "echo: waiting 400 ms",
    );
    const last = arrivals.at(-1)!;
    expect(progress).toBeDefined();
    expect(last.e.statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
    // the progress event was delivered well before the end, not buffered until it
    expect(last.at - progress!.at).toBeGreaterThan(250);
  });

  test("cancel on A cancels B's task", async () => {
    const r = await a.rpc(
      "SendMessage",
      { message: v1Message("sleep:20000 long"), configuration: { returnImmediately: true } },
      { path: "/a2a/far" },
    );
    const id = r.body.result.task.id;
    const upstream: string = await until(
      async () => (await onB("ListTasks", { status: "TASK_STATE_WORKING" })).result.tasks[0]?.id,
      5000,
      "the upstream task on B",
    );
    const c = await a.rpc("CancelTask", { id }, { path: "/a2a/far" });
    expect(c.body.result.status.state).toBe("TASK_STATE_CANCELED");
    const onb = await onB("GetTask", { id: upstream });
    expect(onb.result.status.state).toBe("TASK_STATE_CANCELED");
  });

  test("an A→B→A loop ends with HOP_LIMIT (-32044) instead of running forever", async () => {
    const t0 = Date.now();
    const r = await a.rpc("SendMessage", { message: v1Message("loop") }, { path: "/a2a/far-loop" });
    const t = r.body.result.task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toContain("-32044 HOP_LIMIT");
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("a request already over max_hops is refused with -32044 and HTTP 508 before any task", async () => {
    const before = (await a.rpc("ListTasks", {}, { path: "/a2a/far" })).body.result.totalSize;
    const r = await a.rpc(
      "SendMessage",
      { message: v1Message("x") },
      { path: "/a2a/far", headers: { "A2A-Relay-Hops": "5" } },
    );
    expect(r.status).toBe(508);
    expect(r.body.error.code).toBe(-32044);
    expect(r.body.error.data[0].reason).toBe("HOP_LIMIT");
    const after = (await a.rpc("ListTasks", {}, { path: "/a2a/far" })).body.result.totalSize;
    expect(after).toBe(before);
  });

  test("a relay never forwards to itself", async () => {
    const r = await a.rpc("SendMessage", { message: v1Message("x") }, { path: "/a2a/me" });
    const t = r.body.result.task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toContain("this relay itself");
    expect(t.metadata.error.code).toBe(-32044);
  });
});

describe("B down", () => {
  test("A's turn fails with 'upstream unavailable' within a few seconds; A still answers GetTask", async () => {
    const done = (await a.rpc("SendMessage", { message: v1Message("before") }, { path: "/a2a/far" })).body
      .result.task;
    await b.halt();
    const t0 = Date.now();
    const r = await a.rpc("SendMessage", { message: v1Message("anyone?") }, { path: "/a2a/far" });
    const t = r.body.result.task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toStartWith("upstream unavailable");
    expect(Date.now() - t0).toBeLessThan(3000);
    const got = await a.rpc("GetTask", { id: done.id }, { path: "/a2a/far" });
    expect(got.body.result.status.state).toBe("TASK_STATE_COMPLETED");
    expect(got.body.result.status.message.parts[0].text).toBe("before");
  });
});
