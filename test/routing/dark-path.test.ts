import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { netReason, neverConnected } from "../../src/receivers/a2a/reach.ts";
import { type DarkProxy, startDarkProxy } from "../helpers/dark-proxy.ts";
import { until } from "../helpers/until.ts";
import {
  freePort,
  hostAToml,
  type RoutingRelay,
  startHostB,
  startRoutingRelay,
  v1Message,
} from "./_relay.ts";
import type { Json } from "./_sdk.ts";

/**
 * Issue 22 in one process: relay A forwards to relay B through a TCP proxy that can go dark
 * (bytes of open connections dropped without a reset, new connections refused). B announces a
 * 0.5 s keepalive, so A takes 1.5 s of silence for a dead connection. The two-namespace suite
 * (test/peering/dark-network.nettest.ts) does the same with a real silent partition.
 */

const PAIR = "pair-secret-between-a-and-b";
let b: RoutingRelay;
let proxy: DarkProxy;
let a: RoutingRelay;

const configA = (far: string) =>
  hostAToml(
    far,
    `[profiles.far-short]
remote = "${far}"
remote_profile = "echo"
auth = "token"
turn_timeout_s = 2
`,
  );

beforeAll(async () => {
  b = await startHostB(PAIR);
  proxy = await startDarkProxy(Number(new URL(b.url).port));
  a = await startRoutingRelay({ env: { A2A_OC_TOKEN_HOST_B: PAIR }, toml: configA(proxy.url) });
});
afterAll(async () => {
  proxy?.setDark(false);
  await a?.stop();
  proxy?.stop();
  await b?.stop();
}, 30_000);

async function onB(method: string, params: unknown): Promise<Json> {
  const r = await b.rpc(method, params, { headers: { authorization: `Bearer ${PAIR}` } });
  return r.body;
}

/** B's tasks whose (only) message is `text`. */
async function onBWith(text: string): Promise<Json[]> {
  const all = (await onB("ListTasks", { pageSize: 100, historyLength: 100 })).result.tasks as Json[];
  return all.filter((t) => t.history?.[0]?.parts?.[0]?.text === text);
}

async function startOn(relay: RoutingRelay, profile: string, text: string): Promise<string> {
  const r = await relay.rpc(
    "SendMessage",
    { message: v1Message(text), configuration: { returnImmediately: true } },
    { path: `/a2a/${profile}` },
  );
  return r.body.result.task.id;
}

const stateOn = async (relay: RoutingRelay, id: string, profile = "far"): Promise<Json> =>
  (await relay.rpc("GetTask", { id }, { path: `/a2a/${profile}` })).body.result;

