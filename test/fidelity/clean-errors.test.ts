import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { waitFor } from "../helpers/binary.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/** Issue 14, item 12: a caller that goes away is its own outcome; a malformed upstream is one line. */

let r: TestRelay;
let bad: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  // an "A2A agent" whose answers have the wrong shape
  bad = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const { id } = (await req.json()) as { id: unknown };
      return Response.json({
        jsonrpc: "2.0",
        id,
        result: { task: { id: "t-1", contextId: "c-1", status: { state: "DONE_ISH" } } },
      });
    },
  });
  r = await startTestRelay({
    env: { A2A_OC_TOKEN_LOCAL: "local-token-clean-errors-0123456789" },
    toml: `
[peers.local]
profiles = ["*"]
admin = true
[profiles.echo]
handler = "echo"
[profiles.bad]
handler = "a2a"
url = "http://127.0.0.1:${bad.port}/"
binding = "jsonrpc"
`,
  });
});
afterAll(async () => {
  await r?.stop();
  bad?.stop(true);
});

async function outcomes(): Promise<string> {
  return (await (await fetch(`${r.url}/metrics`)).text())
    .split("\n")
    .filter((l) => l.startsWith("a2a_relay_requests_total") && l.includes('method="SendMessage"'))
    .join("\n");
}

describe("clean errors", () => {
  test("a caller that disconnects mid-call is CLIENT_CLOSED, never INTERNAL", async () => {
    const abort = new AbortController();
    const call = fetch(`${r.url}/a2a/echo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        authorization: `Bearer ${r.token}`,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: { message: userMessage("sleep:400 bye") },
      }),
      signal: abort.signal,
    }).catch(() => undefined);
    await Bun.sleep(100);
    abort.abort();
    await call;
    const text = await waitFor(
      async () => {
        const o = await outcomes();
        return o.includes('outcome="CLIENT_CLOSED"') ? o : undefined;
      },
      3000,
      "the CLIENT_CLOSED outcome",
    );
    expect(text).toMatch(/outcome="CLIENT_CLOSED"\} 1/);
    expect(text).not.toContain('outcome="INTERNAL"');
  });

  test("an upstream answer of the wrong shape fails the task with one line naming the field", async () => {
    const { body } = await r.rpc("SendMessage", { message: userMessage("hello") }, { path: "/a2a/bad" });
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    const text: string = task.status.message.parts[0].text;
    expect(text).toStartWith("upstream unavailable: unexpected answer (task.status.state: ");
    expect(text).not.toContain("\n");
    expect(text.length).toBeLessThan(300);
  });
});
