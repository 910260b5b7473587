import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../helpers/until.ts";
import { createNetnsPair, type FleetNode, type NetnsPair, startFleetNode } from "./_netns.ts";
import { RELAY, type RelayProc, startRelayProc, transcript } from "./_relays.ts";

/**
 * The same exchange across two "hosts": two network namespaces joined by a veth pair (10.77.0.1 and
 * 10.77.0.2, only inside them), one relay process and one Hermes fleet node in each. Relay A signs
 * its requests with its own key (`a2a-relay keygen`); relay B trusts A through
 * `[peers.host-a.jwt] public_key_file` (a copy of A's keys/relay.pub.pem). Needs root and iproute2:
 * where namespaces cannot be created the test FAILS with the reason.
 */

const PROFILE_A = "profile-a-token-0123456789abcdef";
const AGENT = "agent-token-0123456789abcdef";

let net: NetnsPair | undefined;
let setupError: Error | undefined;
let dir: string;
let nodeA: FleetNode;
let nodeB: FleetNode;
let relayA: RelayProc;
let relayB: RelayProc;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "a2a-peering-hosts-"));
  try {
    net = createNetnsPair();
  } catch (err) {
    setupError = err as Error;
    return;
  }
  [nodeA, nodeB] = await Promise.all([startFleetNode(net.a, AGENT), startFleetNode(net.b, AGENT)]);

  // host A: a signing key, made before it starts
  const dirA = join(dir, "a");
  mkdirSync(dirA, { recursive: true });
  const kg = Bun.spawnSync([...RELAY, "keygen", "--data-dir", join(dirA, "data")], { stderr: "pipe" });
  if (kg.exitCode !== 0) throw new Error(`keygen failed: ${kg.stderr.toString()}`);
  // host B trusts host A's public key (copied over, as an operator would)
  const dirB = join(dir, "b");
  mkdirSync(dirB, { recursive: true });
  copyFileSync(join(dirA, "data", "keys", "relay.pub.pem"), join(dirB, "host-a.pub.pem"));

  relayB = await startRelayProc({
    name: "hermes-b",
    dir: dirB,
    lockDir: join(dirB, "locks"),
    netns: net.b,
    host: net.addrB,
    env: { HERMES_AGENT_TOKEN: AGENT },
    toml: `
[server]
id = "host-b"
log_level = "warn"
shutdown_grace_s = 2
[peers.host-a]
profiles = ["hermes"]
[peers.host-a.jwt]
public_key_file = "host-a.pub.pem"
[peers.host-a.budget]
max_turns_per_context = 3
[profiles.hermes]
handler = "a2a"
url = "${nodeB.url}"
protocol = "hermes-fleet"
token_env = "HERMES_AGENT_TOKEN"
`,
  });
  relayA = await startRelayProc({
    name: "hermes-a",
    dir: dirA,
    lockDir: join(dirA, "locks"),
    netns: net.a,
    host: net.addrA,
    env: { A2A_OC_TOKEN_PROFILE_A: PROFILE_A },
    toml: `
[server]
id = "host-a"
log_level = "warn"
shutdown_grace_s = 2
[peers.profile-a]
profiles = ["b"]
default_profile = "b"
[profiles.b]
remote = "${relayB.url}"
remote_profile = "hermes"
auth = "jwt"
`,
  });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([relayA?.kill(), relayB?.kill()]);
  await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
  net?.remove();
  rmSync(dir, { recursive: true, force: true });
});

type Sent = { answer?: { text: string; contextId?: string }; error?: { code: number; message: string } };
const aToB = (text: string, contextId?: string) =>
  nodeA.call({ op: "send", url: `${relayA.url}/a2a/b`, token: PROFILE_A, text, contextId }) as Promise<Sent>;

describe("two Hermes profiles on two hosts (network namespaces), relay to relay with JWT", () => {
  test("the namespaces exist (needs root + iproute2)", () => {
    if (setupError) throw setupError;
    expect(relayA.url).toStartWith("http://10.77.0.1:");
    expect(relayB.url).toStartWith("http://10.77.0.2:");
  });

  test("host A's profile reaches host B's profile and back; a multi-turn conversation", async () => {
    if (setupError) throw setupError;
    const one = await aToB("hello from host A");
    expect(one.error).toBeUndefined();
    expect(one.answer!.text).toMatch(/^turn 1 in [\w-]+: hello from host A$/);
    const ctx = one.answer!.contextId!;
    const two = await aToB("second turn", ctx);
    expect(two.answer!.contextId).toBe(ctx);
    expect(two.answer!.text).toMatch(/^turn 2 in [\w-]+: second turn$/);
    // relay B names the fleet conversation up front, and keeps it for the next turn
    const fleetCtx = /in ([\w-]+):/.exec(two.answer!.text)![1];
    expect(await nodeB.call({ op: "received" })).toEqual([
      { text: "hello from host A", contextId: fleetCtx },
      { text: "second turn", contextId: fleetCtx },
    ]);
    // each relay's transcript: A has profile-a's conversation, B has host-a's (its own context id)
    const onA = await until(
      () => {
        const l = transcript(relayA.dataDir, "b", "profile-a");
        return l.length === 4 ? l : undefined;
      },
      5000,
      "relay A's transcript",
    );
    expect(new Set(onA.map((l) => l.context))).toEqual(new Set([`a2a:profile-a:${ctx}`]));
    const onB = await until(
      () => {
        const l = transcript(relayB.dataDir, "hermes", "host-a");
        return l.length === 4 ? l : undefined;
      },
      5000,
      "relay B's transcript",
    );
    expect(onB.every((l) => l.origin === "a2a" && l.peer === "host-a")).toBe(true);
    expect(new Set(onB.map((l) => l.context)).size).toBe(1);
    expect(onB[0]!.context).toMatch(/^a2a:host-a:/);
    expect(onB.map((l) => l.text)).toEqual(onA.map((l) => l.text));
  });

  test("relay B refuses host A without a valid JWT (401), and caps the conversation", async () => {
    if (setupError) throw setupError;
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "SendMessage",
      params: { message: { messageId: "m1", role: "ROLE_USER", parts: [{ text: "x" }] } },
    });
    const bad = (await nodeA.call({
      op: "post",
      url: `${relayB.url}/a2a/hermes`,
      headers: { "a2a-version": "1.0", authorization: "Bearer not-a-jwt" },
      body,
    })) as { status: number };
    expect(bad.status).toBe(401);
    // max_turns_per_context = 3 for host-a on B: the 4th turn of one conversation is refused
    const one = await aToB("cap 1");
    const ctx = one.answer!.contextId!;
    expect((await aToB("cap 2", ctx)).error).toBeUndefined();
    expect((await aToB("cap 3", ctx)).error).toBeUndefined();
    const four = await aToB("cap 4", ctx);
    expect(four.error?.code).toBe(-32046);
    expect(four.error?.message).toContain("max_turns_per_context");
  });
});
