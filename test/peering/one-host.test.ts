import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FleetAgent, fleetSend, startHermesFleetAgent } from "../helpers/hermes-fleet-agent.ts";
import { until } from "../helpers/until.ts";
import { type RelayProc, rpc, startRelayProc, transcript } from "./_relays.ts";

/**
 * Two Hermes profiles on one host, each fronted by its own relay *process*
 * (`serve --port auto --band hermes --name hermes-a|hermes-b`, one lock dir, two data dirs).
 * Hermes profile A is an older-dialect fleet node that calls out: it sends, as relay A's peer
 * `profile-a`, to relay A's profile `b` (`lease = "hermes-b"`), which forwards to relay B's profile
 * `hermes`, which fronts Hermes profile B (`protocol = "hermes-fleet"`). Relay B reaches A the same
 * way (`b`'s mirror `a`, `lease = "hermes-a"`). The two relays share one secret, each knowing the
 * other as a peer: A2A_OC_TOKEN_HOST_A on B and A2A_OC_TOKEN_HOST_B on A.
 */

const PAIR = "pair-secret-host-a-host-b-0123456789";
const PROFILE_A = "profile-a-token-0123456789abcdef";
const PROFILE_B = "profile-b-token-0123456789abcdef";
const AGENT_A = "agent-a-token-0123456789abcdef";
const AGENT_B = "agent-b-token-0123456789abcdef";
const CAP = 5;

let dir: string;
let lockDir: string;
let band: string;
let agentA: FleetAgent;
let agentB: FleetAgent;
let relayA: RelayProc;
let relayB: RelayProc;

const tomlA = () => `
[server]
id = "host-a"
log_level = "warn"
shutdown_grace_s = 2
[ports.bands]
hermes = "${band}"

[peers.profile-a]          # Hermes profile A calling out (A2A_OC_TOKEN_PROFILE_A)
profiles = ["b"]
default_profile = "b"
[peers.host-b]             # relay B (A2A_OC_TOKEN_HOST_B)
profiles = ["hermes"]
[peers.host-b.budget]
max_turns_per_context = ${CAP}

[profiles.b]               # Hermes profile B, wherever relay hermes-b runs now
handler = "a2a"
lease = "hermes-b"
remote_profile = "hermes"
token_env = "A2A_OC_TOKEN_HOST_B"

[profiles.hermes]          # Hermes profile A itself
handler = "a2a"
url = "${agentA.url}"
protocol = "hermes-fleet"
token_env = "HERMES_AGENT_TOKEN"
`;

const tomlB = () => `
[server]
id = "host-b"
log_level = "warn"
shutdown_grace_s = 2
[ports.bands]
hermes = "${band}"

[peers.profile-b]
profiles = ["a"]
default_profile = "a"
[peers.host-a]
profiles = ["hermes"]
[peers.host-a.budget]
max_turns_per_context = ${CAP}

[profiles.a]
handler = "a2a"
lease = "hermes-a"
remote_profile = "hermes"
token_env = "A2A_OC_TOKEN_HOST_A"

[profiles.hermes]
handler = "a2a"
url = "${agentB.url}"
protocol = "hermes-fleet"
token_env = "HERMES_AGENT_TOKEN"
`;

const startA = () =>
  startRelayProc({
    name: "hermes-a",
    dir: join(dir, "a"),
    lockDir,
    toml: tomlA(),
    env: { A2A_OC_TOKEN_PROFILE_A: PROFILE_A, A2A_OC_TOKEN_HOST_B: PAIR, HERMES_AGENT_TOKEN: AGENT_A },
  });
const startB = () =>
  startRelayProc({
    name: "hermes-b",
    dir: join(dir, "b"),
    lockDir,
    toml: tomlB(),
    env: { A2A_OC_TOKEN_PROFILE_B: PROFILE_B, A2A_OC_TOKEN_HOST_A: PAIR, HERMES_AGENT_TOKEN: AGENT_B },
  });

/** Hermes profile A says something to profile B (through relay A), in its own dialect. */
const aToB = (text: string, contextId?: string) =>
  fleetSend(`${relayA.url}/a2a/b`, PROFILE_A, text, contextId);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "a2a-peering-"));
  lockDir = join(dir, "locks");
  const first = await freeBand(10);
  band = `${first}-${first + 9}`;
  agentA = startHermesFleetAgent({ token: AGENT_A });
  agentB = startHermesFleetAgent({ token: AGENT_B });
  [relayA, relayB] = await Promise.all([startA(), startB()]);
}, 60_000);

