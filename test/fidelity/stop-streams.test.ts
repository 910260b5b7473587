import { afterAll, expect, test } from "bun:test";
import { userMessageV03 } from "../helpers/messages.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { sseData } from "../routing/_relay.ts";

/**
 * The relay stopping under subscriptions of a task waiting for input, in every front door and
 * dialect the e2e test (test/e2e/stop-streams.test.ts) does not drive: v0.3 `tasks/resubscribe`
 * and a plain-fetch HTTP+JSON `:subscribe`. Each stream ends after its snapshot, the stop does
 * not wait for it, and the task is as it was after the restart.
 */

let r: TestRelay | undefined;
afterAll(async () => {
  await r?.stop();
});

test("v0.3 tasks/resubscribe and HTTP+JSON :subscribe of an INPUT_REQUIRED task end when the relay stops", async () => {
  r = await startTestRelay({ toml: "[server]\nshutdown_grace_s = 5\n" });
  const auth = { authorization: `Bearer ${r.token}` };
  const asked = await r.rpc("SendMessage", { message: userMessage("ask: which one?") });
  const id = asked.body.result.task.id as string;
  expect(asked.body.result.task.status.state).toBe("TASK_STATE_INPUT_REQUIRED");

  const v03 = await fetch(`${r.url}/a2a/echo`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks/resubscribe", params: { id } }),
  });
  const rest = await fetch(`${r.url}/a2a/echo/tasks/${id}:subscribe`, {
    headers: { "a2a-version": "1.0", ...auth },
  });
  expect([v03.status, rest.status]).toEqual([200, 200]);
  const bodies = [v03.text(), rest.text()];

  const t0 = Date.now();
  await r.halt();
  // the grace is 5 s: nothing ran, so nothing waited for it
  expect(Date.now() - t0).toBeLessThan(2_000);
  const [oldFrames, restFrames] = (await Promise.all(bodies)).map(sseData);
  expect(oldFrames!.map((f) => [f.result.kind, f.result.status?.state])).toEqual([
    ["task", "input-required"],
  ]);
  expect(restFrames!.map((f) => f.task?.status.state)).toEqual(["TASK_STATE_INPUT_REQUIRED"]);

  r = await startTestRelay({ dir: r.dir, toml: "[server]\nshutdown_grace_s = 5\n" });
  expect((await r.rpc("GetTask", { id })).body.result.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
  // still answerable in the old dialect as in the new
  const answered = await fetch(`${r.url}/a2a/echo`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${r.token}` },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "message/send",
      params: {
        message: userMessageV03("that one", { taskId: id, contextId: asked.body.result.task.contextId }),
      },
    }),
  });
  const reply = (await answered.json()) as { result: { status: { state: string } } };
  expect(reply.result.status.state).toBe("completed");
}, 20_000);
