import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { currentRuntime } from "../../src/runtime/index.ts";
import type { Listener } from "../../src/runtime/types.ts";
import { type RoutingRelay, startRoutingRelay, v1Message } from "./_relay.ts";
import type { Json } from "./_sdk.ts";

/**
 * An upstream that streams an artifact in chunks and then sends it whole under the same id with
 * `append: false`: what Google's ADK (`@google/adk` 2.0, `toA2a`) streams for every model answer,
 * frame for frame as recorded from it (a partial text, then the full text replacing it, then a
 * final status with no message). The answer is that text once. The relay took every chunk as
 * more text, and answered "created notes.txt" twice.
 *
 * And one that streams its text as appended chunks ending in an empty last chunk, as the Strands
 * Agents server (`@strands-agents/sdk` 1.19) does: the answer is the text in one part. It was a
 * part per chunk, which the Strands client (and any that joins parts with newlines) showed as
 * "created notes.txt\n", and a token stream as a word per line. The task's artifact keeps the
 * chunks as parts, as the SDK's own task store does.
 */

const TEXT = "created notes.txt";
let up: Listener;
let relay: RoutingRelay;

function adkFrames(taskId: string, contextId: string, id: unknown): string {
  const artifact = (append: boolean, lastChunk: boolean) => ({
    kind: "artifact-update",
    taskId,
    contextId,
    append,
    lastChunk,
    artifact: { artifactId: "art-1", parts: [{ kind: "text", text: TEXT }] },
    metadata: { adk_author: "adk_helper", adk_partial: !lastChunk },
  });
  const events = [
    { kind: "task", id: taskId, contextId, history: [], status: { state: "submitted" } },
    { kind: "status-update", taskId, contextId, final: false, status: { state: "working" } },
    artifact(true, false),
    artifact(false, true),
    { kind: "status-update", taskId, contextId, final: true, status: { state: "completed" } },
  ];
  return events.map((result) => `data: ${JSON.stringify({ jsonrpc: "2.0", id, result })}\n\n`).join("");
}

/** Strands' frames for one answer, the text cut into `chunks`. */
function tokenFrames(taskId: string, contextId: string, id: unknown, chunks: string[]): string {
  const artifact = (text: string, i: number, last: boolean) => ({
    kind: "artifact-update",
    taskId,
    contextId,
    append: i > 0,
    ...(last ? { lastChunk: true } : {}),
    artifact: { artifactId: "art-t", parts: [{ kind: "text", text }] },
  });
  const events = [
    { kind: "task", id: taskId, contextId, history: [], status: { state: "working" } },
    ...chunks.map((c, i) => artifact(c, i, false)),
    artifact("", chunks.length, true),
    { kind: "status-update", taskId, contextId, final: true, status: { state: "completed" } },
  ];
  return events.map((result) => `data: ${JSON.stringify({ jsonrpc: "2.0", id, result })}\n\n`).join("");
}

beforeAll(async () => {
  up = await currentRuntime().serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      if (req.method !== "POST") return new Response("not found", { status: 404 });
      const body = (await req.json()) as Json;
      const taskId = `up-${crypto.randomUUID()}`;
      const contextId = body.params?.message?.contextId ?? `ctx-${crypto.randomUUID()}`;
      if (body.method === "message/stream" && new URL(req.url).pathname === "/tokens")
        return new Response(tokenFrames(taskId, contextId, body.id, ["created ", "notes", ".txt"]), {
          headers: { "content-type": "text/event-stream" },
        });
      if (body.method === "message/stream")
        return new Response(adkFrames(taskId, contextId, body.id), {
          headers: { "content-type": "text/event-stream" },
        });
      // message/send: the settled task as ADK returns it (the chunks merged into one artifact)
      return Response.json({
        jsonrpc: "2.0",
        id: body.id,
        result: {
          kind: "task",
          id: taskId,
          contextId,
          status: { state: "completed" },
          artifacts: [{ artifactId: "art-1", parts: [{ kind: "text", text: TEXT }] }],
        },
      });
    },
  });
  relay = await startRoutingRelay({
    toml: `
[profiles.adk]
handler = "a2a"
url = "http://127.0.0.1:${up.port}/jsonrpc"
protocol = "0.3"
[profiles.tokens]
handler = "a2a"
url = "http://127.0.0.1:${up.port}/tokens"
protocol = "0.3"
`,
  });
});
afterAll(async () => {
  await relay.stop();
  await up.stop();
});

describe("an artifact streamed in chunks, then whole (append: false)", () => {
  test("a blocking SendMessage answers with the text once, in the answer and in the artifact", async () => {
    const { body } = await relay.rpc("SendMessage", { message: v1Message("hi") }, { path: "/a2a/adk" });
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.status.message.parts).toEqual([{ text: TEXT }]);
    expect(task.artifacts).toHaveLength(1);
    expect(task.artifacts[0].parts).toEqual([{ text: TEXT }]);
  });

  test("the plain-text door prints it once", async () => {
    const res = await fetch(`${relay.url}/send/adk`, {
      method: "POST",
      headers: { authorization: `Bearer ${relay.token}`, "content-type": "text/plain" },
      body: "hi",
    });
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe(TEXT);
  });
});

describe("a text streamed as appended chunks, the last one empty (Strands Agents)", () => {
  test("the answer is the whole text in one part; the artifact keeps the chunks as sent", async () => {
    const { body } = await relay.rpc("SendMessage", { message: v1Message("hi") }, { path: "/a2a/tokens" });
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.status.message.parts).toEqual([{ text: TEXT }]);
    expect(task.artifacts).toHaveLength(1);
    expect(task.artifacts[0].parts.map((p: { text: string }) => p.text).join("")).toBe(TEXT);
  });
});
