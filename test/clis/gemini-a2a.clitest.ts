import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../helpers/binary.ts";
import { type FakeModel, FILE, startFakeModel, V1 } from "../helpers/fake-model.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { type GeminiA2a, startGeminiA2a } from "./gemini-a2a.ts";

/**
 * A real A2A coding agent behind the relay (issue 21): Google's Gemini CLI A2A server
 * (@google/gemini-cli-a2a-server 0.25.2, A2A v0.3 JSON-RPC) against the suite's fake model, which
 * makes it write notes.txt in its workspace. One server auto-approves its tools (YOLO), one asks.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers
type Json = any;
let model: FakeModel;
let yolo: GeminiA2a;
let asks: GeminiA2a;
let r: TestRelay;

beforeAll(async () => {
  model = await startFakeModel("ok");
  [yolo, asks] = await Promise.all([
    startGeminiA2a({ modelUrl: model.url, yolo: true }),
    startGeminiA2a({ modelUrl: model.url, yolo: false }),
  ]);
  const profile = (name: string, url: string) =>
    `[profiles.${name}]\nhandler = "a2a"\nurl = "${url}"\nprotocol = "0.3"\nbinding = "jsonrpc"\nturn_timeout_s = 120\n`;
  r = await startTestRelay({ toml: `${profile("gem", yolo.url)}\n${profile("gem-ask", asks.url)}` });
}, 240_000);

afterAll(async () => {
  await r?.stop();
  await Promise.all([yolo?.stop(), asks?.stop()]);
  await model?.close();
});

const notes = (ws: string) => join(ws, FILE);
const frames = (body: unknown): Json[] =>
  String(body)
    .split("\n")
    .filter((l) => l.startsWith("data:"))
    .map((l) => JSON.parse(l.slice(5)).result);
/** The tool-call data parts of a stream's status updates. */
const toolCalls = (fs: Json[]) =>
  fs
    .flatMap((f) => f.statusUpdate?.status?.message?.parts ?? [])
    .filter((p: Json) => p.data?.request?.callId);

describe("Gemini CLI A2A server behind the relay", () => {
  test("blocking v1.0 SendMessage: the result is the agent's answer, and the file is in its workspace", async () => {
    rmSync(notes(yolo.workspace), { force: true });
    const { body } = await r.rpc(
      "SendMessage",
      { message: userMessage("please create the notes file") },
      { path: "/a2a/gem" },
    );
    const task = body.result.task;
    // the server ends every turn input-required (it can always be continued), its answer said before
    expect(task.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(task.status.message.parts.map((p: Json) => p.text).join("")).toBe(`created ${FILE}`);
    expect(readFileSync(notes(yolo.workspace), "utf8")).toBe(V1);
    expect(task.metadata.upstream.taskId).toBeString();
    expect(task.metadata.usage).toBeUndefined(); // it reports none: unknown, not zero
  }, 120_000);

  test("a stream carries the tool call as data parts (validating … success) before the answer", async () => {
    rmSync(notes(yolo.workspace), { force: true });
    const { body } = await r.rpc(
      "SendStreamingMessage",
      { message: userMessage("stream the notes file") },
      { path: "/a2a/gem" },
    );
    const fs = frames(body);
    const calls = toolCalls(fs);
    expect(calls.length).toBeGreaterThan(2);
    expect(calls[0].data.request.name).toBe("write_file");
    expect(calls.map((p: Json) => p.data.status)).toContain("success");
    const last = fs.at(-1);
    expect(last.statusUpdate.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(last.statusUpdate.status.message.parts[0].text).toBe(`created ${FILE}`);
    expect(existsSync(notes(yolo.workspace))).toBe(true);
  }, 120_000);

  test("approvals: the request reaches the caller as the upstream sent it, the caller's data part approves it", async () => {
    rmSync(notes(asks.workspace), { force: true });
    const first = (
      await r.rpc("SendMessage", { message: userMessage("write it, asking first") }, { path: "/a2a/gem-ask" })
    ).body.result.task;
    expect(first.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const ask = first.status.message.parts[0].data;
    expect(ask.status).toBe("awaiting_approval");
    expect(ask.confirmationDetails.type).toBe("edit");
    expect(existsSync(notes(asks.workspace))).toBe(false);
    const approval = {
      data: { callId: ask.request.callId, outcome: "proceed_once" },
      mediaType: "application/json",
    };
    const second = (
      await r.rpc(
        "SendMessage",
        { message: userMessage("", { taskId: first.id, parts: [approval] }) },
        { path: "/a2a/gem-ask" },
      )
    ).body.result.task;
    expect(second.id).toBe(first.id);
    expect(second.status.message.parts.map((p: Json) => p.text).join("")).toBe(`created ${FILE}`);
    expect(readFileSync(notes(asks.workspace), "utf8")).toBe(V1);
    // the approval reached the upstream as sent: the same task, the data part unchanged
    expect(second.metadata.upstream.taskId).toBe(first.metadata.upstream.taskId);
  }, 120_000);

  test("--context keeps the conversation: a new relay task in the context continues the upstream task", async () => {
    const contextId = `ctx-${crypto.randomUUID()}`;
    const a = (
      await r.rpc(
        "SendMessage",
        { message: userMessage("first NOTOOL turn", { contextId }) },
        { path: "/a2a/gem" },
      )
    ).body.result.task;
    const b = (
      await r.rpc(
        "SendMessage",
        { message: userMessage("second NOTOOL turn", { contextId }) },
        { path: "/a2a/gem" },
      )
    ).body.result.task;
    expect(b.id).not.toBe(a.id);
    expect(b.metadata.upstream.taskId).toBe(a.metadata.upstream.taskId);
    // the model saw the first turn in the second's conversation
    const seen = model.requests.filter((q) => q.prompt.includes("second NOTOOL turn")).at(-1)!;
    expect(seen.body).toContain("first NOTOOL turn");
  }, 120_000);

  test("cancel on a follow-up turn reaches the upstream task", async () => {
    const first = (await r.rpc("SendMessage", { message: userMessage("start NOTOOL") }, { path: "/a2a/gem" }))
      .body.result.task;
    const upstreamId = first.metadata.upstream.taskId;
    const second = (
      await r.rpc(
        "SendMessage",
        {
          message: userMessage("now HOLD-MODEL and think", { taskId: first.id }),
          configuration: { returnImmediately: true },
        },
        { path: "/a2a/gem" },
      )
    ).body.result.task;
    await waitFor(
      () => model.requests.some((q) => q.prompt.includes("HOLD-MODEL")),
      30_000,
      "the model request",
    );
    const canceled = (await r.rpc("CancelTask", { id: second.id }, { path: "/a2a/gem" })).body.result;
    expect(canceled.status.state).toBe("TASK_STATE_CANCELED");
    expect(canceled.metadata.upstream.taskId).toBe(upstreamId);
    const upstream = await waitFor(
      async () => {
        const res = await fetch(yolo.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks/get", params: { id: upstreamId } }),
        });
        const t = ((await res.json()) as Json).result;
        return t?.status?.state === "canceled" ? t : undefined;
      },
      10_000,
      "the upstream task to be canceled",
    );
    expect(upstream.id).toBe(upstreamId);
    expect(yolo.log()).toContain("Received cancel request");
  }, 120_000);

  test("POST /send/<profile> answers with the agent's text", async () => {
    const res = await fetch(`${r.url}/send/gem`, {
      method: "POST",
      headers: { "content-type": "text/plain", authorization: `Bearer ${r.token}` },
      body: "make the notes file via send",
    });
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe(`created ${FILE}`);
  }, 120_000);
});
