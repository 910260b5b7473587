import { describe, expect, test } from "bun:test";
import { follow } from "../../src/receivers/a2a/attach.ts";
import { dialectOf } from "../../src/receivers/a2a/dialect.ts";
import { Progress } from "../../src/receivers/a2a/fold.ts";
import { UpstreamError } from "../../src/receivers/a2a/http.ts";
import type { Wire } from "../../src/receivers/a2a/wire.ts";

/**
 * Re-attaching a continued turn (its upstream task known from the previous turn, which ended
 * waiting for input) after its send failed: whether the upstream task's history holds this turn's
 * message decides between sending it again and taking the task's state as the turn's answer.
 */

const UP = "up-task-1";
const SENT = "m-2.relay-task-1";
const msg = (id: string, role: "ROLE_USER" | "ROLE_AGENT", text: string) => ({
  messageId: id,
  role,
  parts: [{ text }],
});
const waiting = (history: object[], question: string) => ({
  task: {
    id: UP,
    contextId: "ctx",
    status: { state: "TASK_STATE_INPUT_REQUIRED", message: msg("q", "ROLE_AGENT", question) },
    history,
  },
});
const completed = {
  task: {
    id: UP,
    contextId: "ctx",
    status: { state: "TASK_STATE_COMPLETED", message: msg("a", "ROLE_AGENT", "got: Ada") },
  },
};
const refused = () =>
  new UpstreamError(
    "upstream unavailable: connection refused",
    "unavailable",
    undefined,
    undefined,
    "connect",
  );

/** A wire whose first send fails to connect, then answers from `snapshot` and `answer`. */
function wire(snapshot: object, answer: object) {
  const calls: string[] = [];
  const w: Wire = {
    send: async () => {
      calls.push("send");
      return answer;
    },
    stream: async function* () {
      calls.push("stream");
      if (calls.filter((c) => c === "stream").length === 1) throw refused();
      yield answer;
    },
    get: async () => {
      calls.push("get");
      return (snapshot as { task: object }).task; // GetTask answers the bare Task
    },
    cancel: undefined,
    subscribe: async function* () {
      calls.push("subscribe");
      yield snapshot;
    },
  };
  return { w, calls };
}

function leg(w: Wire) {
  const st = new Progress("http://up", "1.0");
  st.taskId = UP; // continued: known before this turn's message is delivered
  const emit = { progress() {}, artifact() {} };
  return {
    d: dialectOf("1.0"),
    wire: w,
    params: { message: { messageId: SENT } },
    st,
    emit,
    signal: new AbortController().signal,
    stream: true,
    backoffMs: [1],
    messageId: SENT,
  };
}

describe("re-attaching a continued turn after its send failed", () => {
  test("the task still waits with the old question and lacks the message: it is sent again", async () => {
    const before = waiting([msg("m-1.relay-task-1", "ROLE_USER", "ask: name?")], "name?");
    const { w, calls } = wire(before, completed);
    const r = await follow(leg(w));
    expect(r.state).toBe("TASK_STATE_COMPLETED");
    expect(calls).toEqual(["stream", "subscribe", "stream"]);
  });

  test("the message is in the task's history: its new question is the turn's answer, nothing re-sent", async () => {
    const after = waiting(
      [msg("m-1.relay-task-1", "ROLE_USER", "ask: name?"), msg(SENT, "ROLE_USER", "ask: age?")],
      "age?",
    );
    const { w, calls } = wire(after, completed);
    const r = await follow(leg(w));
    expect(r.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(r.parts).toEqual([{ text: "age?" }]);
    expect(calls).toEqual(["stream", "subscribe"]);
  });

  test("an upstream that sends no history: the state it shows is taken as it stands", async () => {
    const { w, calls } = wire(waiting([], "name?"), completed);
    const r = await follow(leg(w));
    expect(r.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(calls).toEqual(["stream", "subscribe"]);
  });

  test("not resubscribable: GetTask's history decides the same way", async () => {
    const before = waiting([msg("m-1.relay-task-1", "ROLE_USER", "ask: name?")], "name?");
    const { w, calls } = wire(before, completed);
    const r = await follow(leg({ ...w, subscribe: undefined }));
    expect(r.state).toBe("TASK_STATE_COMPLETED");
    expect(calls).toEqual(["stream", "get", "stream"]);
  });
});
