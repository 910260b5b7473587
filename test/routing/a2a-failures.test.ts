import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { currentRuntime } from "../../src/runtime/index.ts";
import type { Listener } from "../../src/runtime/types.ts";
import { freePort, type RoutingRelay, startRoutingRelay, v1Message } from "./_relay.ts";

let relay: RoutingRelay;
const servers: Listener[] = [];

/** A fake upstream answering every POST with `respond` (port 0); it has no card (404). */
function upstream(respond: (req: Request) => Response | Promise<Response>): string {
  const l = currentRuntime().serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => (req.method === "POST" ? respond(req) : new Response("no card", { status: 404 })),
  });
  servers.push(l);
  return `http://127.0.0.1:${l.port}/rpc`;
}

beforeAll(async () => {
  const closed = `http://127.0.0.1:${freePort()}/rpc`;
  const garbage = upstream(
    () => new Response("<html>hello</html>", { headers: { "content-type": "text/html" } }),
  );
  const down = upstream(() => new Response("bad gateway", { status: 503 }));
  const silent = upstream(() => new Promise<Response>(() => {}));
  const rpcErr = upstream(async (req) => {
    const b = (await req.json()) as { id: unknown };
    return Response.json({ jsonrpc: "2.0", id: b.id, error: { code: -32603, message: "boom inside" } });
  });
  relay = await startRoutingRelay({
    env: { SECRET_TOKEN: "s3cret-value" },
    toml: `
[profiles.closed]
handler = "a2a"
url = "${closed}"
token_env = "SECRET_TOKEN"
[profiles.garbage]
handler = "a2a"
url = "${garbage}"
[profiles.down]
handler = "a2a"
url = "${down}"
[profiles.silent]
handler = "a2a"
url = "${silent}"
turn_timeout_s = 0.5
[profiles.rpcerr]
handler = "a2a"
url = "${rpcErr}"
[profiles.leased]
handler = "a2a"
lease = "hermes-b"
[profiles.notoken]
handler = "a2a"
url = "${closed}"
token_env = "NOT_SET_ANYWHERE"
`,
  });
});
afterAll(async () => {
  await relay?.stop();
  for (const s of servers) await s.stop(true);
});

async function failedText(
  profile: string,
): Promise<{ text: string; ms: number; meta: Record<string, unknown> }> {
  const t0 = Date.now();
  const r = await relay.rpc("SendMessage", { message: v1Message("hi") }, { path: `/a2a/${profile}` });
  const task = r.body.result.task;
  expect(task.status.state).toBe("TASK_STATE_FAILED");
  return { text: task.status.message.parts[0].text, ms: Date.now() - t0, meta: task.metadata ?? {} };
}

describe("upstream failures end the turn FAILED, with a clear message, in bounded time", () => {
  test("connection refused (after a short retry), no secret in the text", async () => {
    const f = await failedText("closed");
    expect(f.text).toStartWith("upstream unavailable: connection refused");
    expect(f.text).not.toContain("s3cret");
    expect(f.ms).toBeLessThan(3000);
    expect(f.meta.error).toEqual({ code: -32045, reason: "UPSTREAM_UNAVAILABLE" });
  });

  test("a body that is not JSON-RPC", async () => {
    expect((await failedText("garbage")).text).toStartWith("upstream unavailable:");
  });

  test("HTTP 5xx", async () => {
    expect((await failedText("down")).text).toContain("HTTP 503");
  });

  test("an upstream that never answers is cut by the turn timeout", async () => {
    const f = await failedText("silent");
    expect(f.text).toContain("turn exceeded");
    expect(f.ms).toBeLessThan(3000);
  });

  test("a JSON-RPC error from the upstream names its code", async () => {
    const f = await failedText("rpcerr");
    expect(f.text).toBe("upstream error -32603: boom inside");
  });

  test("lease = NAME with no live holder: -32045 naming the lease", async () => {
    const f = await failedText("leased");
    expect(f.text).toContain('no live relay holds lease "hermes-b"');
  });

  test("a token_env that is not set names the variable", async () => {
    expect((await failedText("notoken")).text).toContain("NOT_SET_ANYWHERE is not set");
  });
});
