import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startAgentRelay } from "../helpers/agent-relay.ts";
import type { TestRelay } from "../helpers/relay.ts";
import { eventJson, type Json, resultJson, sdkClientFor, sdkSend } from "../routing/_sdk.ts";

/**
 * What VoltAgent's A2A server (`@voltagent/a2a-server` 2.0.3) sends, replayed without the package
 * (test/clis/voltagent.clitest.ts runs the real one). Its tasks have no `kind`; its stream is a
 * task snapshot per event (WORKING, the text so far as the status message, COMPLETED), each
 * event's data starting with an RS (U+001E), which is not JSON. Agent `quiet` stands for one
 * without streaming (-32601 to `message/stream`): the relay's blocking send gets the untagged task.
 */

const TASK = "7e7f0706-0ac8-48dd-becd-80cd8d141f46";
const CTX = "bf24d6d8-0314-46a8-a5f3-7a3afa3e0096";
let volt: ReturnType<typeof Bun.serve>;
let r: TestRelay;

const agentMessage = (text: string) => ({
  kind: "message",
  role: "agent",
  messageId: "96a3f89d",
  parts: [{ kind: "text", text }],
  taskId: TASK,
  contextId: CTX,
});
// VoltAgent's task record: no `kind`
const task = (state: string, text?: string) => ({
  id: TASK,
  contextId: CTX,
  history: [
    {
      kind: "message",
      messageId: "m1",
      role: "user",
      parts: [{ kind: "text", text: "hi" }],
      taskId: TASK,
      contextId: CTX,
    },
    ...(text !== undefined ? [agentMessage(text)] : []),
  ],
  status: { state, ...(text !== undefined ? { message: agentMessage(text) } : {}) },
  ...(state === "completed"
    ? { metadata: { finishReason: "stop", usage: { promptTokens: 123, completionTokens: 7 } } }
    : {}),
});

beforeAll(async () => {
  volt = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      // its cards are elsewhere (`/.well-known/{agent}/agent-card.json`): the relay finds none
      if (req.method !== "POST") return new Response("404 Not Found", { status: 404 });
      const agent = new URL(req.url).pathname.split("/").at(-1);
      const { id, method } = (await req.json()) as { id: unknown; method: string };
      const answer = (result: unknown) => ({ jsonrpc: "2.0", id, result });
      if (method === "message/send") return Response.json(answer(task("completed", "created notes.txt")));
      if (method !== "message/stream" || agent === "quiet") {
        return Response.json({
          jsonrpc: "2.0",
          id,
          error: { code: -32601, message: `Unknown method '${method}'` },
        });
      }
      const frames = [
        task("working"),
        task("working", ""),
        task("working", "created notes.txt"),
        task("completed", "created notes.txt"),
      ];
      const body = frames.map((t) => `data: \u001e${JSON.stringify(answer(t))}\n\n`).join("");
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  });
  const url = (agent: string) => `http://127.0.0.1:${volt.port}/a2a/${agent}`;
  r = await startAgentRelay({
    volt: { url: url("helper"), protocol: "0.3" },
    quiet: { url: url("quiet"), protocol: "0.3" },
    v1: { url: url("helper") },
  });
});
afterAll(async () => {
  await r.stop();
  volt.stop(true);
});

describe("a VoltAgent agent behind an a2a profile", () => {
  test("its RS-prefixed stream of untagged tasks ends COMPLETED with the text, sent or streamed", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/volt/`, r.token);
    const sent = resultJson(await c.sendMessage(sdkSend("hi"))).task;
    expect(sent.status.state).toBe("TASK_STATE_COMPLETED");
    expect(sent.status.message.parts).toEqual([{ text: "created notes.txt" }]);
    expect(sent.metadata.upstream.taskId).toBe(TASK);
    const events: Json[] = [];
    for await (const e of c.sendMessageStream(sdkSend("hi"))) events.push(eventJson(e));
    expect(events.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
    expect(events.at(-1).statusUpdate.status.message.parts).toEqual([{ text: "created notes.txt" }]);
  });

  test("without streaming, its message/send answer (an untagged task) is the turn's answer", async () => {
    const c = await sdkClientFor(`${r.url}/a2a/quiet/`, r.token);
    const t = resultJson(await c.sendMessage(sdkSend("hi"))).task;
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.status.message.parts).toEqual([{ text: "created notes.txt" }]);
  });

  test("behind a profile at protocol 1.0, its -32601 comes with the fix", async () => {
    const { body } = await r.rpc(
      "SendMessage",
      { message: { messageId: "m-v1", role: "ROLE_USER", parts: [{ text: "hi" }] } },
      { path: "/a2a/v1" },
    );
    expect(body.result.task.status.state).toBe("TASK_STATE_FAILED");
    expect(body.result.task.status.message.parts[0].text).toBe(
      `upstream error -32601: Unknown method 'SendMessage'; it knows no A2A v1.0 method: set protocol = "0.3" on profiles.v1`,
    );
  });
});
