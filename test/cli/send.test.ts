import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";
import { cli, deadPort } from "./_run.ts";

let r: TestRelay;
/** The environment `send` sees: the relay's URL and its data dir (so the local token file is read). */
let env: Record<string, string>;
beforeAll(async () => {
  r = await startTestRelay();
  env = { A2A_RELAY_URL: r.url, A2A_RELAY_HOME: join(r.dir, "data"), HOME: r.dir };
});
afterAll(async () => {
  await r.stop();
});

describe("a2a-relay send", () => {
  test("waits by default and prints the final text, using the local token file", async () => {
    const res = await cli(["send", "echo", "hello", "relay"], env);
    expect(res).toMatchObject({ code: 0, out: "hello relay\n" });
    // not a terminal: progress is one line per event, on stderr
    expect(res.err).toEndWith("completed: hello relay\n");
  });

  test("--json prints the final task; a full /a2a/PROFILE URL works with A2A_RELAY_TOKEN", async () => {
    const res = await cli(["send", `${r.url}/a2a/echo/`, "as json", "--json"], {
      A2A_RELAY_TOKEN: r.token,
    });
    expect(res.code).toBe(0);
    const task = JSON.parse(res.out);
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.artifacts[0].parts[0].text).toBe("as json");
  });

  test("--stream prints one line per event, in order", async () => {
    const res = await cli(["send", "echo", "sleep:150 streamed", "--stream"], env);
    expect(res.code).toBe(0);
    const lines = res.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^task [\w-]+ \(context [\w-]+\): submitted$/);
    expect(lines).toContain("working");
    expect(lines).toContain("working: echo: waiting 150 ms");
    expect(lines).toContain("artifact response: streamed");
    expect(lines[lines.length - 1]).toBe("completed: streamed");
    expect(lines.indexOf("working")).toBeLessThan(lines.indexOf("artifact response: streamed"));
  });

  test("--stream --json prints one v1.0 stream event per line", async () => {
    const res = await cli(["send", "echo", "events", "--stream", "--json"], env);
    expect(res.code).toBe(0);
    const events = res.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events[0].task.status.state).toBe("TASK_STATE_SUBMITTED");
    expect(events.some((e) => e.artifactUpdate?.artifact.parts[0].text === "events")).toBe(true);
    expect(events[events.length - 1].statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("--no-wait prints the task id at once; the task then completes", async () => {
    const res = await cli(["send", "echo", "sleep:100 later", "--no-wait"], env);
    expect(res.code).toBe(0);
    const id = res.out.trim();
    expect(id).toMatch(/^[\w-]{8,}$/);
    const done = await r.relay.engine.waitSettled(id, "local");
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("--context continues the conversation: same context, a new task", async () => {
    const first = JSON.parse((await cli(["send", "echo", "one", "--json"], env)).out);
    const second = await cli(["send", "echo", "two", "--context", first.contextId, "--json"], env);
    expect(second.code).toBe(0);
    const t = JSON.parse(second.out);
    expect(t.contextId).toBe(first.contextId);
    expect(t.id).not.toBe(first.id);
    const listed = await cli(["tasks", "list", "--context", first.contextId, "--json"], env);
    expect(
      JSON.parse(listed.out)
        .tasks.map((x: { id: string }) => x.id)
        .sort(),
    ).toEqual([first.id, t.id].sort());
  });

  test("--brief sends the JSON brief as a data part next to the text", async () => {
    const file = join(r.dir, "brief.json");
    const brief = { context: "repo X", expected_output: "a patch", deadline_s: 60 };
    writeFileSync(file, JSON.stringify(brief));
    const res = await cli(["send", "echo", "with brief", "--brief", file, "--json"], env);
    expect(res.code).toBe(0);
    const user = JSON.parse(res.out).history[0];
    expect(user.parts[0]).toEqual({ text: "with brief" });
    expect(user.parts[1]).toEqual({ data: brief, mediaType: "application/json" });
  });

  test("input required: prints the question, hints --task on stderr, exit 0; --task answers it", async () => {
    const ask = await cli(["send", "echo", "ask: which branch?"], env);
    expect(ask.code).toBe(0);
    expect(ask.out).toBe("which branch?\n");
    const id = /--task ([\w-]+)/.exec(ask.err)?.[1];
    expect(id).toBeDefined();
    expect(ask.err).toContain("input required");
    const reply = await cli(["send", "echo", "main", "--task", id!, "--json"], env);
    expect(reply.code).toBe(0);
    const t = JSON.parse(reply.out);
    expect(t.id).toBe(id);
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.artifacts[0].parts[0].text).toBe("main");
  });
});

describe("a2a-relay send: exit codes", () => {
  test("1: a failed task prints its message", async () => {
    const res = await cli(["send", "echo", "fail: disk full"], env);
    expect(res.code).toBe(1);
    expect(res.out).toBe("");
    expect(res.err).toMatch(/task [\w-]+ failed: disk full/);
  });

  test("2: usage and config errors", async () => {
    const cases: string[][] = [
      ["send"],
      ["send", "echo"],
      ["send", "echo", "x", "--timeout", "soon"],
      ["send", "echo", "x", "--no-wait", "--stream"],
      ["send", "echo", "x", "--bogus"],
      ["send", "echo", "x", "--brief", join(r.dir, "missing.json")],
      ["send", "bad/profile", "x"],
      ["send", "nope", "x"],
    ];
    for (const argv of cases) {
      const res = await cli(argv, env);
      expect({ argv, code: res.code }).toEqual({ argv, code: 2 });
      expect(res.err).toStartWith("a2a-relay: ");
    }
    const bad = join(r.dir, "bad.json");
    writeFileSync(bad, "{ not json");
    const res = await cli(["send", "echo", "x", "--brief", bad], env);
    expect(res.code).toBe(2);
    expect(res.err).toContain("not valid JSON");
    const badUrl = await cli(["send", "echo", "x"], { ...env, A2A_RELAY_URL: "not a url" });
    expect(badUrl.code).toBe(2);
    expect(badUrl.err).toContain("A2A_RELAY_URL");
    const unknown = await cli(["send", "nope", "x"], env);
    expect(unknown.err).toContain("PROFILE_NOT_FOUND");
  });

  test("3: a refused credential, named by its source and never echoed", async () => {
    const res = await cli(["send", "echo", "x"], { ...env, A2A_RELAY_TOKEN: "wrong-token-value" });
    expect(res.code).toBe(3);
    expect(res.err).toContain("UNAUTHENTICATED");
    expect(res.err).toContain("env:A2A_RELAY_TOKEN");
    expect(res.err).not.toContain("wrong-token-value");
    const none = await cli(["send", "echo", "x"], {
      A2A_RELAY_URL: r.url,
      A2A_RELAY_HOME: join(r.dir, "nowhere"),
    });
    expect(none.code).toBe(3);
    expect(none.err).toContain("no credential was sent");
  });

  test("5: --timeout bounds the wait and says so", async () => {
    const t0 = Date.now();
    const res = await cli(["send", "echo", "sleep:3000 slow", "--timeout", "0.5"], env);
    expect(res.code).toBe(5);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(res.err).toContain("timed out after 0.5 s waiting for task");
    expect(res.err).toContain("TIMED_OUT");
    const id = /task ([\w-]+) \(/.exec(res.err)?.[1];
    expect(id).toBeDefined();
    const cancel = await cli(["tasks", "cancel", id!], env);
    expect(cancel.code).toBe(0);
  });

  test("130: Ctrl-C while waiting says which task keeps running", async () => {
    const stop = new Promise<string>((resolve) => setTimeout(() => resolve("SIGINT"), 300));
    const res = await cli(["send", "echo", "sleep:3000 slow"], env, stop);
    expect(res.code).toBe(130);
    expect(res.err).toMatch(/detached from task [\w-]+; it keeps running/);
    const id = /detached from task ([\w-]+);/.exec(res.err)?.[1];
    expect(res.err).toContain(`a2a-relay tasks watch ${id}`);
    expect((await cli(["tasks", "cancel", id!], env)).code).toBe(0);
  });

  test("6: nothing listening", async () => {
    const port = await deadPort();
    const res = await cli(["send", "echo", "x"], { ...env, A2A_RELAY_URL: `http://127.0.0.1:${port}` });
    expect(res.code).toBe(6);
    expect(res.err).toContain(`cannot reach http://127.0.0.1:${port}/a2a/echo (connection refused)`);
  });

  test("4 and 6 from JSON-RPC errors: budget exceeded (-32042), upstream unavailable (-32045)", async () => {
    let answer = { status: 429, code: -32042, reason: "BUDGET_EXCEEDED" };
    const fake = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) => {
        const body = (await req.json()) as { id: number };
        return Response.json(
          {
            jsonrpc: "2.0",
            id: body.id,
            error: {
              code: answer.code,
              message: "limit reached",
              data: [
                {
                  "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                  reason: answer.reason,
                  domain: "a2a-relay",
                },
              ],
            },
          },
          { status: answer.status },
        );
      },
    });
    try {
      const fenv = { A2A_RELAY_URL: `http://127.0.0.1:${fake.port}`, A2A_RELAY_TOKEN: "t" };
      const budget = await cli(["send", "echo", "x"], fenv);
      expect(budget.code).toBe(4);
      expect(budget.err).toContain("limit reached (BUDGET_EXCEEDED)");
      answer = { status: 502, code: -32045, reason: "UPSTREAM_UNAVAILABLE" };
      const upstream = await cli(["send", "echo", "x"], fenv);
      expect(upstream.code).toBe(6);
      expect(upstream.err).toContain("UPSTREAM_UNAVAILABLE");
    } finally {
      await fake.stop(true);
    }
  });
});
