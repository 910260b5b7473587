import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../helpers/until.ts";
import { type Certs, makeCerts } from "../tls/_certs.ts";
import { createNetnsPair, type FleetNode, type NetnsPair, startFleetNode } from "./_netns.ts";
import { type RelayProc, startRelayProc, transcript } from "./_relays.ts";

/**
 * The two-host exchange of two-hosts.test.ts over TLS with mutual TLS: relay B (10.77.0.2) serves
 * https with a fleet certificate and asks every client for one (`client_ca_file`); relay A calls it
 * with `fleet_ca_file` and its own client certificate (CN=host-a), and B identifies peer `host-a`
 * by that certificate's subject alone (`[peers.host-a.tls] subject`, A's profile `auth = "cert"`):
 * no token or JWT crosses the wire. Needs root and iproute2 (and curl for the probes): where
 * namespaces cannot be created the test FAILS with the reason.
 */

const PROFILE_A = "profile-a-token-tls-0123456789abcdef";
const AGENT = "agent-token-tls-0123456789abcdef";
const OPS = "ops-token-tls-0123456789abcdef";

let net: NetnsPair | undefined;
let setupError: Error | undefined;
let dir: string;
let certs: Certs;
let nodeA: FleetNode;
let nodeB: FleetNode;
let relayA: RelayProc;
let relayB: RelayProc;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "a2a-peering-tls-"));
  certs = makeCerts([
    {
      name: "host-b",
      cn: "host-b",
      ext: "subjectAltName = IP:10.77.0.2, DNS:host-b\nextendedKeyUsage = serverAuth\n",
    },
    { name: "host-c", cn: "host-c", ext: "extendedKeyUsage = clientAuth\n" },
  ]);
  try {
    net = createNetnsPair();
  } catch (err) {
    setupError = err as Error;
    return;
  }
  [nodeA, nodeB] = await Promise.all([startFleetNode(net.a, AGENT), startFleetNode(net.b, AGENT)]);
  const dirA = join(dir, "a");
  const dirB = join(dir, "b");
  mkdirSync(dirA, { recursive: true });
  mkdirSync(dirB, { recursive: true });

  relayB = await startRelayProc({
    name: "hermes-b",
    dir: dirB,
    lockDir: join(dirB, "locks"),
    netns: net.b,
    host: net.addrB,
    env: { HERMES_AGENT_TOKEN: AGENT, OPS_TOKEN: OPS },
    toml: `
[server]
id = "host-b"
log_level = "warn"
shutdown_grace_s = 2
[server.tls]
cert_file = "${certs.path("host-b.pem")}"
key_file = "${certs.path("host-b.key")}"
client_ca_file = "${certs.path("fleet-ca.pem")}"
[peers.host-a]
profiles = ["hermes"]
[peers.host-a.tls]
subject = "CN=host-a"
[peers.host-a.budget]
max_turns_per_context = 3
[peers.ops]
profiles = ["hermes"]
token_env = "OPS_TOKEN"
[profiles.hermes]
handler = "a2a"
url = "${nodeB.url}"
protocol = "hermes-fleet"
token_env = "HERMES_AGENT_TOKEN"
`,
  });
  // relay A listens on its own host's loopback (Hermes profile A is on the same host)
  relayA = await startRelayProc({
    name: "hermes-a",
    dir: dirA,
    lockDir: join(dirA, "locks"),
    netns: net.a,
    host: "127.0.0.1",
    env: { A2A_OC_TOKEN_PROFILE_A: PROFILE_A },
    toml: `
[server]
id = "host-a"
log_level = "warn"
shutdown_grace_s = 2
[server.tls]
fleet_ca_file = "${certs.path("fleet-ca.pem")}"
[peers.profile-a]
profiles = ["b"]
default_profile = "b"
[profiles.b]
remote = "${relayB.url}"
remote_profile = "hermes"
auth = "cert"
client_cert_file = "${certs.path("client.pem")}"
client_key_file = "${certs.path("client.key")}"
`,
  });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([relayA?.kill(), relayB?.kill()]);
  await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
  net?.remove();
  rmSync(dir, { recursive: true, force: true });
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

