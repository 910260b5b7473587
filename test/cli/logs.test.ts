import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, type Served, serveProcess } from "./_serve.ts";

/** The log an operator follows: a line per settled or failed task and per refusal, as JSON on stdout. */

let dir: string;
let r: Served;
const CI_TOKEN = "ci-token-0123456789abcdef0123456789";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "a2a-relay-logs-"));
  const file = join(dir, "relay.toml");
  writeFileSync(
    file,
    `[profiles.echo]\nhandler = "echo"\n[peers.ci]\nprofiles = ["echo"]\ntoken_env = "CI_TOKEN"\n[peers.ci.budget]\nwindow = "total"\nmax_turns = 2\n`,
  );
  r = await serveProcess(["--config", file, "--port", "0", "--log-format", "json"], { CI_TOKEN });
}, 20_000);
afterAll(async () => {
  await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lines = () =>
  r
    .stdout()
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function waitFor<T>(find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = find();
    if (v) return v;
    await Bun.sleep(50);
  }
  throw new Error(`not logged:\n${r.stdout()}`);
}

test("a settled task, a failed task and a budget refusal each get a line naming task, peer and profile", async () => {
  const env = { ...r.env, A2A_RELAY_TOKEN: CI_TOKEN };
  const ok = await runCli(["send", "echo", "hello", "--url", r.url], env);
  expect(ok.code).toBe(0);
  const failed = await runCli(["send", "echo", "fail: upstream said no", "--url", r.url], env);
  expect(failed.code).toBe(1);
  const refused = await runCli(["send", "echo", "one too many", "--url", r.url], env);
  expect(refused.code).toBe(4);

  const settled = await waitFor(() => lines().find((l) => l.msg === "task settled"));
  expect(settled).toMatchObject({ level: 30, event: "task", peer: "ci", profile: "echo", handler: "echo" });
  expect(settled.state).toBe("completed");
  expect(typeof settled.task).toBe("string");
  expect(typeof settled.context).toBe("string");
  expect(typeof settled.ms).toBe("number");
  expect(settled.tokens).toBeGreaterThan(0);

  const bad = await waitFor(() => lines().find((l) => l.msg === "task failed"));
  expect(bad).toMatchObject({
    level: 40,
    peer: "ci",
    profile: "echo",
    state: "failed",
    reason: "upstream said no",
  });

  const no = await waitFor(() => lines().find((l) => l.msg === "refused"));
  expect(no).toMatchObject({ level: 40, event: "refused", reason: "BUDGET_EXCEEDED", peer: "ci" });

  // the request lines say who, and no line carries the token
  const req = lines().filter((l) => l.msg === "request" && l.peer === "ci");
  expect(req.length).toBeGreaterThanOrEqual(3);
  expect(r.stdout()).not.toContain(CI_TOKEN);
  // the banner is not in the log stream
  expect(r.stdout()).not.toContain("listening on");
}, 30_000);

test("a bad credential is a refusal line with the reason, never the credential", async () => {
  const got = await runCli(["send", "echo", "x", "--url", r.url], {
    ...r.env,
    A2A_RELAY_TOKEN: "wrong-token-value",
  });
  expect(got.code).toBe(3);
  const line = await waitFor(() => lines().find((l) => l.msg === "authentication refused"));
  expect(line).toMatchObject({ level: 40, event: "refused", reason: "UNAUTHENTICATED" });
  expect(r.stdout()).not.toContain("wrong-token-value");
});

test("a request line names the task where the request does (plain-text door, REST paths)", async () => {
  const token = (await Bun.file(`${r.dataDir}/tokens/local.token`).text()).trim();
  const res = await fetch(`${r.url}/send/echo`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
    body: "named",
  });
  expect(res.status).toBe(200);
  const id = res.headers.get("a2a-task-id");
  const line = await waitFor(() => lines().find((l) => l.msg === "request" && l.path === "/send/echo"));
  expect(line).toMatchObject({ task: id, peer: "local", profile: "echo", status: 200 });
});

interface RpcBody {
  result?: { task: { id: string; status: { state: string } } };
  error?: { code: number };
}

/** A JSON-RPC v1.0 call as the local peer; `path` defaults to the profile-less `/a2a`. */
async function rpc(method: string, params: unknown, path = "/a2a") {
  const token = (await Bun.file(`${r.dataDir}/tokens/local.token`).text()).trim();
  const res = await fetch(`${r.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "a2a-version": "1.0" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return { res, body: (await res.json()) as RpcBody };
}

const userMessage = (text: string, contextId: string) => ({
  message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }], contextId },
  metadata: { profile: "echo" },
});

test("queue_ms is the time a turn waited behind its conversation; JSON-RPC request lines name the task and profile", async () => {
  const contextId = `queued-${crypto.randomUUID()}`;
  // the first turn holds the conversation ~700 ms; the second is admitted at once and waits for it
  const first = await rpc("SendMessage", {
    ...userMessage("sleep:700 first", contextId),
    configuration: { returnImmediately: true },
  });
  const firstId = first.body.result!.task.id;
  const t0 = Date.now();
  const second = await rpc("SendMessage", userMessage("second", contextId));
  const waited = Date.now() - t0;
  const secondId = second.body.result!.task.id;
  expect(second.body.result?.task.status.state).toBe("TASK_STATE_COMPLETED");

  const settledOf = (id: string) =>
    waitFor(() => lines().find((l) => l.msg === "task settled" && l.task === id));
  const a = await settledOf(firstId);
  const b = await settledOf(secondId);
  expect(typeof a.queue_ms).toBe("number");
  expect(a.queue_ms as number).toBeLessThan(300);
  expect(a.ms as number).toBeGreaterThanOrEqual(650);
  // the second turn waited for the first one's remaining time, and never longer than its caller did
  expect(b.queue_ms as number).toBeGreaterThanOrEqual(450);
  expect(b.queue_ms as number).toBeLessThanOrEqual(waited);
  expect(b.ms as number).toBeLessThan(b.queue_ms as number);

  // the task a SendMessage created, and the one a GetTask / CancelTask / SubscribeToTask names,
  // with its profile though the URL names none
  await rpc("GetTask", { id: firstId });
  const cancel = await rpc("CancelTask", { id: secondId });
  expect(cancel.body.error?.code).toBe(-32002); // already completed: not cancelable
  const sub = await rpc("SubscribeToTask", { id: firstId }, "/a2a/echo");
  expect(sub.body.error).toBeDefined(); // terminal: nothing to subscribe to
  const unknown = await rpc("GetTask", { id: "no-such-task" });
  expect(unknown.body.error?.code).toBe(-32001);

  const requests = () => lines().filter((l) => l.msg === "request" && l.peer === "local");
  const line = (rpcName: string, task: string) =>
    waitFor(() => requests().find((l) => l.rpc === rpcName && l.task === task));
  expect(await line("SendMessage", firstId)).toMatchObject({ profile: "echo", path: "/a2a", status: 200 });
  expect(await line("SendMessage", secondId)).toMatchObject({ profile: "echo" });
  expect(await line("GetTask", firstId)).toMatchObject({ profile: "echo", path: "/a2a" });
  expect(await line("CancelTask", secondId)).toMatchObject({ profile: "echo" });
  expect(await line("SubscribeToTask", firstId)).toMatchObject({ profile: "echo", path: "/a2a/echo" });
  // a task that is not the caller's is named (what was asked for), with no profile
  const miss = await line("GetTask", "no-such-task");
  expect(miss.profile).toBeUndefined();
}, 30_000);
