import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../helpers/until.ts";
import { createLinkedHosts, type LinkedHosts } from "./_netns.ts";
import { type RelayProc, startRelayProc } from "./_relays.ts";

/**
 * Issue 22 on a real network: relays in two namespaces whose data link goes silent (every packet
 * dropped, both links up) for 40 s, then slow (token bucket). The test watches both relays over
 * control links of their own. Needs root and iproute2 (tc); fails with the reason where it can't.
 * Run by `npm run test:network` (it takes about two minutes).
 */

const PAIR = "pair-secret-between-a-and-b";
const TESTER = "tester-token-0123456789abcdef";
const PARTITION_MS = 40_000;
// biome-ignore lint/suspicious/noExplicitAny: test inspection of arbitrary JSON
type Json = any;

let net: LinkedHosts;
let dir: string;
let relayB: RelayProc;
let relayA: RelayProc;
let relayA2: RelayProc;
let urlB: string;

const configA = (b: string) => `
[server]
id = "host-a"
log_level = "warn"
shutdown_grace_s = 1
connect_timeout_s = 5
[peers.tester]
profiles = ["*"]
[profiles.far]
remote = "${b}"
remote_profile = "echo"
auth = "token"
[profiles.far-capped]
remote = "${b}"
remote_profile = "echo"
auth = "token"
turn_timeout_s = 15
[profiles.far-slow]
remote = "${b}"
remote_profile = "echo"
auth = "token"
turn_timeout_s = 3
`;

const startA = (name: string) =>
  startRelayProc({
    name,
    dir: join(dir, name),
    lockDir: join(dir, name, "locks"),
    netns: net.a,
    host: "0.0.0.0",
    env: { A2A_OC_TOKEN_HOST_B: PAIR, A2A_OC_TOKEN_TESTER: TESTER },
    toml: configA(urlB),
  });

/** A JSON-RPC call in A2A v1.0 with a bearer token, bounded (a blocking send waits out the partition). */
async function rpc(url: string, token: string, method: string, params: unknown, ms = 20_000) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(ms),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const ctl = (r: RelayProc, host: string) => `http://${host}:${r.port}`;
const onA = (r: RelayProc, profile: string, method: string, params: unknown) =>
  rpc(`${ctl(r, net.ctlA)}/a2a/${profile}`, TESTER, method, params).then((x) => x.body);
const onB = (method: string, params: unknown) =>
  rpc(`${ctl(relayB, net.ctlB)}/a2a/echo`, PAIR, method, params).then((x) => x.body);

const msg = (text: string) => ({ messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] });

async function start(r: RelayProc, profile: string, text: string): Promise<string> {
  const body = await onA(r, profile, "SendMessage", {
    message: msg(text),
    configuration: { returnImmediately: true },
  });
  if (!body.result?.task?.id) throw new Error(`no task: ${JSON.stringify(body)}`);
  return body.result.task.id;
}

/** B's tasks (as host-a sees them), by their message text. */
async function tasksOnB(): Promise<Map<string, Json[]>> {
  const all = (await onB("ListTasks", { pageSize: 100, historyLength: 100 })).result.tasks as Json[];
  const by = new Map<string, Json[]>();
  for (const t of all) {
    const text = t.history?.[0]?.parts?.[0]?.text ?? "";
    by.set(text, [...(by.get(text) ?? []), t]);
  }
  return by;
}

const settled = (r: RelayProc, profile: string, id: string) => async () => {
  const t = (await onA(r, profile, "GetTask", { id })).result;
  return t && t.status.state !== "TASK_STATE_WORKING" && t.status.state !== "TASK_STATE_SUBMITTED"
    ? t
    : undefined;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "a2a-dark-net-"));
  net = createLinkedHosts();
  relayB = await startRelayProc({
    name: "host-b",
    dir: join(dir, "b"),
    lockDir: join(dir, "b", "locks"),
    netns: net.b,
    host: "0.0.0.0",
    env: { A2A_OC_TOKEN_HOST_A: PAIR },
    toml: `
[server]
id = "host-b"
log_level = "warn"
shutdown_grace_s = 1
keepalive_s = 5
[peers.host-a]
profiles = ["*"]
[profiles.echo]
handler = "echo"
turn_timeout_s = 300
`,
  });
  urlB = `http://${net.addrB}:${relayB.port}`;
  [relayA, relayA2] = await Promise.all([startA("host-a"), startA("host-a2")]);
}, 60_000);

