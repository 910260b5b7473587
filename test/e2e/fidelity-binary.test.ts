import { afterAll, describe, expect, test } from "bun:test";
import { startBinary, stopAll, waitFor } from "../helpers/binary.ts";
import { startQueuedReceiver } from "../helpers/queued-process.ts";
import { freePort } from "../routing/_relay.ts";
import { rpc, userMessage } from "./_client.ts";

/**
 * Issue 14 against the compiled binary: the a2a_fleet client's exact request, the header-less
 * card, and a queued receiver whose post-back settles a task across a kill -9 of the relay.
 */

afterAll(stopAll);

const OC = "oc-receiver-binary-token-0123456789";

describe("the compiled binary with clients and receivers we did not write", () => {
  test("the a2a_fleet client's request at <url>/jsonrpc; the header-less card has supportedInterfaces and url", async () => {
    const r = await startBinary();
    const res = await fetch(`${r.url}/a2a/echo/jsonrpc`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${r.token}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "3c1f",
        method: "SendMessage",
        params: { message: { role: "user", parts: [{ text: "hi from fleet" }] } },
      }),
    });
    const body = (await res.json()) as {
      result: { kind: string; message: { parts: Array<{ text: string }> } };
    };
    expect(res.status).toBe(200);
    expect(body.result.kind).toBe("message");
    expect(body.result.message.parts[0]!.text).toBe("hi from fleet");
    const card = (await (await fetch(`${r.url}/a2a/echo/.well-known/agent-card.json`)).json()) as Record<
      string,
      unknown
    >;
    expect(card.supportedInterfaces).toEqual([
      { url: `${r.url}/a2a/echo`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
      { url: `${r.url}/a2a/echo`, protocolBinding: "HTTP+JSON", protocolVersion: "1.0" },
    ]);
    expect(card.url).toBe(`${r.url}/a2a/echo`);
    // and the trailing-slash URL base-URL clients post to
    const slash = await rpc(r, "SendMessage", { message: userMessage("slash") }, { path: "/a2a/echo/" });
    expect(slash.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  });

  // two relay processes start in this test (on Deno about a second each)
  test("a queued receiver's post-back settles its task after the relay was killed -9 and restarted", {
    timeout: 20_000,
  }, async () => {
    const port = freePort();
    const receiver = await startQueuedReceiver({
      hermesUrl: `http://127.0.0.1:${port}/a2a/oc/jsonrpc`,
      token: OC,
    });
    try {
      const toml = `
[peers.oc-receiver]
profiles = []
[profiles.echo]
handler = "echo"
[profiles.oc]
handler = "a2a"
url = "${receiver.url}/jsonrpc"
protocol = "hermes-fleet"
reply_peer = "oc-receiver"
turn_timeout_s = 60
`;
      const env = { A2A_OC_TOKEN_OC_RECEIVER: OC };
      const a = await startBinary({ toml, env, args: ["--port", String(port)] });
      const sent = await rpc(
        a,
        "SendMessage",
        { message: userMessage("hold through a crash"), configuration: { returnImmediately: true } },
        { path: "/a2a/oc" },
      );
      const id = sent.body.result.task.id as string;
      const ctx = await waitFor(
        async () => (await receiver.log()).received.find((x) => x.text === "hold through a crash")?.contextId,
        5000,
        "the dispatch",
      );
      await waitFor(
        async () =>
          (
            await rpc(a, "GetTask", { id }, { path: "/a2a" })
          ).body.result.status.message?.parts[0].text.endsWith("[queued]"),
        5000,
        "the acknowledgement",
      );
      await a.stop("SIGKILL");
      const b = await startBinary({ toml, env, dataDir: a.dataDir, args: ["--port", String(port)] });
      expect((await rpc(b, "GetTask", { id }, { path: "/a2a" })).body.result.status.state).toBe(
        "TASK_STATE_WORKING",
      );
      expect(await receiver.release(ctx as string)).toBe(true);
      const done = await waitFor(
        async () => {
          const t = (await rpc(b, "GetTask", { id }, { path: "/a2a" })).body.result;
          return t.status.state === "TASK_STATE_COMPLETED" ? t : undefined;
        },
        5000,
        "the post-back",
      );
      expect(done.status.message.parts[0].text).toBe("done: hold through a crash");
      const posts = await waitFor(
        async () => {
          const p = (await receiver.log()).postbacks.filter((x) => x.contextId === ctx);
          return p.length ? p : undefined;
        },
        5000,
        "the receiver to log its post-back",
      );
      expect(posts!.map((p) => p.status)).toEqual([200]);
    } finally {
      receiver.stop();
    }
  });
});
