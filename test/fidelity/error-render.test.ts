import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/**
 * Errors are rendered in one place per binding (http/errors.ts): the same RelayError is a
 * JSON-RPC error, a google.rpc.Status or a line of text, with statuses from one table.
 */

let r: TestRelay;
beforeAll(async () => {
  r = await startTestRelay({
    toml: `
[server]
max_body_bytes = 4096
[peers.local]
profiles = ["echo"]
default_profile = "echo"
[profiles.echo]
handler = "echo"
`,
    env: { A2A_OC_TOKEN_LOCAL: "local-token-0123456789abcdef" },
  });
});
afterAll(async () => {
  await r.stop();
});

/** The error body of either binding (JSON-RPC `error.data`, HTTP+JSON `error.details`). */
const errorOf = async (res: Response) =>
  (await res.json()) as {
    error: { code: number; data: Array<{ reason: string }>; details: Array<{ reason: string }> };
  };
const auth = () => ({ authorization: `Bearer ${r.token}` });
const rpcBody = (extra = "") =>
  JSON.stringify({
    jsonrpc: "2.0",
    id: "e1",
    method: "SendMessage",
    params: { message: { ...userMessage("hello"), metadata: { pad: extra } } },
  });

describe("one error, three bindings", () => {
  test("a wrong content type is 415 on JSON-RPC and on HTTP+JSON, each in its own shape", async () => {
    const rpc = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { ...auth(), "content-type": "text/plain", "a2a-version": "1.0" },
      body: rpcBody(),
    });
    expect(rpc.status).toBe(415);
    const rb = await errorOf(rpc);
    expect(rb.error.code).toBe(-32005);
    expect(rb.error.data[0]?.reason).toBe("CONTENT_TYPE_NOT_SUPPORTED");
    const rest = await fetch(`${r.url}/a2a/echo/message:send`, {
      method: "POST",
      headers: { ...auth(), "content-type": "text/plain", "a2a-version": "1.0" },
      body: JSON.stringify({ message: userMessage("x") }),
    });
    expect(rest.status).toBe(415);
    expect(rest.headers.get("content-type")).toBe("application/a2a+json");
    const sb = await errorOf(rest);
    expect(sb.error.code).toBe(415);
    expect(sb.error.details[0]?.reason).toBe("CONTENT_TYPE_NOT_SUPPORTED");
  });

  test("a compressed body is 415 naming the encoding, not a JSON parse error, in every binding", async () => {
    const gz = Bun.gzipSync(new TextEncoder().encode(rpcBody()));
    const headers = {
      ...auth(),
      "content-type": "application/json",
      "content-encoding": "gzip",
      "a2a-version": "1.0",
    };
    const rpc = await fetch(`${r.url}/a2a/echo`, { method: "POST", headers, body: gz });
    expect(rpc.status).toBe(415);
    const rb = (await rpc.json()) as {
      error: { code: number; message: string; data: Array<{ reason: string }> };
    };
    expect(rb.error.code).toBe(-32005);
    expect(rb.error.message).toBe(
      "content encoding not supported: gzip; send the body without Content-Encoding",
    );
    const rest = await fetch(`${r.url}/a2a/echo/message:send`, { method: "POST", headers, body: gz });
    expect(rest.status).toBe(415);
    expect((await errorOf(rest)).error.details[0]?.reason).toBe("CONTENT_TYPE_NOT_SUPPORTED");
    const send = await fetch(`${r.url}/send/echo`, { method: "POST", headers, body: gz });
    expect(send.status).toBe(415);
    expect(await send.text()).toContain("content encoding not supported: gzip");
    // identity is no encoding at all
    const plain = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { ...headers, "content-encoding": "identity" },
      body: rpcBody(),
    });
    expect(
      ((await plain.json()) as { result?: { task?: { status?: { state?: string } } } }).result?.task?.status
        ?.state,
    ).toBe("TASK_STATE_COMPLETED");
  });

  test("a body over max_body_bytes is 413 BODY_TOO_LARGE in every binding, with and without a length", async () => {
    const big = "x".repeat(8000);
    const chunked = (s: string) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(s));
          c.close();
        },
      });
    for (const stream of [false, true]) {
      const body = (s: string) => (stream ? chunked(s) : s);
      const rpc = await fetch(`${r.url}/a2a/echo`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0" },
        body: body(rpcBody(big)),
      });
      expect(rpc.status).toBe(413);
      expect((await errorOf(rpc)).error.data[0]?.reason).toBe("BODY_TOO_LARGE");
      const rest = await fetch(`${r.url}/a2a/echo/message:send`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0" },
        body: body(JSON.stringify({ message: userMessage(big) })),
      });
      expect(rest.status).toBe(413);
      expect((await errorOf(rest)).error.details[0]?.reason).toBe("BODY_TOO_LARGE");
      const send = await fetch(`${r.url}/send/echo`, { method: "POST", headers: auth(), body: body(big) });
      expect(send.status).toBe(413);
      expect(await send.text()).toContain("(BODY_TOO_LARGE)");
    }
  });

  test("an unknown profile: JSON-RPC 200 with -32040, HTTP+JSON and /send 404", async () => {
    const rpc = await fetch(`${r.url}/a2a/nope`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: rpcBody(),
    });
    expect(rpc.status).toBe(200);
    expect((await errorOf(rpc)).error.code).toBe(-32040);
    const rest = await fetch(`${r.url}/a2a/nope/tasks`, { headers: { ...auth(), "a2a-version": "1.0" } });
    expect(rest.status).toBe(404);
    expect((await errorOf(rest)).error.details[0]?.reason).toBe("PROFILE_NOT_FOUND");
    const send = await fetch(`${r.url}/send/nope`, { method: "POST", headers: auth(), body: "hi" });
    expect(send.status).toBe(404);
    expect(await send.text()).toMatch(/^error: .*\(PROFILE_NOT_FOUND\)\n$/);
  });

  test("a route the binding does not have is its own 404; a task method by GET too", async () => {
    for (const path of ["/a2a/echo/nothing/here", "/a2a/echo/tasks/abc:cancel"]) {
      const res = await fetch(`${r.url}${path}`, { headers: { ...auth(), "a2a-version": "1.0" } });
      expect(res.status).toBe(404);
      expect((await errorOf(res)).error.details[0]?.reason).toBe("METHOD_NOT_FOUND");
    }
  });
});

