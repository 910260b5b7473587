import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/** The structured brief end to end on an in-process relay (echo answers with the brief's context). */

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay();
});
afterAll(async () => {
  await r.stop();
});

const SCHEMA = {
  type: "object",
  required: ["files", "summary"],
  properties: { files: { type: "integer", minimum: 1 }, summary: { type: "string" } },
  additionalProperties: false,
};

function withBrief(text: string, brief: unknown) {
  return userMessage(text, {
    parts: [{ text }, { data: brief, mediaType: "application/json" }],
  });
}

async function taskCount(): Promise<number> {
  const { body } = await r.rpc("ListTasks", {});
  return body.result.totalSize;
}

describe("validation at the edge", () => {
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ["deadline_s", { context: "c", expected_output: "e", deadline_s: -1 }, "brief.deadline_s"],
    ["deadline_s type", { context: "c", expected_output: "e", deadline_s: "soon" }, "brief.deadline_s"],
    ["expected_output missing", { context: "c" }, "brief.expected_output"],
    ["context empty", { context: " ", expected_output: "e" }, "brief.context"],
    ["reply_to", { context: "c", expected_output: "e", reply_to: "ftp://x" }, "brief.reply_to"],
    ["unknown field", { context: "c", expected_output: "e", deadline: 5 }, "brief.deadline"],
    ["bad schema", { context: "c", expected_output: { type: "strng" } }, "brief.expected_output"],
  ];
  for (const [name, brief, field] of bad) {
    test(`${name}: -32602 naming ${field}, and no task is created`, async () => {
      const before = await taskCount();
      const { body } = await r.rpc("SendMessage", { message: withBrief("do it", brief) });
      expect(body.error.code).toBe(-32602);
      expect(body.error.message).toStartWith(`${field}: `);
      expect(await taskCount()).toBe(before);
    });
  }

  test("metadata.brief is validated too (v0.3 dialect)", async () => {
    const before = await taskCount();
    const message = {
      kind: "message",
      messageId: crypto.randomUUID(),
      role: "user",
      parts: [{ kind: "text", text: "x" }],
      metadata: { brief: { context: "c", expected_output: "e", deadline_s: 0 } },
    };
    const { body } = await r.rpc("message/send", { message }, { headers: { "a2a-version": "0.3" } });
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toStartWith("brief.deadline_s: ");
    expect(await taskCount()).toBe(before);
  });

  test("the REST door refuses a bad brief the same way", async () => {
    const res = await fetch(`${r.url}/a2a/echo/message:send`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        authorization: `Bearer ${r.token}`,
      },
      body: JSON.stringify({ message: withBrief("x", { context: "c", expected_output: "e", reply_to: 5 }) }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("brief.reply_to");
  });
});

describe("a valid brief", () => {
  test("reaches the receiver (echo answers with its context); reply_to lands in task metadata", async () => {
    const brief = { context: "the brief arrived", expected_output: "a word", reply_to: "relay:echo" };
    const { body } = await r.rpc("SendMessage", { message: withBrief("hello", brief) });
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.artifacts[0].parts[0].text).toBe("the brief arrived");
    expect(task.metadata.brief).toEqual({ reply_to: "relay:echo" });
  });

  test("metadata.brief works like a data part", async () => {
    const brief = { context: "from metadata", expected_output: "anything" };
    const { body } = await r.rpc("SendMessage", { message: userMessage("hi", { metadata: { brief } }) });
    expect(body.result.task.artifacts[0].parts[0].text).toBe("from metadata");
  });

  test("an answer that meets the expected_output schema comes back as a `result` data artifact", async () => {
    const answer = 'Done.\n```json\n{"files": 2, "summary": "fixed"}\n```';
    const { body } = await r.rpc("SendMessage", {
      message: withBrief("go", { context: answer, expected_output: SCHEMA }),
    });
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.artifacts).toHaveLength(1);
    expect(task.artifacts[0].name).toBe("result");
    expect(task.artifacts[0].parts).toEqual([
      { data: { files: 2, summary: "fixed" }, mediaType: "application/json" },
    ]);
  });

  test("an answer that does not meet the schema fails the task with the errors", async () => {
    const answer = 'Here you go: {"files": 0, "extra": true}';
    const { body } = await r.rpc("SendMessage", {
      message: withBrief("go", { context: answer, expected_output: SCHEMA }),
    });
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    const text = task.status.message.parts.map((p: { text: string }) => p.text).join("\n");
    expect(text).toContain("does not match the JSON Schema");
    expect(text).toContain("/files: 0 is less than 1");
    expect(text).toContain('(root): Instance does not have required property "summary"');
    expect(text).toContain('Property "extra" does not match additional properties schema');
    expect(text).toContain("the agent's answer");
    expect(task.artifacts ?? []).toHaveLength(0);
  });

  test("an answer with no JSON fails the task saying so", async () => {
    const { body } = await r.rpc("SendMessage", {
      message: withBrief("go", { context: "just prose, sorry", expected_output: SCHEMA }),
    });
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    expect(task.status.message.parts[0].text).toContain("the answer contains no JSON");
  });

  test("deadline_s shorter than the turn stops it (turn_timeout_s is 300)", async () => {
    expect(r.config.profiles.echo?.turn_timeout_s).toBe(300);
    const t0 = Date.now();
    const { body } = await r.rpc("SendMessage", {
      message: withBrief("sleep:3000 slow", { context: "c", expected_output: "e", deadline_s: 0.5 }),
    });
    const ms = Date.now() - t0;
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    expect(task.status.message.parts[0].text).toContain("turn exceeded the brief's deadline_s (0.5 s)");
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(1500);
  });
});
