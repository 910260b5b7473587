import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";
import { cli } from "./_run.ts";

let r: TestRelay;
let env: Record<string, string>;
let done: { id: string; contextId: string };
let failed: { id: string };
beforeAll(async () => {
  r = await startTestRelay();
  env = { A2A_RELAY_URL: r.url, A2A_RELAY_HOME: join(r.dir, "data") };
  done = JSON.parse((await cli(["send", "echo", "first task", "--json"], env)).out);
  failed = JSON.parse((await cli(["send", "echo", "fail: nope", "--json"], env)).out);
});
afterAll(async () => {
  await r.stop();
});

describe("a2a-relay tasks", () => {
  test("list prints a table, newest first", async () => {
    const res = await cli(["tasks", "list"], env);
    expect(res.code).toBe(0);
    const lines = res.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATE\s+CONTEXT\s+UPDATED\s+LAST MESSAGE$/);
    expect(lines[1]).toStartWith(`${failed.id}  failed`);
    expect(lines[2]).toStartWith(`${done.id}  completed`);
    expect(lines[2]).toContain(done.contextId);
    expect(lines[2]).toEndWith("first task");
  });

  test("list --json, --state and --context filter; --limit pages", async () => {
    const all = JSON.parse((await cli(["tasks", "list", "--json"], env)).out);
    expect(all.tasks.length).toBeGreaterThanOrEqual(2);
    const completed = JSON.parse((await cli(["tasks", "list", "--state", "completed", "--json"], env)).out);
    expect(completed.tasks.map((t: { id: string }) => t.id)).toContain(done.id);
    expect(completed.tasks.map((t: { id: string }) => t.id)).not.toContain(failed.id);
    const byCtx = JSON.parse((await cli(["tasks", "list", "--context", done.contextId, "--json"], env)).out);
    expect(byCtx.tasks.map((t: { id: string }) => t.id)).toEqual([done.id]);
    const one = await cli(["tasks", "list", "--limit", "1"], env);
    expect(one.out).toContain(`(1 of ${all.totalSize} tasks)`);
    const none = await cli(["tasks", "list", "--state", "rejected"], env);
    expect(none.out).toBe("no tasks\n");
  });

  test("get shows the state, artifacts and history; --json the v1.0 task", async () => {
    const res = await cli(["tasks", "get", done.id], env);
    expect(res.code).toBe(0);
    expect(res.out).toContain(`task ${done.id}\n  state:    completed`);
    expect(res.out).toContain("artifact response: first task");
    expect(res.out).toContain("    user   first task\n    agent  first task");
    const json = JSON.parse((await cli(["tasks", "get", done.id, "--json", "--history", "1"], env)).out);
    expect(json.id).toBe(done.id);
    expect(json.history).toHaveLength(1);
  });

  test("cancel stops a running task; cancelling it again is exit 1", async () => {
    const id = (await cli(["send", "echo", "sleep:5000 long", "--no-wait"], env)).out.trim();
    const res = await cli(["tasks", "cancel", id], env);
    expect(res).toEqual({ code: 0, out: `task ${id}: canceled\n`, err: "" });
    const again = await cli(["tasks", "cancel", id], env);
    expect(again.code).toBe(1);
    expect(again.err).toContain("TASK_NOT_CANCELABLE");
  });

  test("an unknown task is exit 1 (TASK_NOT_FOUND); bad usage is exit 2", async () => {
    const res = await cli(["tasks", "get", "no-such-task"], env);
    expect(res.code).toBe(1);
    expect(res.err).toContain("TASK_NOT_FOUND");
    for (const argv of [
      ["tasks"],
      ["tasks", "frob"],
      ["tasks", "get"],
      ["tasks", "cancel"],
      ["tasks", "list", "--state", "sleepy"],
      ["tasks", "list", "--limit", "0"],
      ["tasks", "list", "extra"],
    ]) {
      expect({ argv, code: (await cli(argv, env)).code }).toEqual({ argv, code: 2 });
    }
  });

  test("a refused credential is exit 3", async () => {
    const res = await cli(["tasks", "list"], { ...env, A2A_RELAY_TOKEN: "not-a-token" });
    expect(res.code).toBe(3);
  });
});
