import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { FetchFn } from "../../src/fetch.ts";
import type { Upstream } from "../../src/receivers/a2a/http.ts";
import { UpstreamError } from "../../src/receivers/a2a/http.ts";
import { restCall, restStream } from "../../src/receivers/a2a/rest.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import type { Listener } from "../../src/runtime/types.ts";
import { type RoutingRelay, startRoutingRelay, v1Message } from "./_relay.ts";
import type { Json } from "./_sdk.ts";

// The outbound HTTP+JSON client against a fake upstream: error shapes → the same UpstreamErrors as
// JSON-RPC, the retry rule, and (through a relay) a stream that ends early followed by subscribe.

const A2A_ERR = (status: number, name: string, reason: string, message: string) =>
  Response.json(
    {
      error: {
        code: status,
        status: name,
        message,
        details: [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "a2a-protocol.org" },
        ],
      },
    },
    { status },
  );
const sse = (...frames: string[]) =>
  new Response(frames.join(""), { headers: { "content-type": "text/event-stream" } });
const data = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;

const WORKING = { task: { id: "t1", contextId: "c1", status: { state: "TASK_STATE_WORKING" } } };
const LATE = [
  WORKING,
  {
    artifactUpdate: {
      taskId: "t1",
      contextId: "c1",
      artifact: { artifactId: "a1", name: "late", parts: [{ text: "late artifact" }] },
    },
  },
  {
    statusUpdate: {
      taskId: "t1",
      contextId: "c1",
      status: {
        state: "TASK_STATE_COMPLETED",
        message: { messageId: "m1", role: "ROLE_AGENT", parts: [{ text: "done late" }] },
      },
    },
  },
];

let server: Listener;
let base: string;
const seen: string[] = [];

beforeAll(() => {
  server = currentRuntime().serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      seen.push(`${req.method} ${path}`);
      if (path === "/e/not-found/message:send")
        return A2A_ERR(404, "NOT_FOUND", "TASK_NOT_FOUND", "no such task");
      if (path === "/e/budget/message:send")
        return A2A_ERR(429, "RESOURCE_EXHAUSTED", "BUDGET_EXCEEDED", "budget exceeded: max_turns");
      if (path === "/e/unauth/message:send")
        return A2A_ERR(401, "UNAUTHENTICATED", "UNAUTHENTICATED", "who?");
      if (path === "/e/down/message:send") return new Response("bad gateway", { status: 503 });
      if (path === "/e/html/message:send") return new Response("<html>hi</html>");
      if (path === "/e/stream-error/message:stream") {
        const err = {
          error: {
            code: 400,
            status: "FAILED_PRECONDITION",
            message: "nope",
            details: [{ reason: "UNSUPPORTED_OPERATION" }],
          },
        };
        return sse(data(WORKING), `event: error\n${data(err)}`);
      }
      // early end, then subscribe finishes the task (REST and JSON-RPC)
      if (path === "/late/message:stream") return sse(data(WORKING));
      if (path === "/late/message:send") return Response.json(WORKING); // blocking, but not final yet
      if (path === "/late/tasks/t1:subscribe") return sse(...LATE.map(data));
      if (path === "/rpc") {
        const b = (await req.json()) as { id: unknown; method: string };
        const env = (result: unknown) => data({ jsonrpc: "2.0", id: b.id, result });
        if (b.method === "SendStreamingMessage") return sse(env(WORKING));
        if (b.method === "SendMessage") return Response.json({ jsonrpc: "2.0", id: b.id, result: WORKING });
        if (b.method === "SubscribeToTask") return sse(...LATE.map(env));
      }
      return new Response("no card", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.stop(true);
});

const up = (path: string, f: FetchFn = fetch): Upstream => ({ url: `${base}${path}`, headers: {}, fetch: f });
const errorOf = async (p: Promise<unknown>): Promise<UpstreamError> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UpstreamError);
  return e as UpstreamError;
};
const signal = () => AbortSignal.timeout(5000);