type Sent = { answer?: { text: string; contextId?: string }; error?: { code: number; message: string } };
const aToB = (text: string, contextId?: string) =>
  nodeA.call({ op: "send", url: `${relayA.url}/a2a/b`, token: PROFILE_A, text, contextId }) as Promise<Sent>;

/** curl from host A (inside its namespace) to relay B; the exit code and the body. */
async function curlFromA(args: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(["ip", "netns", "exec", net!.a, "curl", "-sS", "--max-time", "10", ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
  return { code, out };
}
const send = (text: string) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "SendMessage",
    params: { message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] } },
  });
const post = (text: string, extra: string[]) => [
  "--cacert",
  certs.path("fleet-ca.pem"),
  ...extra,
  "-H",
  "content-type: application/json",
  "-H",
  "a2a-version: 1.0",
  "-w",
  "\\n%{http_code}",
  "-d",
  send(text),
  `${relayB.url}/a2a/hermes`,
];

describe("two hosts over TLS with mutual TLS: host A identified by its certificate", () => {
  test("the namespaces exist (needs root + iproute2); relay B serves https", () => {
    if (setupError) throw setupError;
    expect(relayB.url).toStartWith("https://10.77.0.2:");
  });

  test("host A's profile reaches host B's profile over mTLS, no token sent; a multi-turn conversation", async () => {
    if (setupError) throw setupError;
    const one = await aToB("hello over mTLS");
    expect(one.error).toBeUndefined();
    expect(one.answer!.text).toMatch(/^turn 1 in [\w-]+: hello over mTLS$/);
    const ctx = one.answer!.contextId!;
    const two = await aToB("second turn", ctx);
    expect(two.answer!.text).toMatch(/^turn 2 in [\w-]+: second turn$/);
    // relay B counts the turns as peer host-a's: the certificate named it
    const onB = await until(
      () => {
        const l = transcript(relayB.dataDir, "hermes", "host-a");
        return l.length === 4 ? l : undefined;
      },
      5000,
      "relay B's transcript",
    );
    expect(onB.every((l) => l.peer === "host-a" && l.origin === "a2a")).toBe(true);
  }, 30_000);

  test("B refuses a client without a certificate and one from another CA in the handshake", async () => {
    if (setupError) throw setupError;
    const none = await curlFromA(post("no cert", []));
    expect(none.code).not.toBe(0);
    const rogue = await curlFromA(
      post("rogue", ["--cert", certs.path("rogue-client.pem"), "--key", certs.path("rogue-client.key")]),
    );
    expect(rogue.code).not.toBe(0);
  }, 30_000);

  test("a fleet certificate that maps to no peer still needs a credential; host-a's alone is enough", async () => {
    if (setupError) throw setupError;
    const c = ["--cert", certs.path("host-c.pem"), "--key", certs.path("host-c.key")];
    const bare = await curlFromA(post("unmapped", c));
    expect(bare.code).toBe(0);
    expect(bare.out.trim().split("\n").at(-1)).toBe("401");
    const withToken = await curlFromA(
      post("unmapped with a token", [...c, "-H", `authorization: Bearer ${OPS}`]),
    );
    expect(withToken.out.trim().split("\n").at(-1)).toBe("200");
    expect(withToken.out).toContain("TASK_STATE_COMPLETED");
    const asA = await curlFromA(
      post("host-a by certificate", ["--cert", certs.path("client.pem"), "--key", certs.path("client.key")]),
    );
    expect(asA.out.trim().split("\n").at(-1)).toBe("200");
    expect(asA.out).toContain("TASK_STATE_COMPLETED");
  }, 30_000);
});
