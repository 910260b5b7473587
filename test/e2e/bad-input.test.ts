import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RelayProcess, startBinary, stopAll, waitFor } from "../helpers/binary.ts";
import { metric, post, type RpcReply, rpc, stream, taskCount, userMessage } from "./_client.ts";

/** Bad input against the compiled binary: exact JSON-RPC codes, and never a task row left behind. */

const LIMIT = 2048;
let r: RelayProcess;
beforeAll(async () => {
  r = await startBinary({ toml: `[server]\nmax_body_bytes = ${LIMIT}\n` });
}, 60_000);
afterAll(stopAll);

/** Run `fn`, check it created no task, return its reply. */
async function noTask(fn: () => Promise<RpcReply>): Promise<RpcReply> {
  const before = await taskCount(r);
  const reply = await fn();
  expect(await taskCount(r)).toBe(before);
  return reply;
}

const send = (message: unknown) =>
  JSON.stringify({ jsonrpc: "2.0", id: 1, method: "SendMessage", params: { message } });

describe("JSON-RPC envelope", () => {
  test("malformed JSON is -32700", async () => {
    const { body } = await noTask(() => post(r, '{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{'));
    expect(body.error.code).toBe(-32700);
    expect(body.id).toBeNull();
  });

  test.each([
    ["a string", '"SendMessage"'],
    ["a number", "42"],
    ["null", "null"],
    [
      "wrong jsonrpc",
      JSON.stringify({ jsonrpc: "1.0", id: 3, method: "SendMessage", params: { message: userMessage("x") } }),
    ],
    ["no method", JSON.stringify({ jsonrpc: "2.0", id: 3, params: {} })],
    ["a batch", `[${send(userMessage("in a batch"))}]`],
  ])("%s is -32600", async (_, raw) => {
    const { body } = await noTask(() => post(r, raw));
    expect(body.error.code).toBe(-32600);
  });

  test("an unknown method is -32601", async () => {
    const { body } = await noTask(() => rpc(r, "Frobnicate", { message: userMessage("x") }, { id: "u1" }));
    expect(body.error.code).toBe(-32601);
    expect(body.id).toBe("u1");
  });

  test("params failing the schema are -32602 naming the path", async () => {
    const empty = await noTask(() => rpc(r, "SendMessage", { message: { ...userMessage("x"), parts: [] } }));
    expect(empty.body.error.code).toBe(-32602);
    expect(empty.body.error.message).toContain("message.parts");
    const role = await noTask(() =>
      rpc(r, "SendMessage", { message: { ...userMessage("x"), role: "ROLE_BOSS" } }),
    );
    expect(role.body.error.code).toBe(-32602);
    expect(role.body.error.message).toContain("message.role");
    const v03 = await noTask(() =>
      rpc(
        r,
        "message/send",
        { message: { messageId: "m", role: "user", parts: [{ kind: "txt" }] } },
        { version: null },
      ),
    );
    expect(v03.body.error.code).toBe(-32602);
    expect(v03.body.error.message).toContain("message.parts.0");
  });
});

describe("HTTP level", () => {
  test(`a body over max_body_bytes (${LIMIT}) is 413`, async () => {
    const big = send(userMessage("x".repeat(LIMIT * 2)));
    const reply = await noTask(() => post(r, big));
    expect(reply.status).toBe(413);
    expect(reply.body.error.data[0].reason).toBe("BODY_TOO_LARGE");
  });

  test("a chunked body with no content-length is cut off at the limit: 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0)
          c.enqueue(
            new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"x":"'),
          );
        // 8 MiB in all: far past the limit; a relay that buffered it whole would still answer, but late
        if (sent++ > 8 * 1024) return c.close();
        c.enqueue(chunk);
      },
    });
    const reply = await noTask(() => post(r, body, { headers: { "transfer-encoding": "chunked" } }));
    expect(reply.status).toBe(413);
  });

  test("a non-JSON content type is -32005", async () => {
    const { status, body } = await noTask(() =>
      post(r, send(userMessage("x")), { headers: { "content-type": "text/plain" } }),
    );
    expect(status).toBe(415);
    expect(body.error.code).toBe(-32005);
  });

  test("an unsupported A2A-Version is -32009", async () => {
    const { body } = await noTask(() => post(r, send(userMessage("x")), { version: "2.0" }));
    expect(body.error.code).toBe(-32009);
  });

  test("no credential is 401 with WWW-Authenticate", async () => {
    const before = await taskCount(r);
    const res = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: send(userMessage("x")),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(await taskCount(r)).toBe(before);
  });
});

