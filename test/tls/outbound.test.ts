import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { type Certs, makeCerts } from "./_certs.ts";

/**
 * Issue 16: JWKS fetches and push deliveries to https:// trust the system roots plus
 * `[server.tls] fleet_ca_file` (here without cert_file/key_file: a relay whose TLS a proxy
 * terminates still calls out with the fleet CA). Without it, the test CA's server is not trusted.
 */

let certs: Certs;
let upstream: ReturnType<typeof Bun.serve>; // https, certificate from the test's fleet CA
let trusting: TestRelay;
let untrusting: TestRelay;
let sign: (aud: string) => Promise<string>;
const pushed: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  certs = makeCerts();
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "EdDSA", use: "sig" };
  sign = (aud) =>
    new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
      .setIssuer("signer")
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime("60s")
      .setJti(crypto.randomUUID())
      .sign(privateKey);
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: certs.pem("server.pem"), key: certs.pem("server.key") },
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/jwks.json") return Response.json({ keys: [jwk] });
      if (path === "/hook") {
        pushed.push((await req.json()) as Record<string, unknown>);
        return new Response("ok");
      }
      return new Response("no", { status: 404 });
    },
  });
  const toml = (fleet: boolean, id: string) => `
[server]
id = "${id}"
push_retry_base_s = 0.05
push_max_attempts = 2
${fleet ? `[server.tls]\nfleet_ca_file = "${certs.path("fleet-ca.pem")}"\n` : ""}
[profiles.echo]
handler = "echo"
[peers.local]
profiles = ["*"]
admin = true
push_hosts = ["127.0.0.1"]
[peers.signer]
profiles = ["echo"]
[peers.signer.jwt]
jwks_url = "https://127.0.0.1:${upstream.port}/jwks.json"
`;
  trusting = await startTestRelay({
    toml: toml(true, "relay-fleet"),
    env: { A2A_OC_TOKEN_LOCAL: "local-outbound-tls-0123456789" },
  });
  untrusting = await startTestRelay({
    toml: toml(false, "relay-plain"),
    env: { A2A_OC_TOKEN_LOCAL: "local-outbound-tls-9876543210" },
  });
});
afterAll(async () => {
  await trusting?.stop();
  await untrusting?.stop();
  upstream?.stop(true);
  rmSync(certs.dir, { recursive: true, force: true });
});

const withJwt = async (r: TestRelay, aud: string) =>
  fetch(`${r.url}/a2a/echo`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "a2a-version": "1.0",
      authorization: `Bearer ${await sign(aud)}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "SendMessage",
      params: { message: userMessage("signed") },
    }),
  });

describe("outbound https with the fleet CA", () => {
  test("a JWKS on an https server with a fleet certificate verifies the peer's JWT", async () => {
    const res = await withJwt(trusting, "relay-fleet");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { task: { status: { state: string } } } };
    expect(body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("without fleet_ca_file the same JWKS server is not trusted: 401", async () => {
    expect((await withJwt(untrusting, "relay-plain")).status).toBe(401);
  });

  test("a push delivery to an https webhook with a fleet certificate arrives", async () => {
    const hook = `https://127.0.0.1:${upstream.port}/hook`;
    const { body } = await trusting.rpc("SendMessage", {
      message: userMessage("pushed over https"),
      configuration: { taskPushNotificationConfig: { url: hook, token: "t" } },
    });
    const id = body.result.task.id as string;
    const deadline = Date.now() + 10_000;
    const mine = () => pushed.filter((p) => JSON.stringify(p).includes(id));
    while (mine().length < 4 && Date.now() < deadline) await Bun.sleep(20);
    expect(mine().length).toBeGreaterThanOrEqual(4);
  });

  test("without fleet_ca_file the delivery fails on the certificate", async () => {
    const hook = `https://127.0.0.1:${upstream.port}/hook`;
    const { body } = await untrusting.rpc("SendMessage", {
      message: userMessage("not pushed"),
      configuration: { taskPushNotificationConfig: { url: hook, token: "t" } },
    });
    const id = body.result.task.id as string;
    const deadline = Date.now() + 10_000;
    let failed: Array<{ error?: string; state?: string; taskId?: string }> = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${untrusting.url}/admin/push`, {
        headers: { authorization: `Bearer ${untrusting.token}` },
      });
      const j = (await res.json()) as { deliveries?: typeof failed } | typeof failed;
      failed = (Array.isArray(j) ? j : (j.deliveries ?? [])).filter((d) => JSON.stringify(d).includes(id));
      if (failed.length && failed.every((d) => /fail/i.test(JSON.stringify(d)))) break;
      await Bun.sleep(50);
    }
    expect(pushed.some((p) => JSON.stringify(p).includes(id))).toBe(false);
    expect(JSON.stringify(failed)).toMatch(/certificate|self.signed|issuer|verify|UNABLE/i);
  });
});
