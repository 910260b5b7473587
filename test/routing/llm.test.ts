import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { currentRuntime } from "../../src/runtime/index.ts";
import type { Listener } from "../../src/runtime/types.ts";
import { type RoutingRelay, sseData, startRoutingRelay, v1Message } from "./_relay.ts";
import type { Json } from "./_sdk.ts";

/**
 * A tiny OpenAI-compatible chat-completions server: streams `you said: <last user text> (n
 * messages)` in three SSE chunks 60 ms apart, then usage and [DONE]. 401 without the right key.
 */
interface FakeModel {
  url: string;
  requests: Json[];
  stop(): Promise<void>;
}
function startFakeModel(key: string): FakeModel {
  const requests: Json[] = [];
  const enc = new TextEncoder();
  const l: Listener = currentRuntime().serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.headers.get("authorization") !== `Bearer ${key}`) {
        return Response.json({ error: { message: "Incorrect API key provided" } }, { status: 401 });
      }
      const body = (await req.json()) as Json;
      requests.push(body);
      const last = body.messages.at(-1).content;
      const chunks = ["you said: ", `${last} `, `(${body.messages.length} messages)`];
      const stream = new ReadableStream<Uint8Array>({
        async start(c) {
          for (const piece of chunks) {
            const ev = {
              id: "c1",
              object: "chat.completion.chunk",
              choices: [{ index: 0, delta: { content: piece } }],
            };
            c.enqueue(enc.encode(`data: ${JSON.stringify(ev)}\n\n`));
            await Bun.sleep(60);
          }
          const usage = { choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } };
          c.enqueue(enc.encode(`data: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`));
          c.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    },
  });
  return { url: `http://127.0.0.1:${l.port}/v1`, requests, stop: () => l.stop(true) };
}

let model: FakeModel;
let relay: RoutingRelay;
const toml = () => `
[profiles.chat]
handler = "llm"
base_url = "${model.url}"
api_key_env = "FAKE_OPENAI_KEY"
model = "tiny-1"
system_prompt = "You are terse."
max_tokens = 64
temperature = 0.2

[profiles.chat-badkey]
handler = "llm"
base_url = "${model.url}"
api_key_env = "WRONG_KEY"
model = "tiny-1"
`;
const env = { FAKE_OPENAI_KEY: "sk-fake-123", WRONG_KEY: "sk-wrong" };

beforeAll(async () => {
  model = startFakeModel("sk-fake-123");
  relay = await startRoutingRelay({ toml: toml(), env });
});
afterAll(async () => {
  await relay?.stop();
  await model?.stop();
});

describe("handler = llm (OpenAI-compatible chat completions)", () => {
  let contextId: string;

  test("streams tokens as WORKING progress, completes with the whole answer and usage", async () => {
    const r = await relay.rpc("SendStreamingMessage", { message: v1Message("hello") }, { path: "/a2a/chat" });
    const events = sseData(r.body).map((d) => d.result);
    contextId = events[0].task.contextId;
    const deltas = events
      .filter((e) => e.statusUpdate?.status.state === "TASK_STATE_WORKING" && e.statusUpdate.metadata?.delta)
      .map((e) => e.statusUpdate.status.message.parts[0].text);
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.join("")).toBe("you said: hello (2 messages)");
    const last = events.at(-1).statusUpdate;
    expect(last.status.state).toBe("TASK_STATE_COMPLETED");
    expect(last.status.message.parts[0].text).toBe("you said: hello (2 messages)");
    const req = model.requests.at(-1);
    expect(req.model).toBe("tiny-1");
    expect(req.stream).toBe(true);
    expect(req.max_tokens).toBe(64);
    expect(req.temperature).toBe(0.2);
    expect(req.messages[0]).toEqual({ role: "system", content: "You are terse." });
    const got = await relay.rpc("GetTask", { id: last.taskId }, { path: "/a2a/chat" });
    expect(got.body.result.metadata.usage).toMatchObject({ inputTokens: 11, outputTokens: 7 });
  });

  test("a second turn in the same context sends the history", async () => {
    const r = await relay.rpc(
      "SendMessage",
      { message: v1Message("again", { contextId }) },
      { path: "/a2a/chat" },
    );
    expect(r.body.result.task.status.message.parts[0].text).toBe("you said: again (4 messages)");
    expect(model.requests.at(-1).messages.map((m: Json) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "user",
    ]);
  });

  test("the history survives a relay restart on the same data dir", async () => {
    await relay.halt();
    relay = await startRoutingRelay({ toml: toml(), env, dir: relay.dir });
    const r = await relay.rpc(
      "SendMessage",
      { message: v1Message("third", { contextId }) },
      { path: "/a2a/chat" },
    );
    expect(r.body.result.task.status.message.parts[0].text).toBe("you said: third (6 messages)");
    expect(
      model.requests
        .at(-1)
        .messages.map((m: Json) => m.content)
        .slice(1, 5),
    ).toEqual(["hello", "you said: hello (2 messages)", "again", "you said: again (4 messages)"]);
  });

  test("another context starts with an empty history", async () => {
    const r = await relay.rpc("SendMessage", { message: v1Message("fresh") }, { path: "/a2a/chat" });
    expect(r.body.result.task.status.message.parts[0].text).toBe("you said: fresh (2 messages)");
  });

  test("a refused API key fails the turn with the endpoint's message, never the key", async () => {
    const r = await relay.rpc("SendMessage", { message: v1Message("x") }, { path: "/a2a/chat-badkey" });
    const t = r.body.result.task;
    expect(t.status.state).toBe("TASK_STATE_FAILED");
    expect(t.status.message.parts[0].text).toBe(
      "model endpoint answered HTTP 401: Incorrect API key provided",
    );
    expect(JSON.stringify(t)).not.toContain("sk-wrong");
  });
});