describe("a refused credential, in each binding's shape", () => {
  test("401 with WWW-Authenticate: JSON-RPC (v1.0 and v0.3), HTTP+JSON and /send", async () => {
    const bad = { authorization: "Bearer not-a-token-0123456789" };
    const v1 = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { ...bad, "content-type": "application/json", "a2a-version": "1.0" },
      body: rpcBody(),
    });
    expect(v1.status).toBe(401);
    expect(v1.headers.get("www-authenticate")).toContain("Bearer");
    expect((await errorOf(v1)).error.data[0]?.reason).toBe("UNAUTHENTICATED");
    const v03 = await fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: { ...bad, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks/get", params: { id: "x" } }),
    });
    expect(v03.status).toBe(401);
    expect(((await v03.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe(
      "UNAUTHENTICATED",
    );
    const rest = await fetch(`${r.url}/a2a/echo/tasks`, { headers: { ...bad, "a2a-version": "1.0" } });
    expect(rest.status).toBe(401);
    expect(rest.headers.get("www-authenticate")).toContain("Bearer");
    const rb = await errorOf(rest);
    expect(rb.error.code).toBe(401);
    expect(rb.error.details[0]?.reason).toBe("UNAUTHENTICATED");
    const send = await fetch(`${r.url}/send/echo`, { method: "POST", headers: bad, body: "hi" });
    expect(send.status).toBe(401);
    expect(await send.text()).toBe("error: missing or invalid credential (UNAUTHENTICATED)\n");
  });
});

describe("request ids", () => {
  test("a valid incoming id is kept, on errors and on streams; a bad one is replaced", async () => {
    const err = await fetch(`${r.url}/a2a/echo/tasks/missing`, {
      headers: { ...auth(), "a2a-version": "1.0", "x-request-id": "trace-42" },
    });
    expect(err.status).toBe(404);
    expect(err.headers.get("x-request-id")).toBe("trace-42");
    const stream = await fetch(`${r.url}/a2a/echo/message:stream`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json", "a2a-version": "1.0", "x-request-id": "s-1" },
      body: JSON.stringify({ message: userMessage("stream me") }),
    });
    expect(stream.headers.get("content-type")).toBe("text/event-stream");
    expect(stream.headers.get("x-request-id")).toBe("s-1");
    await stream.text();
    const bad = await fetch(`${r.url}/healthz`, { headers: { "x-request-id": "no spaces allowed" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
