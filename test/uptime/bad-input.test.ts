import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/**
 * Issue 15 (6): bad input gets a clean, typed error before any turn runs. Each case counts the
 * peer's tasks before and after: a refused request must not have created (or charged) a turn.
 */

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay();
});
afterAll(() => r.stop());

async function taskCount(): Promise<number> {
  const { body } = await r.rpc("ListTasks", {});
  expect(body.error).toBeUndefined();
  return body.result.totalSize as number;
}

/** Run `fn` and check it ran no turn. */
async function noTurn<T>(fn: () => Promise<T>): Promise<T> {
  const before = await taskCount();
  const out = await fn();
  expect(await taskCount()).toBe(before);
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
const json = (res: Response): Promise<any> => res.json();

const auth = () => ({ authorization: `Bearer ${r.token}` });

describe("ids with control characters", () => {
  test("POST /send/echo?context=a%0Ab is a 400 naming `context`, and runs no turn", async () => {
    const res = await noTurn(() =>
      fetch(`${r.url}/send/echo?context=a%0Ab`, { method: "POST", headers: auth(), body: "hello" }),
    );
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain("context");
    expect(text).toContain("INVALID_PARAMS");
  });

  test("a /send context the response header cannot carry is refused before the turn", async () => {
    const res = await noTurn(() =>
      fetch(`${r.url}/send/echo?context=${encodeURIComponent("日本")}`, {
        method: "POST",
        headers: auth(),
        body: "hello",
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("context");
  });

  test("a plain /send context still works", async () => {
    const res = await fetch(`${r.url}/send/echo?context=ctx-1`, {
      method: "POST",
      headers: auth(),
      body: "hello",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("a2a-context-id")).toBe("ctx-1");
  });

  test.each([
    ["contextId", { contextId: "a\nb" }],
    ["taskId", { taskId: "t\r\n" }],
    ["messageId", { messageId: "m\u0000" }],
  ])("SendMessage with a control character in %s is -32602 naming the field", async (field, extra) => {
    const { body } = await noTurn(() => r.rpc("SendMessage", { message: userMessage("x", extra) }));
    expect(body.error?.code).toBe(-32602);
    expect(body.error.message).toContain(`message.${field}`);
  });

  test("the v0.3 dialect refuses them too", async () => {
    const msg = {
      kind: "message",
      messageId: "ok-id",
      role: "user",
      parts: [{ kind: "text", text: "x" }],
      contextId: "a\u0085b",
    };
    const { body } = await noTurn(() =>
      r.rpc("message/send", { message: msg }, { headers: { "a2a-version": "0.3" } }),
    );
    expect(body.error?.code).toBe(-32602);
    expect(body.error.message).toContain("message.contextId");
  });

  test("REST message:send with a control character in contextId is a 400", async () => {
    const res = await noTurn(() =>
      fetch(`${r.url}/a2a/echo/message:send`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0" },
        body: JSON.stringify({ message: userMessage("x", { contextId: "a\tb" }) }),
      }),
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(await json(res))).toContain("contextId");
  });
});

describe("names that must not reach object prototypes", () => {
  test.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "JSON-RPC method %s is -32601",
    async (method) => {
      for (const version of ["1.0", "0.3"]) {
        const { status, body } = await r.rpc(method, {}, { headers: { "a2a-version": version } });
        expect(status).toBe(200);
        expect(body.error?.code).toBe(-32601);
        expect(body.error.message).toContain(method);
      }
    },
  );

  test.each(["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty"])(
    "GET /a2a/%s/.well-known/agent-card.json is a 404",
    async (name) => {
      const res = await fetch(`${r.url}/a2a/${name}/.well-known/agent-card.json`);
      expect(res.status).toBe(404);
      expect(JSON.stringify(await json(res))).toContain("unknown profile");
    },
  );

  test("a profile named like a prototype property is not found on the JSON-RPC and REST doors", async () => {
    const { body } = await noTurn(() =>
      r.rpc("SendMessage", { message: userMessage("x") }, { path: "/a2a/constructor" }),
    );
    expect(body.error?.code).toBe(-32040);
    const res = await fetch(`${r.url}/a2a/__proto__/tasks`, { headers: { ...auth(), "a2a-version": "1.0" } });
    expect(res.status).toBe(404);
  });
});

describe("malformed percent-encoding", () => {
  test("GET /a2a/echo/tasks/%E0%A4%A is a 400 that says so", async () => {
    const res = await fetch(`${r.url}/a2a/echo/tasks/%E0%A4%A`, {
      headers: { ...auth(), "a2a-version": "1.0" },
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.message).toContain("percent-encoded");
    expect(body.error.details[0].reason).toBe("INVALID_PARAMS");
  });

  test("the same in a push config id", async () => {
    const res = await fetch(`${r.url}/a2a/echo/tasks/t1/pushNotificationConfigs/%C3%28%`, {
      headers: { ...auth(), "a2a-version": "1.0" },
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toContain("percent-encoded");
  });
});

describe("depth limit on JSON bodies", () => {
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
  const sendBody = (metadata: string) =>
    `{"jsonrpc":"2.0","id":"deep","method":"SendMessage","params":{"message":{"messageId":"${crypto.randomUUID()}","role":"ROLE_USER","parts":[{"text":"x"}],"metadata":{"m":${metadata}}}}}`;

  test("100,000 nested arrays in message.metadata: -32600 naming the limit, no turn", async () => {
    const res = await noTurn(() =>
      fetch(`${r.url}/a2a/echo`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0" },
        body: sendBody(deep(100_000)),
      }),
    );
    const body = await json(res);
    expect(body.id).toBe("deep");
    expect(body.error.code).toBe(-32600);
    expect(body.error.message).toContain("64");
  });

  test("REST: a 400 naming the limit", async () => {
    const res = await noTurn(() =>
      fetch(`${r.url}/a2a/echo/message:send`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0" },
        body: `{"message":{"messageId":"d1","role":"ROLE_USER","parts":[{"text":"x"}],"metadata":{"m":${deep(100_000)}}}}`,
      }),
    );
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.message).toContain("64");
    expect(body.error.details[0].reason).toBe("BODY_TOO_DEEP");
  });

  test("the limit counts levels: 64 pass, 65 do not", async () => {
    // envelope {…} → params → message → metadata: 4 levels, then the arrays
    const ok = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0" },
      body: sendBody(deep(60)),
    });
    expect((await json(ok)).result?.task?.status?.state).toBe("TASK_STATE_COMPLETED");
    const over = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0" },
      body: sendBody(deep(61)),
    });
    expect((await json(over)).error?.code).toBe(-32600);
  });
});
