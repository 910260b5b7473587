import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cli } from "./_run.ts";

/**
 * A scripted A2A server for what the echo relay never does: a stream that drops before the task
 * settles, a direct Message answer, an error event mid-stream.
 */
type Script = (method: string, params: Record<string, unknown>, id: number) => Response;
let script: Script;
const calls: string[] = [];
let server: ReturnType<typeof Bun.serve>;
let env: Record<string, string>;

const task = (state: string, text?: string) => ({
  id: "t1",
  contextId: "c1",
  status: { state },
  ...(text ? { artifacts: [{ artifactId: "a1", parts: [{ text }] }] } : {}),
});
const sse = (id: number, frames: Array<{ result?: unknown; error?: unknown; event?: string }>) =>
  new Response(
    frames
      .map(
        (f) =>
          `${f.event ? `event: ${f.event}\n` : ""}data: ${JSON.stringify({ jsonrpc: "2.0", id, ...f })}\n\n`,
      )
      .join(""),
    { headers: { "content-type": "text/event-stream" } },
  );
const json = (id: number, result: unknown) => Response.json({ jsonrpc: "2.0", id, result });

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (req) => {
      const body = (await req.json()) as { id: number; method: string; params: Record<string, unknown> };
      calls.push(body.method);
      return script(body.method, body.params, body.id);
    },
  });
  env = { A2A_RELAY_URL: `http://127.0.0.1:${server.port}`, A2A_RELAY_TOKEN: "t" };
});
afterAll(async () => {
  await server.stop(true);
});

describe("send against a scripted server", () => {
  test("a stream that drops before the task settles: GetTask, then SubscribeToTask to the end", async () => {
    calls.length = 0;
    let settled = false;
    script = (method, _params, id) => {
      if (method === "SendStreamingMessage")
        return sse(id, [{ result: { task: task("TASK_STATE_WORKING") } }]);
      if (method === "SubscribeToTask") {
        settled = true;
        return sse(id, [
          { result: { task: task("TASK_STATE_WORKING") } },
          {
            result: {
              statusUpdate: { taskId: "t1", contextId: "c1", status: { state: "TASK_STATE_COMPLETED" } },
            },
          },
        ]);
      }
      if (method === "GetTask")
        return json(id, settled ? task("TASK_STATE_COMPLETED", "done") : task("TASK_STATE_WORKING"));
      return json(id, null);
    };
    const res = await cli(["send", "agent", "go"], env);
    expect(res).toMatchObject({ code: 0, out: "done\n" });
    expect(res.err).toBe("task t1 (context c1): working\ntask t1 (context c1): working\ncompleted\n");
    expect(calls).toEqual(["SendStreamingMessage", "GetTask", "SubscribeToTask", "GetTask"]);
  });

  test("a stream that keeps dropping gives up after a bounded number of tries (exit 6)", async () => {
    calls.length = 0;
    script = (method, _params, id) =>
      method === "GetTask"
        ? json(id, task("TASK_STATE_WORKING"))
        : sse(id, [{ result: { task: task("TASK_STATE_WORKING") } }]);
    const res = await cli(["send", "agent", "go"], env);
    expect(res.code).toBe(6);
    expect(res.err).toContain("the event stream ended before task t1 settled");
    expect(calls.filter((m) => m === "SubscribeToTask")).toHaveLength(3);
  });

  test("a direct Message answer is printed", async () => {
    script = (_m, _p, id) =>
      sse(id, [{ result: { message: { messageId: "m", role: "ROLE_AGENT", parts: [{ text: "hey" }] } } }]);
    expect(await cli(["send", "agent", "go"], env)).toEqual({ code: 0, out: "hey\n", err: "" });
  });

  test("an error event mid-stream maps to its exit code", async () => {
    script = (_m, _p, id) =>
      sse(id, [
        { result: { task: task("TASK_STATE_WORKING") } },
        {
          event: "error",
          error: { code: -32045, message: "upstream went away", data: { reason: "UPSTREAM_UNAVAILABLE" } },
        },
      ]);
    const res = await cli(["send", "agent", "go"], env);
    expect(res.code).toBe(6);
    expect(res.err).toContain("upstream went away (UPSTREAM_UNAVAILABLE)");
  });

  test("an answer with the wrong JSON-RPC id is refused", async () => {
    script = (_m, _p, id) => json(id + 100, { task: task("TASK_STATE_COMPLETED") });
    const res = await cli(["send", "agent", "go", "--no-wait"], env);
    expect(res.code).toBe(6);
    expect(res.err).toContain("INVALID_AGENT_RESPONSE");
  });

  test("a plain HTTP 404 (wrong path) is a usage error", async () => {
    script = () => new Response("no such route", { status: 404 });
    const res = await cli(["send", "agent", "go"], env);
    expect(res.code).toBe(2);
    expect(res.err).toContain("HTTP 404");
  });
});
