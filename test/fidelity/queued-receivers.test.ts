import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../helpers/binary.ts";
import { type QueuedReceiver, startQueuedReceiver } from "../helpers/queued-process.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { freePort, sseData } from "../routing/_relay.ts";

/**
 * a2a_fleet's queued receivers behind the relay (issue 14, item 9): the receiver acknowledges with
 * "… [queued]", the relay task stays WORKING, and the receiver's post-back (another process, to
 * `/a2a/<profile>/jsonrpc` as the profile's `reply_peer`) settles it, across a relay restart too.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
type Json = any;
const LOCAL = "local-token-queued-0123456789abcdef";
const OC = "oc-receiver-token-0123456789abcdef";
let receiver: QueuedReceiver;
let r: TestRelay;
let port: number;

const toml = (url: string) => `
[peers.local]
profiles = ["*"]
admin = true
[peers.oc-receiver]
profiles = []
[profiles.oc]
handler = "a2a"
url = "${url}/jsonrpc"
protocol = "hermes-fleet"
reply_peer = "oc-receiver"
turn_timeout_s = 30
[profiles.oc-short]
handler = "a2a"
url = "${url}/jsonrpc"
protocol = "hermes-fleet"
reply_peer = "oc-receiver"
turn_timeout_s = 1
[profiles.oc-mid]
handler = "a2a"
url = "${url}/jsonrpc"
protocol = "hermes-fleet"
reply_peer = "oc-receiver"
turn_timeout_s = 4
`;
const env = { A2A_OC_TOKEN_LOCAL: LOCAL, A2A_OC_TOKEN_OC_RECEIVER: OC };

beforeAll(async () => {
  port = freePort();
  receiver = await startQueuedReceiver({ hermesUrl: `http://127.0.0.1:${port}/a2a/oc/jsonrpc`, token: OC });
  r = await startTestRelay({ port, toml: toml(receiver.url), env });
});
afterAll(async () => {
  await r?.stop();
  receiver?.stop();
});

/** A fleet-dialect request as the a2a_fleet client and receivers send it. */
async function fleet(
  path: string,
  role: string,
  text: string,
  contextId?: string,
  token = LOCAL,
): Promise<Json> {
  const res = await fetch(`${r.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: crypto.randomUUID(),
      method: "SendMessage",
      params: { message: { role, parts: [{ text }], ...(contextId ? { contextId } : {}) } },
    }),
  });
  return { status: res.status, body: await res.json() };
}

describe("a queued receiver behind a hermes-fleet profile", () => {
  test("blocking v1.0 send: WORKING with the acknowledgement, then COMPLETED with the post-back's answer", async () => {
    const sent = await r.rpc("SendMessage", { message: userMessage("build the thing") }, { path: "/a2a/oc" });
    const task = sent.body.result.task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.status.message.parts[0].text).toBe("done: build the thing");
    expect(task.artifacts[0].parts[0].text).toBe("done: build the thing");
    const log = await receiver.log();
    const got = log.received.find((x) => x.text === "build the thing")!;
    expect(got.contextId).toBe(task.metadata.upstream.contextId);
    // the receiver notes the post-back's status once the relay's answer reaches it
    const statuses = await waitFor(
      async () => {
        const s = (await receiver.log()).postbacks
          .filter((p) => p.contextId === got.contextId)
          .map((p) => p.status);
        return s.length ? s : undefined;
      },
      5000,
      "the receiver to log its post-back",
    );
    expect(statuses).toEqual([200]);
  });

  test("a stream shows the acknowledgement as progress, then the answer", async () => {
    const { body } = await r.rpc(
      "SendStreamingMessage",
      { message: userMessage("stream it") },
      { path: "/a2a/oc" },
    );
    const frames = sseData(String(body)).map((f) => f.result);
    const texts = frames.map((f) => f.statusUpdate?.status?.message?.parts?.[0]?.text).filter(Boolean);
    expect(texts[0]).toEndWith("Reply will follow. [queued]");
    expect(frames.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
    expect(texts.at(-1)).toBe("done: stream it");
  });

  test("the a2a_fleet client's own request shape gets the real answer, not the acknowledgement", async () => {
    const { status, body } = await fleet("/a2a/oc/jsonrpc", "user", "from the fleet client", "fleet-ctx-1");
    expect(status).toBe(200);
    expect(body.result).toEqual({
      kind: "message",
      message: { role: "agent", parts: [{ text: "done: from the fleet client" }], contextId: "fleet-ctx-1" },
    });
  });

  test("a [busy] post-back fails the task naming the busy receiver (CONTEXT_BUSY)", async () => {
    const task = (await r.rpc("SendMessage", { message: userMessage("busy please") }, { path: "/a2a/oc" }))
      .body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    expect(task.status.message.parts[0].text).toContain("queued receiver was busy");
    expect(task.status.message.parts[0].text).toContain("[busy] this context is processing another turn");
    expect(task.metadata.error).toEqual({ code: -32043, reason: "CONTEXT_BUSY" });
  });

  test("a fleet node's -32001 (a turn already in flight) becomes -32043 CONTEXT_BUSY", async () => {
    const task = (await r.rpc("SendMessage", { message: userMessage("dup dispatch") }, { path: "/a2a/oc" }))
      .body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    expect(task.metadata.error.code).toBe(-32043);
    expect(task.metadata.error.reason).toBe("CONTEXT_BUSY");
  });

  test("agent messages that settle nothing are refused with -32602 and run nothing", async () => {
    const before = (await r.rpc("ListTasks", {}, { path: "/a2a" })).body.result.totalSize;
    // the reply peer, but no task waits in that context
    const stray = await fleet("/a2a/oc/jsonrpc", "agent", "who asked?", "no-such-ctx", OC);
    expect(stray.body.error.code).toBe(-32602);
    expect(stray.body.error.message).toContain("no task on profile");
    // another peer cannot post back
    const other = await fleet("/a2a/oc/jsonrpc", "agent", "not mine", "no-such-ctx");
    expect(other.body.error.code).toBe(-32602);
    // the reply peer may not send turns of its own
    const turn = await fleet("/a2a/oc/jsonrpc", "user", "a turn of my own", undefined, OC);
    expect(turn.status).toBe(403);
    expect((await r.rpc("ListTasks", {}, { path: "/a2a" })).body.result.totalSize).toBe(before);
  });

  test("the turn cap still applies while waiting; a late post-back is answered and not run", async () => {
    const task = (
      await r.rpc("SendMessage", { message: userMessage("hold too long") }, { path: "/a2a/oc-short" })
    ).body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    expect(task.status.message.parts[0].text).toContain("turn exceeded");
    // says what the relay saw: an acknowledgement, then no post-back (not an upstream task state)
    expect(task.status.message.parts[0].text).toContain("acknowledged the turn and posted no answer back");
    expect(task.status.message.parts[0].text).not.toContain("TASK_STATE_SUBMITTED");
    const ctx = (await receiver.log()).received.find((x) => x.text === "hold too long")!.contextId;
    // the profile's reply URL is /a2a/oc: post back to oc-short's by hand, as its receiver would
    const late = await fleet("/a2a/oc-short/jsonrpc", "agent", "done: hold too long", ctx, OC);
    expect(late.status).toBe(200);
    expect(late.body.result.message.parts[0].text).toContain("after the task had ended");
    const after = (await r.rpc("GetTask", { id: task.id }, { path: "/a2a" })).body.result;
    expect(after.status.state).toBe("TASK_STATE_FAILED");
  });

  test("a task waiting for its post-back survives a relay restart; the post-back settles it after", async () => {
    const task = (
      await r.rpc(
        "SendMessage",
        { message: userMessage("hold over a restart"), configuration: { returnImmediately: true } },
        { path: "/a2a/oc" },
      )
    ).body.result.task;
    const ctx = await waitFor(
      async () => (await receiver.log()).received.find((x) => x.text === "hold over a restart")?.contextId,
      5000,
      "the receiver to get the dispatch",
    );
    await waitFor(
      async () =>
        (
          await r.rpc("GetTask", { id: task.id }, { path: "/a2a" })
        ).body.result.status.message?.parts[0].text.endsWith("[queued]"),
      5000,
      "the acknowledgement to be recorded",
    );
    // a subscriber does not hold the stop: the turn is left for the next process, its stream ends
    const sub = await fetch(`${r.url}/a2a`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${LOCAL}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "SubscribeToTask", params: { id: task.id } }),
    });
    const streamed = sub.text();
    const t0 = Date.now();
    await r.halt();
    expect(Date.now() - t0).toBeLessThan(3_000);
    const frames = sseData(await streamed).map((f) => f.result);
    expect(frames.map((f) => f.task?.status.state ?? f.statusUpdate?.status.state)).toEqual([
      "TASK_STATE_WORKING",
    ]);
    r = await startTestRelay({ port, dir: r.dir, toml: toml(receiver.url), env });
    expect((await r.rpc("GetTask", { id: task.id }, { path: "/a2a" })).body.result.status.state).toBe(
      "TASK_STATE_WORKING",
    );
    expect(await receiver.release(ctx as string)).toBe(true);
    const done = await completed(r, task.id);
    expect(done.status.message.parts[0].text).toBe("done: hold over a restart");
    expect(done.artifacts[0].parts[0].text).toBe("done: hold over a restart");
  });

  test("a post-back that never comes after a restart: the turn cap's failure says so", async () => {
    const task = (
      await r.rpc(
        "SendMessage",
        { message: userMessage("hold, never released"), configuration: { returnImmediately: true } },
        { path: "/a2a/oc-mid" },
      )
    ).body.result.task;
    await waitFor(
      async () =>
        (
          await r.rpc("GetTask", { id: task.id }, { path: "/a2a" })
        ).body.result.status.message?.parts[0].text.endsWith("[queued]"),
      3000,
      "the acknowledgement to be recorded",
    );
    await r.halt();
    r = await startTestRelay({ port, dir: r.dir, toml: toml(receiver.url), env });
    const failed = await waitFor(
      async () => {
        const t = (await r.rpc("GetTask", { id: task.id }, { path: "/a2a" })).body.result;
        return t.status.state === "TASK_STATE_FAILED" ? t : undefined;
      },
      8000,
      "the turn cap",
    );
    const text: string = failed.status.message.parts[0].text;
    expect(text).toContain("counted from before the restart");
    expect(text).toContain("acknowledged the turn and posted no answer back");
  });

  test("a relay stopped while blocking callers wait for post-backs answers them and exits", async () => {
    const v1 = r.rpc("SendMessage", { message: userMessage("hold for a v1.0 caller") }, { path: "/a2a/oc" });
    const fleetCaller = fleet("/a2a/oc/jsonrpc", "user", "hold for a fleet caller");
    const plain = fetch(`${r.url}/send/oc`, {
      method: "POST",
      headers: { authorization: `Bearer ${LOCAL}` },
      body: "hold for a /send caller",
    });
    const ctxs = await waitFor(
      async () => {
        const got = (await receiver.log()).received;
        const a = got.find((x) => x.text === "hold for a v1.0 caller")?.contextId;
        const b = got.find((x) => x.text === "hold for a fleet caller")?.contextId;
        const c = got.find((x) => x.text === "hold for a /send caller")?.contextId;
        return a && b && c ? [a, b, c] : undefined;
      },
      5000,
      "the receiver to get both dispatches",
    );
    await Bun.sleep(200); // the acknowledgements recorded: both turns wait for their post-backs
    const t0 = Date.now();
    await r.halt();
    expect(Date.now() - t0).toBeLessThan(5_000);
    // the v1.0 caller gets the task as it stands, to follow later
    const task = (await v1).body.result.task;
    expect(task.status.state).toBe("TASK_STATE_WORKING");
    // the fleet caller cannot follow a task: a JSON-RPC error that says what happened and where
    const { status, body: f } = await fleetCaller;
    // HTTP 200, as the plugin's client shows a JSON-RPC error whole (other statuses it cuts short)
    expect(status).toBe(200);
    expect(f.error.code).toBe(-32049);
    expect(f.error.message).toContain("relay stopped");
    expect(f.error.message).toMatch(/tasks get \S+/);
    // /send: 202 (accepted, not done) with the task's id and state
    const sent = await plain;
    expect(sent.status).toBe(202);
    expect(sent.headers.get("a2a-task-state")).toBe("working");
    // the next process settles both with the post-backs
    r = await startTestRelay({ port, dir: r.dir, toml: toml(receiver.url), env });
    for (const c of ctxs) expect(await receiver.release(c)).toBe(true);
    const done = await completed(r, task.id);
    expect(done.status.message.parts[0].text).toBe("done: hold for a v1.0 caller");
  }, 20_000);

  test("a post-back with another peer's credential is refused naming the reply_peer it needs", async () => {
    const task = (
      await r.rpc(
        "SendMessage",
        {
          message: userMessage("hold for a misconfigured post-back"),
          configuration: { returnImmediately: true },
        },
        { path: "/a2a/oc-mid" },
      )
    ).body.result.task;
    const ctx = await waitFor(
      async () =>
        (await receiver.log()).received.find((x) => x.text === "hold for a misconfigured post-back")
          ?.contextId,
      5000,
      "the receiver to get the dispatch",
    );
    await Bun.sleep(200); // the acknowledgement recorded: the task waits for its post-back
    // the receiver configured with the calling peer's token instead of its own
    const wrong = await fleet("/a2a/oc-mid/jsonrpc", "agent", "done: forged", ctx, LOCAL);
    expect(wrong.body.error.code).toBe(-32602);
    expect(wrong.body.error.message).toContain(`task ${task.id}`);
    expect(wrong.body.error.message).toContain('reply_peer "oc-receiver", not from peer "local"');
    // the task still waits; at its turn cap its failure names the refused post-back
    const failed = await waitFor(
      async () => {
        const t = (await r.rpc("GetTask", { id: task.id }, { path: "/a2a" })).body.result;
        return t.status.state === "TASK_STATE_FAILED" ? t : undefined;
      },
      8000,
      "the turn cap",
    );
    expect(failed.status.message.parts[0].text).toContain('a post-back came as peer "local"');
  });
});

/** The task once a post-back has completed it (within 5 s). */
function completed(relay: TestRelay, id: string) {
  return waitFor(
    async () => {
      const t = (await relay.rpc("GetTask", { id }, { path: "/a2a" })).body.result;
      return t.status.state === "TASK_STATE_COMPLETED" ? t : undefined;
    },
    5000,
    "the post-back to settle the task",
  );
}
