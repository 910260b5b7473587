import { afterAll, describe, expect, test } from "bun:test";
import type { Client } from "@a2a-js/sdk/client";
import { type RelayProcess, startBinary, stopAll, waitFor } from "../helpers/binary.ts";
import { sdkClientFor } from "../routing/_sdk.ts";
import { rpc, sdkSend, taskJson } from "./_client.ts";

/**
 * SIGTERM against the compiled binary while the official SDK client (both bindings) holds streams
 * open: a subscription to a task waiting for input does not hold the stop; it ends cleanly, the
 * task stays as it was, and a subscription after the restart works. A stream whose turn settles
 * within the grace still gets its last event.
 */

afterAll(stopAll);

type Json = ReturnType<typeof taskJson>;
type Events = Array<{ kind: string; state?: string }>;

const GRACE = "[server]\nshutdown_grace_s = 1\n";

async function clients(r: RelayProcess): Promise<Record<"jsonrpc" | "rest", Client>> {
  const base = `${r.url}/a2a/echo/`;
  return { jsonrpc: await sdkClientFor(base, r.token), rest: await sdkClientFor(base, r.token, "rest") };
}

/** Reads a stream in the background: what arrived so far, and how it ended. */
function reader(gen: AsyncGenerator<{ payload?: { $case: string; value: unknown } }>) {
  const events: Events = [];
  const ended = (async () => {
    for await (const e of gen) {
      const p = e.payload!;
      const json: Json = p.$case === "task" ? taskJson(p.value) : p.value;
      const state =
        p.$case === "task" ? json.status?.state : p.$case === "statusUpdate" ? json.status : undefined;
      events.push({ kind: p.$case, ...(state !== undefined ? { state: stateName(state) } : {}) });
    }
    return "ended" as const;
  })().catch((e: unknown) => `failed: ${(e as Error).message}`);
  return { events, ended };
}

/** statusUpdate states are ts-proto objects (numeric enum): the enum name. */
function stateName(s: unknown): string {
  if (typeof s === "string") return s;
  const st = (s as { state?: number }).state;
  return taskJson({ id: "", contextId: "", status: { state: st }, artifacts: [], history: [] }).status.state;
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, Bun.sleep(ms).then(() => "still open" as const)]);

async function stateOf(r: RelayProcess, id: string): Promise<string> {
  const { body } = await rpc(r, "GetTask", { id });
  return body.result.status.state;
}

describe("SIGTERM with open A2A streams", () => {
  test("subscriptions to an INPUT_REQUIRED task end at once; the task stays; re-subscribing after restart works", async () => {
    const r = await startBinary({ toml: GRACE });
    const c = await clients(r);
    const asked = taskJson(await c.jsonrpc.sendMessage(sdkSend("ask: which branch?")));
    expect(asked.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const id = asked.id as string;
    const subs = {
      jsonrpc: reader(c.jsonrpc.resubscribeTask({ tenant: "", id })),
      rest: reader(c.rest.resubscribeTask({ tenant: "", id })),
    };
    await waitFor(
      async () => subs.jsonrpc.events.length > 0 && subs.rest.events.length > 0,
      3_000,
      "both subscriptions to get the snapshot",
    );

    const t0 = Date.now();
    expect(await r.stop("SIGTERM", 8_000)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3_000);
    for (const s of Object.values(subs)) {
      expect(await within(s.ended, 2_000)).toBe("ended");
      // the snapshot, then just the end of the stream: nothing was made up for the stop
      expect(s.events).toEqual([{ kind: "task", state: "TASK_STATE_INPUT_REQUIRED" }]);
    }

    const again = await startBinary({ dataDir: r.dataDir, toml: GRACE });
    expect(await stateOf(again, id)).toBe("TASK_STATE_INPUT_REQUIRED");
    const c2 = await clients(again);
    const sub = reader(c2.rest.resubscribeTask({ tenant: "", id }));
    await waitFor(async () => sub.events.length > 0, 3_000, "the subscription after the restart");
    expect(sub.events[0]).toEqual({ kind: "task", state: "TASK_STATE_INPUT_REQUIRED" });
    const answered = taskJson(
      await c2.jsonrpc.sendMessage(sdkSend("main", { message: { taskId: id, contextId: asked.contextId } })),
    );
    expect(answered.status.state).toBe("TASK_STATE_COMPLETED");
    expect(await within(sub.ended, 3_000)).toBe("ended");
    expect(sub.events.at(-1)).toEqual({ kind: "statusUpdate", state: "TASK_STATE_COMPLETED" });
    expect(await again.stop("SIGTERM", 8_000)).toBe(0);
  }, 40_000);

  test("a turn that settles within the grace streams its last event; one that would outlive it FAILS; the stop takes the grace, not longer", async () => {
    const r = await startBinary({ toml: GRACE });
    const c = await clients(r);
    const start = async (text: string) => {
      const t = taskJson(
        await c.jsonrpc.sendMessage(sdkSend(text, { configuration: { returnImmediately: true } })),
      );
      return t.id as string;
    };
    const quick = await start("sleep:600 in time");
    const slow = await start("sleep:20000 too long");
    // an INPUT_REQUIRED task's streamed send ends by itself; its subscription must not hold the stop
    const asked = taskJson(await c.rest.sendMessage(sdkSend("ask: and then?")));
    await waitFor(
      async () =>
        (await stateOf(r, quick)) === "TASK_STATE_WORKING" &&
        (await stateOf(r, slow)) === "TASK_STATE_WORKING",
      3_000,
      "both turns to start",
    );
    const subs = {
      quick: reader(c.rest.resubscribeTask({ tenant: "", id: quick })),
      slow: reader(c.jsonrpc.resubscribeTask({ tenant: "", id: slow })),
      asked: reader(c.jsonrpc.resubscribeTask({ tenant: "", id: asked.id })),
    };
    await waitFor(
      async () => Object.values(subs).every((s) => s.events.length > 0),
      3_000,
      "every subscription to get the snapshot",
    );

    const t0 = Date.now();
    expect(await r.stop("SIGTERM", 8_000)).toBe(0);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(3_000);
    expect(took).toBeGreaterThanOrEqual(900); // the slow turn had its grace
    for (const s of Object.values(subs)) expect(await within(s.ended, 2_000)).toBe("ended");
    expect(subs.quick.events.at(-1)).toEqual({ kind: "statusUpdate", state: "TASK_STATE_COMPLETED" });
    expect(subs.slow.events.at(-1)).toEqual({ kind: "statusUpdate", state: "TASK_STATE_FAILED" });
    expect(subs.asked.events).toEqual([{ kind: "task", state: "TASK_STATE_INPUT_REQUIRED" }]);

    const again = await startBinary({ dataDir: r.dataDir, toml: GRACE });
    expect(await stateOf(again, quick)).toBe("TASK_STATE_COMPLETED");
    expect(await stateOf(again, slow)).toBe("TASK_STATE_FAILED");
    expect(await stateOf(again, asked.id)).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(await again.stop("SIGTERM", 8_000)).toBe(0);
  }, 40_000);
});