describe("REST errors become the UpstreamErrors JSON-RPC gives", () => {
  const cases: Array<[string, Partial<UpstreamError>, string]> = [
    [
      "not-found",
      { kind: "rpc", code: -32001, reason: "TASK_NOT_FOUND" },
      "upstream error -32001 TASK_NOT_FOUND: no such task",
    ],
    [
      "budget",
      { kind: "rpc", code: -32042, reason: "BUDGET_EXCEEDED" },
      "upstream error -32042 BUDGET_EXCEEDED",
    ],
    ["unauth", { kind: "refused" }, "upstream refused the relay's credential (HTTP 401: who?)"],
    ["down", { kind: "unavailable" }, "upstream unavailable: HTTP 503 (bad gateway)"],
    ["html", { kind: "invalid" }, "is not JSON"],
  ];
  for (const [name, fields, text] of cases) {
    test(name, async () => {
      const e = await errorOf(restCall(up(`/e/${name}`), "POST", "/message:send", { message: {} }, signal()));
      expect(e).toMatchObject(fields);
      expect(e.message).toContain(text);
    });
  }

  test("an `event: error` frame in a stream", async () => {
    const events: unknown[] = [];
    const e = await errorOf(
      (async () => {
        for await (const ev of restStream(up("/e/stream-error"), "/message:stream", {}, signal()))
          events.push(ev);
      })(),
    );
    expect(events).toEqual([WORKING]);
    expect(e).toMatchObject({ kind: "rpc", code: -32004, reason: "UNSUPPORTED_OPERATION" });
  });
});

describe("retry rule", () => {
  const counting = (err: Error) => {
    let calls = 0;
    const f: FetchFn = async () => {
      calls++;
      throw err;
    };
    return { f, calls: () => calls };
  };

  test("a refused connection is retried (twice), then reported", async () => {
    const c = counting(Object.assign(new Error("Unable to connect"), { code: "ConnectionRefused" }));
    const e = await errorOf(restCall(up("/x", c.f), "POST", "/message:send", {}, signal()));
    expect(c.calls()).toBe(3);
    expect(e.message).toStartWith("upstream unavailable: connection refused");
  });

  test("a connection lost after sending is never retried", async () => {
    const c = counting(Object.assign(new Error("socket closed unexpectedly"), { code: "ECONNRESET" }));
    const e = await errorOf(restCall(up("/x", c.f), "POST", "/message:send", {}, signal()));
    expect(c.calls()).toBe(1);
    expect(e.kind).toBe("unavailable");
  });
});

describe("an answer that ends before the final state is followed by subscribe", () => {
  let relay: RoutingRelay;
  beforeAll(async () => {
    relay = await startRoutingRelay({
      toml: `
[profiles.late-rest]
handler = "a2a"
url = "${base}/late"
binding = "rest"
[profiles.late-rpc]
handler = "a2a"
url = "${base}/rpc"
binding = "jsonrpc"
`,
    });
  });
  afterAll(async () => {
    await relay?.stop();
  });

  const expectDoneLate = (task: Json) => {
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.status.message.parts[0].text).toBe("done late");
    expect(task.artifacts.flatMap((a: Json) => a.parts.map((p: Json) => p.text))).toContain("late artifact");
  };
  for (const profile of ["late-rest", "late-rpc"]) {
    test(`${profile}: a blocking SendMessage is streamed upstream too (its first event names the task)`, async () => {
      const from = seen.length;
      const r = await relay.rpc("SendMessage", { message: v1Message("hi") }, { path: `/a2a/${profile}` });
      expectDoneLate(r.body.result.task);
      const calls = seen.slice(from);
      expect(calls[0]).toBe(profile === "late-rest" ? "POST /late/message:stream" : "POST /rpc");
      if (profile === "late-rest") expect(calls).toContain("POST /late/tasks/t1:subscribe");
    });
    test(`${profile}: a task returned at once is streamed from upstream (its progress can be followed)`, async () => {
      const from = seen.length;
      const r = await relay.rpc(
        "SendMessage",
        { message: v1Message("hi"), configuration: { returnImmediately: true } },
        { path: `/a2a/${profile}` },
      );
      const id = r.body.result.task.id;
      let task: Json = r.body.result.task;
      for (let i = 0; i < 200 && task.status.state !== "TASK_STATE_COMPLETED"; i++) {
        await Bun.sleep(10);
        task = (await relay.rpc("GetTask", { id }, { path: `/a2a/${profile}` })).body.result;
      }
      expectDoneLate(task);
      if (profile === "late-rest") {
        expect(seen.slice(from)).toEqual(["POST /late/message:stream", "POST /late/tasks/t1:subscribe"]);
      }
    });
  }
});
