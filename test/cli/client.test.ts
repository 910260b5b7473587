import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cardCommand } from "../../src/cli/card.ts";
import { connect } from "../../src/client/connect.ts";
import { reach } from "../../src/client/reach.ts";
import { createClient, type FetchLike } from "../../src/client/rpc.ts";
import { RelayError } from "../../src/errors.ts";
import { captureIO } from "./_run.ts";

/** A recording fetch that answers every call with `answer`. */
function recorder(answer: (body: { id: number; method: string }) => Response) {
  const seen: Array<{
    url: string;
    headers: Headers;
    body: Record<string, unknown>;
  }> = [];
  const fetchImpl: FetchLike = async (input, init) => {
    const body = JSON.parse(String(init?.body));
    seen.push({ url: String(input), headers: new Headers(init?.headers), body });
    return answer(body);
  };
  return { seen, fetchImpl };
}

describe("A2AClient with an injected fetch", () => {
  test("sends v1.0 JSON-RPC with the bearer token and returns the result", async () => {
    const { seen, fetchImpl } = recorder((b) =>
      Response.json({
        jsonrpc: "2.0",
        id: b.id,
        result: { tasks: [], nextPageToken: "", pageSize: 5, totalSize: 0 },
      }),
    );
    const client = createClient({ url: "http://relay.test/a2a", token: "secret-tok", fetch: fetchImpl });
    const r = await client.listTasks({ pageSize: 5, status: "TASK_STATE_WORKING" });
    expect(r.totalSize).toBe(0);
    expect(seen[0]!.url).toBe("http://relay.test/a2a");
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer secret-tok");
    expect(seen[0]!.headers.get("a2a-version")).toBe("1.0");
    expect(seen[0]!.body).toEqual({
      jsonrpc: "2.0",
      id: 1,
      method: "ListTasks",
      params: { pageSize: 5, status: "TASK_STATE_WORKING" },
    });
  });

  test("a 401 becomes UNAUTHENTICATED (exit 3) with the hint and without the token", async () => {
    const { fetchImpl } = recorder(
      () =>
        new Response(
          JSON.stringify({
            jsonrpc: "2.0",
            id: null,
            error: {
              code: -32050,
              message: "missing or invalid credential",
              data: { reason: "UNAUTHENTICATED" },
            },
          }),
          { status: 401, headers: { "content-type": "application/json" } },
        ),
    );
    const client = createClient({
      url: "http://relay.test/a2a",
      token: "secret-tok",
      authHint: "from env:X",
      fetch: fetchImpl,
    });
    const err = await client.getTask("t").catch((e) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect(err.exitCode).toBe(3);
    expect(err.reason).toBe("UNAUTHENTICATED");
    expect(err.message).toBe("missing or invalid credential; from env:X");
    expect(JSON.stringify({ m: err.message, d: err.data })).not.toContain("secret-tok");
  });

  test("a v1.0 ErrorInfo list gives the reason; -32001 stays TASK_NOT_FOUND with exit 1", async () => {
    const { fetchImpl } = recorder((b) =>
      Response.json({
        jsonrpc: "2.0",
        id: b.id,
        error: {
          code: -32001,
          message: "task not found: t",
          data: [{ reason: "TASK_NOT_FOUND", domain: "a2a-protocol.org" }],
        },
      }),
    );
    const err = await createClient({ url: "http://relay.test/a2a", fetch: fetchImpl })
      .cancelTask("t")
      .catch((e) => e);
    expect([err.code, err.reason, err.exitCode]).toEqual([-32001, "TASK_NOT_FOUND", 1]);
  });

  test("card command with an injected fetch reads URL/.well-known/agent-card.json", async () => {
    const urls: string[] = [];
    const cmd = cardCommand({
      fetch: async (input) => {
        urls.push(String(input));
        return new Response("[]");
      },
    });
    const { io, got } = captureIO({});
    await expect(cmd.run(["https://agent.example/a2a/x/"], io)).rejects.toThrow(
      "the card is not a JSON object",
    );
    expect(urls).toEqual(["https://agent.example/a2a/x/.well-known/agent-card.json"]);
    expect(got.out).toBe("");
  });

  test("the local token file goes only to a relay on this host; A2A_RELAY_TOKEN goes anywhere", async () => {
    const home = mkdtempSync(join(tmpdir(), "a2a-relay-cli-"));
    try {
      mkdirSync(join(home, "tokens"));
      writeFileSync(join(home, "tokens", "local.token"), "local-secret\n", { mode: 0o600 });
      const { seen, fetchImpl } = recorder((b) => Response.json({ jsonrpc: "2.0", id: b.id, result: {} }));
      const env = { A2A_RELAY_HOME: home };
      const io = { err: () => {} };
      const via = (url: string, e: Record<string, string>) =>
        connect(url, reach({}, e), io, { fetch: fetchImpl }).getTask("t");
      await via("http://127.0.0.1:9200/a2a/echo", env);
      await via("http://localhost:9200/a2a/echo", env);
      await via("https://remote.example/a2a/echo", env);
      await via("https://remote.example/a2a/echo", { ...env, A2A_RELAY_TOKEN: "explicit" });
      expect(seen.map((s) => s.headers.get("authorization"))).toEqual([
        "Bearer local-secret",
        "Bearer local-secret",
        null,
        "Bearer explicit",
      ]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