describe("relay and task errors", () => {
  test("an unknown profile is -32040 listing the allowed profiles", async () => {
    const v1 = await noTask(() =>
      rpc(r, "SendMessage", { message: userMessage("x") }, { path: "/a2a/nope" }),
    );
    expect(v1.body.error.code).toBe(-32040);
    expect(v1.body.error.data[0]).toMatchObject({
      reason: "PROFILE_NOT_FOUND",
      metadata: { profiles: "echo" },
    });
    const v03 = await noTask(() =>
      rpc(
        r,
        "message/send",
        { message: { messageId: "m", role: "user", parts: [{ kind: "text", text: "x" }] } },
        {
          path: "/a2a/nope",
          version: null,
        },
      ),
    );
    expect(v03.body.error.code).toBe(-32040);
    expect(v03.body.error.data.profiles).toEqual(["echo"]);
  });

  test.each(["GetTask", "CancelTask", "SubscribeToTask"])(
    "%s of an unknown task is -32001",
    async (method) => {
      const { body } = await noTask(() => rpc(r, method, { id: "no-such-task" }));
      expect(body.error.code).toBe(-32001);
    },
  );

  test("continuing an unknown taskId is -32001", async () => {
    const { body } = await noTask(() =>
      rpc(r, "SendMessage", { message: userMessage("x", { taskId: "no-such-task" }) }),
    );
    expect(body.error.code).toBe(-32001);
  });
});

describe("a client that drops its SSE stream", () => {
  test("leaves no stuck task and no subscriber behind", async () => {
    const ac = new AbortController();
    const res = await stream(
      r,
      "SendStreamingMessage",
      { message: userMessage("sleep:1500 dropped") },
      { signal: ac.signal },
    );
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const taskId = JSON.parse(
      first
        .split("\n")
        .find((l) => l.startsWith("data:"))!
        .slice(5),
    ).result.task.id;
    expect(await metric(r, "a2a_relay_subscribers")).toBeGreaterThan(0);
    ac.abort();
    await reader.cancel().catch(() => {});
    // the relay notices the drop while the turn still runs, not only when it ends
    await waitFor(
      async () => (await metric(r, "a2a_relay_subscribers")) === 0,
      1_000,
      "subscribers to drop to 0",
    );
    expect((await rpc(r, "GetTask", { id: taskId })).body.result.status.state).toBe("TASK_STATE_WORKING");
    const done = await waitFor(
      async () => {
        const { body } = await rpc(r, "GetTask", { id: taskId });
        return body.result.status.state === "TASK_STATE_COMPLETED" ? body.result : undefined;
      },
      5_000,
      "the task to complete",
    );
    expect(done.artifacts[0].parts[0].text).toBe("dropped");
  });

  test("a blocking SendMessage whose client goes away leaves no subscriber; the task still completes", async () => {
    const ac = new AbortController();
    const call = rpc(
      r,
      "SendMessage",
      { message: userMessage("sleep:1500 abandoned") },
      { signal: ac.signal },
    );
    const id = await waitFor(
      async () => {
        const l = await rpc(r, "ListTasks", { status: "TASK_STATE_WORKING" }, { path: "/a2a" });
        return l.body.result.tasks[0]?.id as string | undefined;
      },
      3_000,
      "the turn to start",
    );
    await waitFor(
      async () => ((await metric(r, "a2a_relay_subscribers")) ?? 0) > 0,
      3_000,
      "the wait to subscribe",
    );
    ac.abort();
    await call.catch(() => {});
    await waitFor(
      async () => (await metric(r, "a2a_relay_subscribers")) === 0,
      1_000,
      "subscribers to drop to 0",
    );
    expect((await rpc(r, "GetTask", { id })).body.result.status.state).toBe("TASK_STATE_WORKING");
    await waitFor(
      async () => (await rpc(r, "GetTask", { id })).body.result.status.state === "TASK_STATE_COMPLETED",
      3_000,
      "the task to complete",
    );
  });
});
