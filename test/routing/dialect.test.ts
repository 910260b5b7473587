import { describe, expect, test } from "bun:test";
import { dialectOf } from "../../src/receivers/a2a/dialect.ts";
import { checkHops, nextHops, readHops } from "../../src/routing/hops.ts";
import { isSelfUrl } from "../../src/routing/self.ts";
import { bound } from "../../src/store/llm-history.ts";

const out = { messageId: "m1", parts: [{ text: "hi" }], contextId: "c1", taskId: "t1" };

describe("outbound dialects", () => {
  test("1.0: v1.0 names and shapes, A2A-Version header", () => {
    const d = dialectOf("1.0");
    expect(d.headers).toEqual({ "A2A-Version": "1.0" });
    expect([d.send, d.stream, d.get, d.cancel]).toEqual([
      "SendMessage",
      "SendStreamingMessage",
      "GetTask",
      "CancelTask",
    ]);
    expect(d.sendParams(out)).toEqual({
      configuration: { historyLength: 0 },
      message: { messageId: "m1", role: "ROLE_USER", parts: [{ text: "hi" }], contextId: "c1", taskId: "t1" },
    });
  });

  test("0.3: kind-tagged message out, kind-tagged events in", () => {
    const d = dialectOf("0.3");
    expect(d.headers).toEqual({});
    expect(d.stream).toBe("message/stream");
    expect(d.sendParams(out)).toEqual({
      configuration: { blocking: true, historyLength: 0 },
      message: {
        kind: "message",
        messageId: "m1",
        role: "user",
        parts: [{ kind: "text", text: "hi" }],
        contextId: "c1",
        taskId: "t1",
      },
    });
    expect(
      d.event({
        kind: "status-update",
        taskId: "t",
        contextId: "c",
        status: { state: "input-required" },
        final: true,
      }),
    ).toEqual({
      statusUpdate: { taskId: "t", contextId: "c", status: { state: "TASK_STATE_INPUT_REQUIRED" } },
    });
    const art = d.event({
      kind: "artifact-update",
      taskId: "t",
      contextId: "c",
      artifact: { artifactId: "a", parts: [{ kind: "data", data: { x: 1 } }] },
      lastChunk: true,
    });
    expect(art).toEqual({
      artifactUpdate: {
        taskId: "t",
        contextId: "c",
        artifact: { artifactId: "a", parts: [{ data: { x: 1 }, mediaType: "application/json" }] },
        lastChunk: true,
      },
    });
    expect(() => d.event({ kind: "nonsense" })).toThrow();
  });

  test("hermes-fleet: no messageId, text only; the answer must be kind message", () => {
    const d = dialectOf("hermes-fleet", () => "new-id");
    expect(d.stream).toBeUndefined();
    expect(d.sendParams({ ...out, parts: [{ text: "a" }, { text: "b" }] })).toEqual({
      message: { role: "user", parts: [{ text: "a\nb" }], contextId: "c1" },
    });
    expect(
      d.event({ kind: "message", message: { role: "agent", parts: [{ text: "ok" }], contextId: "k" } }),
    ).toEqual({
      message: { messageId: "new-id", role: "ROLE_AGENT", parts: [{ text: "ok" }], contextId: "k" },
    });
    expect(() => d.event({ kind: "task", id: "x" })).toThrow();
  });

  test("1.0 events are validated: garbage is refused", () => {
    const d = dialectOf("1.0");
    expect(() => d.event({ hello: 1 })).toThrow();
    expect(() =>
      d.event({ statusUpdate: { taskId: "t", contextId: "c", status: { state: "DONE" } } }),
    ).toThrow();
  });
});

describe("hops", () => {
  test("absent is 0; malformed is a bad request; over the limit is HOP_LIMIT", () => {
    expect(readHops(undefined)).toBe(0);
    expect(readHops(" 3 ")).toBe(3);
    expect(() => readHops("-1")).toThrow();
    expect(() => readHops("lots")).toThrow();
    expect(() => checkHops(4, 4)).not.toThrow();
    try {
      checkHops(5, 4);
      throw new Error("no throw");
    } catch (e) {
      expect((e as { code: number; status: number }).code).toBe(-32044);
      expect((e as { status: number }).status).toBe(508);
    }
    expect(nextHops(undefined)).toEqual({ "A2A-Relay-Hops": "1" });
    expect(nextHops(2)).toEqual({ "A2A-Relay-Hops": "3" });
  });

  test("self detection treats loopback spellings alike", () => {
    const self = { id: "me", origins: () => ["http://127.0.0.1:9200"] };
    expect(isSelfUrl("http://localhost:9200/a2a/x", self)).toBe(true);
    expect(isSelfUrl("http://127.0.0.1:9201/a2a/x", self)).toBe(false);
    expect(isSelfUrl("https://other.example:9200", self)).toBe(false);
  });
});

describe("llm history bound", () => {
  const m = (role: "user" | "assistant", content: string) => ({ role, content });
  test("drops the oldest whole exchanges first", () => {
    const h = [m("user", "a"), m("assistant", "b"), m("user", "c"), m("assistant", "d")];
    expect(bound(h, { maxMessages: 2, maxChars: 1000 })).toEqual([m("user", "c"), m("assistant", "d")]);
    expect(bound(h, { maxMessages: 10, maxChars: 2 })).toEqual([m("user", "c"), m("assistant", "d")]);
    expect(bound(h, { maxMessages: 10, maxChars: 1000 })).toEqual(h);
  });
});