afterAll(async () => {
  net?.silence(false);
  await Promise.allSettled([relayA?.kill(), relayA2?.kill(), relayB?.kill()]);
  net?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a silent partition between two relays (40 s)", () => {
  test("in-flight turns complete once it heals, a new turn fails in bounded time, a capped turn is canceled on B, a restarted relay re-attaches", async () => {
    // warm: each relay has read B's card and holds a connection to it
    for (const r of [relayA, relayA2]) {
      const w = await onA(r, "far", "SendMessage", { message: msg(`warm ${r.name}`) });
      expect(w.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    }
    const inflight = await Promise.all(
      Array.from({ length: 10 }, (_, i) => start(relayA, "far", `sleep:5000 in flight ${i}`)),
    );
    // blocking callers too: their turns are streamed upstream all the same
    const blocking = Array.from({ length: 3 }, (_, i) =>
      rpc(
        `${ctl(relayA, net.ctlA)}/a2a/far`,
        TESTER,
        "SendMessage",
        { message: msg(`sleep:5000 blocking ${i}`) },
        150_000,
      ),
    );
    const capped = await start(relayA, "far-capped", "sleep:120000 capped");
    const restarted = await Promise.all(
      Array.from({ length: 3 }, (_, i) => start(relayA2, "far", `sleep:5000 restart ${i}`)),
    );
    await until(
      () =>
        (async () => {
          const by = await tasksOnB();
          const n = [...by.keys()].filter((k) => k.startsWith("sleep:")).length;
          return n === 10 + 3 + 1 + 3 ? true : undefined;
        })().catch(() => undefined),
      15_000,
      "every turn running on B",
      200,
    );

    net.silence(true);
    const partitioned = Date.now();
    try {
      // a new turn on the dark path: -32045 naming the timeout within connect_timeout_s + 2 s
      const t0 = Date.now();
      const fresh = (await onA(relayA, "far", "SendMessage", { message: msg("during the partition") })).result
        .task;
      expect(Date.now() - t0).toBeLessThan(7000);
      expect(fresh.status.state).toBe("TASK_STATE_FAILED");
      expect(fresh.metadata.error).toEqual({ code: -32045, reason: "UPSTREAM_UNAVAILABLE" });
      expect(fresh.status.message.parts[0].text).toContain("no connection within 5 s");

      // relay A2 dies and comes back while the path is dark
      await relayA2.kill();
      relayA2 = await startA("host-a2");
      for (const id of restarted) {
        expect((await onA(relayA2, "far", "GetTask", { id })).result.status.state).toBe("TASK_STATE_WORKING");
      }

      // the capped turn runs out on A during the partition
      const failed = await until(
        () => settled(relayA, "far-capped", capped)().catch(() => undefined),
        30_000,
        "the capped turn to end on A",
        200,
      );
      expect(failed.status.state).toBe("TASK_STATE_FAILED");
      expect(failed.status.message.parts[0].text).toContain("turn exceeded");
      expect(failed.status.message.parts[0].text).toContain("keeps asking it to cancel");

      // nothing else on A gave up meanwhile
      for (const id of inflight) {
        expect((await onA(relayA, "far", "GetTask", { id })).result.status.state).toBe("TASK_STATE_WORKING");
      }
      await Bun.sleep(Math.max(0, PARTITION_MS - (Date.now() - partitioned)));
    } finally {
      net.silence(false);
    }
    const healed = Date.now();

    for (const id of inflight) {
      const t = await until(
        () => settled(relayA, "far", id)().catch(() => undefined),
        30_000,
        `turn ${id} to end on A`,
        200,
      );
      expect(t.status.state).toBe("TASK_STATE_COMPLETED");
      expect(t.status.message.parts[0].text).toStartWith("in flight ");
    }
    for (const b of await Promise.all(blocking)) {
      expect(b.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    }
    for (const id of restarted) {
      const t = await until(
        () => settled(relayA2, "far", id)().catch(() => undefined),
        30_000,
        `restarted turn ${id} to end`,
        200,
      );
      expect(t.status.state).toBe("TASK_STATE_COMPLETED");
    }
    const within = Date.now() - healed;
    expect(within).toBeLessThan(20_000);

    // B: exactly one task per message; the capped one canceled, not completed
    const by = await until(
      () =>
        (async () => {
          const m = await tasksOnB();
          return m.get("sleep:120000 capped")?.[0]?.status.state === "TASK_STATE_CANCELED" ? m : undefined;
        })().catch(() => undefined),
      30_000,
      "B's capped task to be canceled",
      200,
    );
    for (const [text, tasks] of by) if (text.startsWith("sleep:")) expect(tasks).toHaveLength(1);
    expect(by.has("during the partition")).toBe(false);
    console.log(`dark network: all turns settled ${within} ms after the path healed`);
  }, 180_000);
});

describe("a slow link (token bucket)", () => {
  test("a forwarded answer carries the text once each way, and the turn cap holds", async () => {
    net.rate("2mbit");
    try {
      const text = "y".repeat(200_000);
      const before = net.sentByB();
      const done = await onA(relayA, "far", "SendMessage", { message: msg(text) });
      expect(done.result.task.status.state).toBe("TASK_STATE_COMPLETED");
      const back = net.sentByB() - before;
      // the request (~200 KB) went up; back came the reply twice at most (artifact + final
      // status, echo's reply is the request's text) plus framing: no history, no request text
      expect(back).toBeLessThan(2 * text.length + 40_000);

      net.rate("256kbit");
      const t0 = Date.now();
      const slow = await onA(relayA, "far-slow", "SendMessage", { message: msg(text) });
      expect(slow.result.task.status.state).toBe("TASK_STATE_FAILED");
      expect(slow.result.task.status.message.parts[0].text).toContain("turn exceeded");
      expect(Date.now() - t0).toBeLessThan(3000 + 3000);
    } finally {
      net.rate(undefined);
    }
  }, 90_000);
});
