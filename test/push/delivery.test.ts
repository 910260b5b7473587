import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { type RunningRelay, startRelay } from "../../src/server.ts";
import { until } from "../helpers/until.ts";

/** A webhook that fails its first `failFirst` deliveries, then records every body it accepts. */
function webhook(failFirst: number) {
  let calls = 0;
  const got: Array<{ body: Record<string, unknown>; token: string | null }> = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      calls++;
      const body = (await req.json()) as Record<string, unknown>;
      if (calls <= failFirst) return new Response("not yet", { status: 503 });
      got.push({ body, token: req.headers.get("x-a2a-notification-token") });
      return new Response("ok");
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    got,
    calls: () => calls,
    stop: () => server.stop(true),
  };
}

const dir = mkdtempSync(join(tmpdir(), "a2a-relay-push-"));
const toml = `
[server]
push_retry_base_s = 0.05
[profiles.echo]
handler = "echo"
[peers.local]
profiles = ["*"]
admin = true
token_file = "tok"
push_hosts = ["127.0.0.1"]
`;
async function start(): Promise<RunningRelay> {
  const file = join(dir, "config.toml");
  await Bun.write(file, toml);
  await Bun.write(join(dir, "tok"), "push-test-token-0123456789\n");
  (await import("node:fs")).chmodSync(join(dir, "tok"), 0o600);
  const config = loadConfig({
    file,
    env: { A2A_RELAY_HOME: join(dir, "data"), A2A_RELAY_LOCK_DIR: join(dir, "locks") },
    port: "0",
    prepare: true,
  });
  return startRelay(config, currentRuntime(), createLogger("silent"));
}
const token = "push-test-token-0123456789";
async function rpc(url: string, method: string, params: unknown) {
  const res = await fetch(`${url}/a2a/echo`, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON-RPC results
  return (await res.json()) as { result?: any; error?: { code: number; message: string } };
}
const states = (got: Array<{ body: Record<string, unknown> }>) =>
  got.map((g) => {
    const b = g.body as {
      task?: { status: { state: string } };
      statusUpdate?: { status: { state: string } };
      artifactUpdate?: unknown;
    };
    return b.task ? `task:${b.task.status.state}` : b.statusUpdate ? b.statusUpdate.status.state : "artifact";
  });

let relay: RunningRelay | undefined;
afterAll(async () => {
  await relay?.stop();
});

describe("push notifications", () => {
  test("a webhook that fails the first 3 deliveries gets every event once, in order", async () => {
    const hook = webhook(3);
    relay = await start();
    const sent = await rpc(relay.url, "SendMessage", {
      message: { messageId: "p1", role: "ROLE_USER", parts: [{ text: "pushed" }] },
      configuration: { taskPushNotificationConfig: { url: hook.url, token: "hook-secret" } },
    });
    expect(sent.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    await until(() => hook.got.length >= 4);
    await Bun.sleep(100);
    expect(states(hook.got)).toEqual([
      "task:TASK_STATE_SUBMITTED",
      "TASK_STATE_WORKING",
      "artifact",
      "TASK_STATE_COMPLETED",
    ]);
    expect(hook.got.every((g) => g.token === "hook-secret")).toBe(true);
    expect(hook.calls()).toBe(7);
    hook.stop();
  });

  test("a relay restart while deliveries are pending loses nothing", async () => {
    const hook = webhook(1_000_000); // refuses everything for now
    const sent = await rpc(relay!.url, "SendMessage", {
      message: { messageId: "p2", role: "ROLE_USER", parts: [{ text: "survives" }] },
      configuration: { taskPushNotificationConfig: { url: hook.url } },
    });
    const taskId = sent.result.task.id as string;
    await until(() => hook.calls() >= 2);
    await relay!.stop();
    hook.stop();
    // the same port again, now accepting
    const port = Number(new URL(hook.url).port);
    const got: Array<{ body: Record<string, unknown> }> = [];
    const again = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: async (req) => {
        got.push({ body: (await req.json()) as Record<string, unknown> });
        return new Response("ok");
      },
    });
    relay = await start();
    await until(() => got.length >= 4);
    expect(states(got)).toEqual([
      "task:TASK_STATE_SUBMITTED",
      "TASK_STATE_WORKING",
      "artifact",
      "TASK_STATE_COMPLETED",
    ]);
    expect((got[0]!.body as { task: { id: string } }).task.id).toBe(taskId);
    again.stop(true);
  });

  test("config methods: create, get, list, delete; a disallowed URL is refused; others' tasks are hidden", async () => {
    const sent = await rpc(relay!.url, "SendMessage", {
      message: { messageId: "p3", role: "ROLE_USER", parts: [{ text: "sleep:2000 x" }] },
      configuration: { returnImmediately: true },
    });
    const taskId = sent.result.task.id as string;
    const created = await rpc(relay!.url, "CreateTaskPushNotificationConfig", {
      taskId,
      id: "c1",
      url: "http://127.0.0.1:9/x",
      authentication: { scheme: "Bearer", credentials: "s3cret" },
    });
    expect(created.result).toEqual({
      taskId,
      id: "c1",
      url: "http://127.0.0.1:9/x",
      authentication: { scheme: "Bearer" },
    });
    expect((await rpc(relay!.url, "GetTaskPushNotificationConfig", { taskId, id: "c1" })).result.id).toBe(
      "c1",
    );
    expect(
      (await rpc(relay!.url, "ListTaskPushNotificationConfigs", { taskId })).result.configs,
    ).toHaveLength(1);
    expect((await rpc(relay!.url, "DeleteTaskPushNotificationConfig", { taskId, id: "c1" })).result).toEqual(
      {},
    );
    expect(
      (await rpc(relay!.url, "ListTaskPushNotificationConfigs", { taskId })).result.configs ?? [],
    ).toHaveLength(0);
    const evil = await rpc(relay!.url, "CreateTaskPushNotificationConfig", {
      taskId,
      url: "http://169.254.169.254/latest",
    });
    expect(evil.error?.code).toBe(-32602);
    expect(evil.error?.message).toContain("push_hosts");
    const bad = await rpc(relay!.url, "SendMessage", {
      message: { messageId: "p4", role: "ROLE_USER", parts: [{ text: "x" }] },
      configuration: { taskPushNotificationConfig: { url: "https://evil.example/x" } },
    });
    expect(bad.error?.code).toBe(-32602);
    expect((await rpc(relay!.url, "GetTask", { id: "p4" })).error?.code).toBe(-32001);
    expect(
      (await rpc(relay!.url, "ListTaskPushNotificationConfigs", { taskId: "not-mine" })).error?.code,
    ).toBe(-32001);
  });

  test("a brief's reply_to URL receives the settled task once; relay:<profile> starts a local turn", async () => {
    const hook = webhook(1);
    const brief = (reply_to: string) => ({
      data: { context: "ctx for reply", expected_output: "anything", reply_to },
      mediaType: "application/json",
    });
    const sent = await rpc(relay!.url, "SendMessage", {
      message: { messageId: "r1", role: "ROLE_USER", parts: [{ text: "x" }, brief(hook.url)] },
    });
    expect(sent.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    await until(() => hook.got.length >= 1);
    await Bun.sleep(150);
    expect(hook.got).toHaveLength(1);
    const body = hook.got[0]!.body as { task: { id: string; status: { state: string } } };
    expect(body.task.id).toBe(sent.result.task.id);
    expect(body.task.status.state).toBe("TASK_STATE_COMPLETED");
    hook.stop();

    const local = await rpc(relay!.url, "SendMessage", {
      message: { messageId: "r2", role: "ROLE_USER", parts: [{ text: "y" }, brief("relay:echo")] },
    });
    const source = local.result.task.id as string;
    let follow: { id: string; history?: Array<{ messageId: string }> } | undefined;
    await until(() => {
      const all = relay!.engine.list("local", { pageSize: 50, historyLength: 100 }).tasks;
      follow = all.find((t) => t.history?.[0]?.messageId === `reply-to:${source}`);
      return follow !== undefined;
    });
    const reply = relay!.engine.get(follow!.id, "local");
    expect(reply.history?.[0]?.parts[0]?.text).toContain(`Result of task ${source} (completed)`);
    const bad = await rpc(relay!.url, "SendMessage", {
      message: { messageId: "r3", role: "ROLE_USER", parts: [{ text: "z" }, brief("relay:nope")] },
    });
    expect(bad.error?.code).toBe(-32602);
  });

  test("/admin/push shows deliveries without their headers", async () => {
    const res = await fetch(`${relay!.url}/admin/push`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { deliveries: Array<Record<string, unknown>> };
    expect(body.deliveries.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toContain("hook-secret");
    expect(readFileSync(join(dir, "config.toml"), "utf8")).toContain("push_hosts");
  });
});
