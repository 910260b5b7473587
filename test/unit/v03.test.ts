import { describe, expect, test } from "bun:test";
import { hermesAnswer, isHermesFleet, messageFromHermes } from "../../src/a2a/hermes.ts";
import type { Message, Task } from "../../src/a2a/types.ts";
import { TASK_STATES } from "../../src/a2a/types.ts";
import {
  eventToV03,
  MessageV03,
  messageFromV03,
  messageToV03,
  sendParamsFromV03,
  stateFromV03,
  stateToV03,
  taskFromV03,
  taskToV03,
} from "../../src/a2a/v03.ts";

const msg: Message = {
  messageId: "m1",
  role: "ROLE_USER",
  contextId: "c1",
  taskId: "t1",
  parts: [
    { text: "hello" },
    { data: { a: 1 }, mediaType: "application/json" },
    { raw: "aGk=", mediaType: "text/plain", filename: "hi.txt" },
    { url: "https://x/y.png", mediaType: "image/png" },
  ],
  metadata: { k: "v" },
};

describe("v0.3 translation", () => {
  test("every state round-trips", () => {
    for (const s of TASK_STATES) expect(stateFromV03(stateToV03(s))).toBe(s);
  });

  test("messages round-trip through the v0.3 shape", () => {
    const v03 = messageToV03(msg);
    expect(v03.kind).toBe("message");
    expect(v03.role).toBe("user");
    expect((v03.parts as Array<{ kind: string }>).map((p) => p.kind)).toEqual([
      "text",
      "data",
      "file",
      "file",
    ]);
    expect(messageFromV03(MessageV03.parse(v03))).toEqual(msg);
  });

  test("tasks round-trip", () => {
    const task: Task = {
      id: "t1",
      contextId: "c1",
      status: { state: "TASK_STATE_INPUT_REQUIRED", timestamp: "2026-01-01T00:00:00.000Z" },
      artifacts: [{ artifactId: "a1", name: "response", parts: [{ text: "x" }] }],
      history: [msg],
    };
    const v03 = taskToV03(task);
    expect(v03.kind).toBe("task");
    expect((v03.status as { state: string }).state).toBe("input-required");
    expect(taskFromV03(v03)).toEqual(task);
  });

  test("status updates carry final only when the task settles", () => {
    const base = { taskId: "t", contextId: "c" };
    const working = eventToV03({ statusUpdate: { ...base, status: { state: "TASK_STATE_WORKING" } } });
    const done = eventToV03({ statusUpdate: { ...base, status: { state: "TASK_STATE_COMPLETED" } } });
    expect(working).toMatchObject({ kind: "status-update", final: false });
    expect(done).toMatchObject({ kind: "status-update", final: true });
  });

  test("blocking=false becomes returnImmediately", () => {
    const p = sendParamsFromV03({
      message: { messageId: "m", role: "user", parts: [{ kind: "text", text: "x" }] },
      configuration: { blocking: false, historyLength: 2 },
    });
    expect(p.configuration).toEqual({ returnImmediately: true, historyLength: 2 });
  });
});

describe("Hermes fleet dialect", () => {
  test("is recognised only header-less, on send methods, without messageId", () => {
    const params = { message: { role: "user", parts: [{ text: "x" }] } };
    expect(isHermesFleet(undefined, "SendMessage", params)).toBe(true);
    expect(isHermesFleet(undefined, "message/send", params)).toBe(true);
    expect(isHermesFleet("1.0", "SendMessage", params)).toBe(false);
    expect(isHermesFleet(undefined, "GetTask", params)).toBe(false);
    expect(isHermesFleet(undefined, "SendMessage", { message: { ...params.message, messageId: "m" } })).toBe(
      false,
    );
  });

  test("takes the first text part and answers with a direct message", () => {
    const m = messageFromHermes(
      { message: { parts: [{ kind: "x" }, { text: "first" }, { text: "second" }], contextId: "c9" } },
      () => "id",
    );
    expect(m).toEqual({ messageId: "id", role: "ROLE_USER", parts: [{ text: "first" }], contextId: "c9" });
    const answer = hermesAnswer({
      id: "t",
      contextId: "c9",
      status: { state: "TASK_STATE_COMPLETED" },
      artifacts: [{ artifactId: "a", parts: [{ text: "done" }] }],
    });
    expect(answer).toEqual({
      kind: "message",
      message: { role: "agent", parts: [{ text: "done" }], contextId: "c9" },
    });
  });
});