afterAll(async () => {
  if (agentA) agentA.forward = undefined;
  if (agentB) agentB.forward = undefined;
  await Promise.allSettled([relayA?.kill(), relayB?.kill()]);
  await Promise.allSettled([agentA?.stop(), agentB?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("two Hermes profiles on one host, each behind its own relay", () => {
  test("both relays hold their leases; A's answer comes from Hermes profile B", async () => {
    expect(relayA.port).not.toBe(relayB.port);
    const r = await aToB("hello B");
    expect(r.error).toBeUndefined();
    expect(r.answer?.text).toMatch(/^turn 1 in [\w-]+: hello B$/);
    expect(agentB.received.map((x) => x.text)).toEqual(["hello B"]);
    // relay B called profile B in the fleet dialect: no A2A-Version, no messageId
    expect(agentB.received[0]!.headers["a2a-version"]).toBeUndefined();
    expect(agentA.received).toHaveLength(0);
  });

  test("a multi-turn conversation: same contextId across turns, B sees its history", async () => {
    const one = await aToB("what is 2+2?");
    const ctx = one.answer?.contextId;
    expect(ctx).toBeString();
    const two = await aToB("and times 3?", ctx);
    const three = await aToB("thanks", ctx);
    expect(two.answer?.contextId).toBe(ctx!);
    expect(three.answer?.contextId).toBe(ctx!);
    const fleetCtx = /in ([\w-]+):/.exec(three.answer!.text)![1]!;
    expect(one.answer!.text).toBe(`turn 1 in ${fleetCtx}: what is 2+2?`);
    expect(three.answer!.text).toBe(`turn 3 in ${fleetCtx}: thanks`);
    expect(agentB.history(fleetCtx)).toEqual(["what is 2+2?", "and times 3?", "thanks"]);

    // relay A: the conversation is profile-a's, in the a2a namespace, B's replies in it
    const onA = await until(
      () => {
        const l = transcript(relayA.dataDir, "b", "profile-a").filter(
          (x) => x.context === `a2a:profile-a:${ctx}`,
        );
        return l.length === 6 ? l : undefined;
      },
      5000,
      "relay A's transcript",
    );
    expect(onA.map((l) => [l.origin, l.dir, l.text])).toEqual([
      ["a2a", "in", "what is 2+2?"],
      ["a2a", "out", `turn 1 in ${fleetCtx}: what is 2+2?`],
      ["a2a", "in", "and times 3?"],
      ["a2a", "out", `turn 2 in ${fleetCtx}: and times 3?`],
      ["a2a", "in", "thanks"],
      ["a2a", "out", `turn 3 in ${fleetCtx}: thanks`],
    ]);
    // relay B: the same conversation is relay A's (peer host-a), under B's own context id
    const onB = await until(
      () => {
        const l = transcript(relayB.dataDir, "hermes", "host-a").filter((x) => x.text.includes("2+2"));
        return l.length === 2 ? l : undefined;
      },
      5000,
      "relay B's transcript",
    );
    expect(onB[0]!.origin).toBe("a2a");
    expect(onB[0]!.peer).toBe("host-a");
    expect(onB[0]!.context).toMatch(/^a2a:host-a:/);
    const bCtx = onB[0]!.context;
    // transcript lines are written on the tick after a turn's reply: wait for all six
    const wholeB = await until(
      () => {
        const l = transcript(relayB.dataDir, "hermes", "host-a").filter((x) => x.context === bCtx);
        return l.length >= 6 ? l : undefined;
      },
      5000,
      "relay B's whole conversation",
    );
    expect(wholeB).toHaveLength(6);
  });

  test("B's reply never lands in a conversation A's user started on the same contextId", async () => {
    // A's user (peer `local` on relay A) and Hermes profile A both use contextId "shared"
    const mine = await rpc(`${relayA.url}/a2a/b`, relayA.localToken(), "SendMessage", {
      message: {
        messageId: crypto.randomUUID(),
        role: "ROLE_USER",
        parts: [{ text: "user: hi" }],
        contextId: "shared",
      },
      configuration: { returnImmediately: false },
    });
    expect(mine.body.result?.task?.status?.state).toBe("TASK_STATE_COMPLETED");
    const fromAgent = await aToB("agent: hi", "shared");
    const again = await aToB("agent: still there?", "shared");
    expect(again.error).toBeUndefined();
    // two separate conversations at B, each starting at turn 1
    expect(again.answer!.text).toMatch(/^turn 2 in [\w-]+/);
    expect(fromAgent.answer!.text).toMatch(/^turn 1 in [\w-]+/);
    expect(mine.body.result.task.status.message.parts[0].text).toMatch(/^turn 1 in [\w-]+/);
    const userCtx = /in ([\w-]+):/.exec(mine.body.result.task.status.message.parts[0].text)![1];
    const agentCtx = /in ([\w-]+):/.exec(again.answer!.text)![1];
    expect(userCtx).not.toBe(agentCtx);

    const local = await until(
      () => {
        const l = transcript(relayA.dataDir, "b", "local");
        return l.length === 2 ? l : undefined;
      },
      5000,
      "the local user's transcript",
    );
    expect(new Set(local.map((l) => l.context))).toEqual(new Set(["a2a:local:shared"]));
    expect(local.map((l) => l.text).join("\n")).not.toContain("agent:");
    const agents = await until(
      () => {
        const l = transcript(relayA.dataDir, "b", "profile-a").filter(
          (x) => x.context === "a2a:profile-a:shared",
        );
        return l.length === 4 ? l : undefined;
      },
      5000,
      "profile A's transcript",
    );
    expect(agents.map((l) => l.text).join("\n")).not.toContain("user: hi");
  });

  test("relay B restarts on another port; relay A follows it through the lease", async () => {
    const first = await aToB("before the restart");
    const ctx = first.answer!.contextId!;
    const old = relayB.port;
    expect(await relayB.stop()).toBe(0);
    // while B is down: A's turn fails with a clear, typed error naming the lease
    const down = await aToB("while B is down", ctx);
    expect(down.error?.code).toBe(-32046);
    expect(down.error?.message).toContain("hermes-b");
    // someone else takes B's old port, so B must come back elsewhere in the band
    const squatter = await listen(old);
    try {
      relayB = await startB();
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
    expect(relayB.port).not.toBe(old);
    const after = await aToB("after the restart", ctx);
    expect(after.error).toBeUndefined();
    expect(after.answer!.contextId).toBe(ctx);
    // same conversation on B's side too (its sessions survived the restart in its data dir)
    expect(after.answer!.text).toMatch(/^turn 2 in [\w-]+: after the restart$/);
  });

  test("max_turns_per_context stops an A↔B ping-pong: -32042, no runaway", async () => {
    agentA.forward = {
      url: `${relayA.url}/a2a/b`,
      token: PROFILE_A,
      contextId: "pingpong",
      next: (t) => (t.startsWith("pong ") ? `ping ${Number(t.slice(5)) + 1}` : undefined),
    };
    agentB.forward = {
      url: `${relayB.url}/a2a/a`,
      token: PROFILE_B,
      next: (t) => (t.startsWith("ping ") ? `pong ${t.slice(5)}` : undefined),
    };
    const bBefore = agentB.received.length;
    const first = await aToB("ping 1", "pingpong");
    expect(first.error).toBeUndefined();
    const stopped = await until(
      () => agentA.sent.find((s) => s.error),
      20_000,
      "the ping-pong to be refused",
    );
    expect(stopped.text).toBe(`ping ${CAP + 1}`);
    expect(stopped.error!.code).toBe(-32046);
    // relay A's task for that turn names the limit that refused it at relay B
    const task = await rpc(`${relayA.url}/a2a/b`, PROFILE_A, "GetTask", {
      id: (stopped.error!.data as { taskId: string }).taskId,
    });
    expect(task.body.result.status.state).toBe("TASK_STATE_REJECTED");
    expect(task.body.result.metadata.error).toEqual({ code: -32042, reason: "BUDGET_EXCEEDED" });
    expect(stopped.error!.message).toContain("max_turns_per_context");
    // no runaway: nothing more moves
    await Bun.sleep(500);
    const pings = agentB.received.slice(bBefore).map((r) => r.text);
    expect(pings).toEqual(Array.from({ length: CAP }, (_, i) => `ping ${i + 1}`));
    expect(agentA.received.map((r) => r.text)).toEqual(
      Array.from({ length: CAP }, (_, i) => `pong ${i + 1}`),
    );
    expect(agentA.sent.filter((s) => s.error)).toHaveLength(1);
    expect(agentB.sent.every((s) => !s.error)).toBe(true);
  }, 30_000);
});

// internal

function listen(port: number): Promise<Server> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen({ port, host: "127.0.0.1", exclusive: true }, () => res(s));
  });
}

async function freeBand(size: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 40_000 + Math.floor(Math.random() * (9_900 - size));
    let ok = true;
    for (let p = base; p < base + size && ok; p++) {
      const s = await listen(p).catch(() => undefined);
      ok = !!s;
      if (s) await new Promise<void>((r) => s.close(() => r()));
    }
    if (ok) return base;
  }
  throw new Error("no free band of ports found in 40000-49999");
}