describe("a dark path between two relays", () => {
  test("turns in flight complete on A once the path heals; B ran each message once", async () => {
    // warm: the remote's card is read once, before the path goes dark
    await a.rpc("SendMessage", { message: v1Message("warm") }, { path: "/a2a/far" });
    const followed = await startOn(a, "far", "sleep:1500 followed");
    const blocking = a.rpc("SendMessage", { message: v1Message("sleep:1500 waited") }, { path: "/a2a/far" });
    await until(
      async () => {
        const n = (await onBWith("sleep:1500 followed")).length + (await onBWith("sleep:1500 waited")).length;
        return n === 2 ? true : undefined;
      },
      5000,
      "both turns running on B",
    );
    proxy.setDark(true);
    await Bun.sleep(4000);
    // B finished both while dark; A does not say FAILED meanwhile, it says it re-attaches
    const meanwhile = await stateOn(a, followed);
    expect(meanwhile.status.state).toBe("TASK_STATE_WORKING");
    expect(meanwhile.status.message.parts[0].text).toContain("went silent for 1.5 s");
    expect(meanwhile.status.message.parts[0].text).toContain("re-attaching");
    const healed = Date.now();
    proxy.setDark(false);
    const t = await until(
      async () => {
        const s = await stateOn(a, followed);
        return s.status.state === "TASK_STATE_WORKING" ? undefined : s;
      },
      15_000,
      "A's followed turn to end",
    );
    expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    expect(t.status.message.parts[0].text).toBe("followed");
    const w = (await blocking).body.result.task;
    expect(w.status.state).toBe("TASK_STATE_COMPLETED");
    expect(w.status.message.parts[0].text).toBe("waited");
    expect(Date.now() - healed).toBeLessThan(8000);
    // B ran each message exactly once
    expect(await onBWith("sleep:1500 followed")).toHaveLength(1);
    expect(await onBWith("sleep:1500 waited")).toHaveLength(1);
  }, 30_000);

  test("a turn whose cap runs out while dark: FAILED on A naming what it saw, CANCELED on B after", async () => {
    const id = await startOn(a, "far-short", "sleep:20000 capped");
    const onb = await until(
      async () => (await onBWith("sleep:20000 capped"))[0],
      5000,
      "the turn running on B",
    );
    proxy.setDark(true);
    try {
      const failed = await until(
        async () => {
          const s = await stateOn(a, id, "far-short");
          return s.status.state === "TASK_STATE_WORKING" ? undefined : s;
        },
        10_000,
        "A's turn to end",
      );
      expect(failed.status.state).toBe("TASK_STATE_FAILED");
      const why = failed.status.message.parts[0].text as string;
      expect(why).toContain("turn exceeded");
      expect(why).toContain(`upstream task ${onb.id}`);
      expect(why).toContain("keeps asking it to cancel");
      expect((await onB("GetTask", { id: onb.id })).result.status.state).toBe("TASK_STATE_WORKING");
    } finally {
      proxy.setDark(false);
    }
    const canceled = await until(
      async () => {
        const s = (await onB("GetTask", { id: onb.id })).result;
        return s.status.state === "TASK_STATE_WORKING" ? undefined : s;
      },
      15_000,
      "B's task to be canceled",
    );
    expect(canceled.status.state).toBe("TASK_STATE_CANCELED");
  }, 30_000);

  test("a relay restarted while dark re-attaches to its forwarded turns after", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-dark-restart-"));
    const port = freePort();
    const env = { A2A_OC_TOKEN_HOST_B: PAIR };
    let a2 = await startRoutingRelay({ env, toml: configA(proxy.url), dir, port });
    try {
      const id = await startOn(a2, "far", "sleep:2500 across a restart");
      await until(
        async () => (await onBWith("sleep:2500 across a restart"))[0],
        5000,
        "the turn running on B",
      );
      proxy.setDark(true);
      await a2.halt();
      a2 = await startRoutingRelay({ env, toml: configA(proxy.url), dir, port });
      const after = await until(
        async () => {
          const s = await stateOn(a2, id);
          return s.status.message?.parts[0].text.includes("re-attaching") ? s : undefined;
        },
        5000,
        "the restarted relay to pick the turn up",
      );
      expect(after.status.message.parts[0].text).toStartWith(
        "relay restarted: re-attaching to upstream task",
      );
      expect(after.status.state).toBe("TASK_STATE_WORKING");
      await Bun.sleep(2000);
      proxy.setDark(false);
      const t = await until(
        async () => {
          const s = await stateOn(a2, id);
          return s.status.state === "TASK_STATE_WORKING" ? undefined : s;
        },
        15_000,
        "the resumed turn to end",
      );
      expect(t.status.state).toBe("TASK_STATE_COMPLETED");
      expect(t.status.message.parts[0].text).toBe("across a restart");
      expect(await onBWith("sleep:2500 across a restart")).toHaveLength(1);
    } finally {
      proxy.setDark(false);
      await a2.stop();
    }
  }, 40_000);

  test("a forwarded answer carries the text once each way: no history comes back", async () => {
    const text = "x".repeat(100_000);
    const before = { up: proxy.toTarget, down: proxy.toClient };
    const r = await a.rpc("SendMessage", { message: v1Message(text) }, { path: "/a2a/far" });
    expect(r.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    const up = proxy.toTarget - before.up;
    const down = proxy.toClient - before.down;
    expect(up).toBeGreaterThan(text.length);
    expect(up).toBeLessThan(text.length + 8_000);
    // the reply (the same text, from echo) in the artifact and the final status: no request text
    expect(down).toBeLessThan(2 * text.length + 8_000);
  });

  test("a path that refuses connections fails a new turn at once, in words", async () => {
    proxy.setDark(true);
    try {
      const t0 = Date.now();
      const r = await a.rpc("SendMessage", { message: v1Message("nobody home") }, { path: "/a2a/far" });
      const t = r.body.result.task;
      expect(t.status.state).toBe("TASK_STATE_FAILED");
      expect(t.metadata.error).toEqual({ code: -32045, reason: "UPSTREAM_UNAVAILABLE" });
      expect(t.status.message.parts[0].text).toBe(
        `upstream unavailable: connection refused (${proxy.url}/a2a/echo); nothing reached it, so nothing runs there: send again once it is back`,
      );
      // nothing of it reached B
      expect(await onBWith("nobody home")).toHaveLength(0);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      proxy.setDark(false);
    }
  });
});

describe("network errors in words", () => {
  test("codes become words; the runtime's hints are dropped; TLS keeps its code", () => {
    const e = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(netReason(e("ENETUNREACH", "ENETUNREACH: Was there a typo in the url or port?"))).toBe(
      "network unreachable",
    );
    expect(
      netReason(
        e(
          "ECONNRESET",
          "The socket connection was closed unexpectedly. For more information, pass `verbose: true` in the second argument to fetch()",
        ),
      ),
    ).toBe("connection reset");
    expect(netReason(e("ETIMEDOUT", "ETIMEDOUT"))).toBe("timed out");
    expect(netReason(e("SELF_SIGNED_CERT_IN_CHAIN", "self signed certificate in chain"))).toBe(
      "TLS: the upstream's certificate was not accepted (SELF_SIGNED_CERT_IN_CHAIN)",
    );
    expect(netReason(new Error("something odd. Was there a typo in the url or port?"))).toBe(
      "something odd.",
    );
    // Deno: "fetch failed", the reason in `cause`; a refused connection is one that never opened
    const deno = Object.assign(new TypeError("fetch failed"), {
      cause: new Error(
        "error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp connect error: Connection refused (os error 111)",
      ),
    });
    expect(netReason(deno)).toBe("connection refused");
    expect(neverConnected(deno)).toBe(true);
    expect(neverConnected(e("ECONNRESET", "reset"))).toBe(false);
  });
});
