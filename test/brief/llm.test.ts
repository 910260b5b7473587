import { afterAll, beforeAll, expect, test } from "bun:test";
import { currentRuntime } from "../../src/runtime/index.ts";
import type { Listener } from "../../src/runtime/types.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/**
 * The llm receiver gets the rendered brief as its prompt, and the relay validates the model's
 * answer against the brief's JSON Schema. A tiny OpenAI-compatible endpoint (non-streaming)
 * answers with the `answer` the test sets.
 */

// biome-ignore lint/suspicious/noExplicitAny: wire JSON
const requests: any[] = [];
let answer = "";
let model: Listener;
let r: TestRelay;

beforeAll(async () => {
  model = currentRuntime().serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      requests.push(await req.json());
      return Response.json({
        choices: [{ message: { role: "assistant", content: answer } }],
        usage: { prompt_tokens: 5, completion_tokens: 3 },
      });
    },
  });
  r = await startTestRelay({
    toml: `[profiles.chat]\nhandler = "llm"\nbase_url = "http://127.0.0.1:${model.port}/v1"\nmodel = "tiny-1"\n`,
  });
});
afterAll(async () => {
  await r?.stop();
  await model?.stop(true);
});

const SCHEMA = { type: "object", required: ["verdict"], properties: { verdict: { enum: ["pass", "fail"] } } };

function send(expected_output: unknown) {
  const brief = { context: "review PR 7", expected_output };
  const message = userMessage("please review", {
    parts: [{ text: "please review" }, { data: brief, mediaType: "application/json" }],
  });
  return r.rpc("SendMessage", { message }, { path: "/a2a/chat" });
}

test("the model's prompt is the rendered brief; a conforming answer becomes the result artifact", async () => {
  answer = 'Looks fine.\n```json\n{"verdict": "pass"}\n```';
  const { body } = await send(SCHEMA);
  const task = body.result.task;
  expect(task.status.state).toBe("TASK_STATE_COMPLETED");
  expect(task.artifacts).toEqual([
    expect.objectContaining({
      name: "result",
      parts: [{ data: { verdict: "pass" }, mediaType: "application/json" }],
    }),
  ]);
  const prompt: string = requests.at(-1).messages.at(-1).content;
  expect(prompt.startsWith("please review\n\n--- brief ---\nContext:\nreview PR 7\n")).toBe(true);
  expect(prompt).toContain('"verdict"');
});

test("a non-conforming model answer fails the task with the validation error", async () => {
  answer = '```json\n{"verdict": "maybe"}\n```';
  const { body } = await send(SCHEMA);
  const task = body.result.task;
  expect(task.status.state).toBe("TASK_STATE_FAILED");
  expect(task.status.message.parts[0].text).toContain("/verdict:");
});
