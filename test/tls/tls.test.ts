import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { waitFor } from "../helpers/binary.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { type Certs, makeCerts } from "./_certs.ts";

/** Issue 16, first part: TLS and mutual TLS in the binary, and https upstreams with a fleet CA. */

let certs: Certs;
let b: TestRelay; // TLS with mTLS: every client needs a fleet certificate
let a: TestRelay; // plain; forwards to b over https
const PAIR = "pair-secret-tls-a-to-b-0123456789";

beforeAll(async () => {
  certs = makeCerts();
  b = await startTestRelay({
    env: { A2A_OC_TOKEN_HOST_A: PAIR },
    toml: `
[server]
id = "host-b"
[server.tls]
cert_file = "${certs.path("server.pem")}"
key_file = "${certs.path("server.key")}"
client_ca_file = "${certs.path("fleet-ca.pem")}"
[peers.host-a]
profiles = ["echo"]
[profiles.echo]
handler = "echo"
`,
  });
  a = await startTestRelay({
    env: { A2A_OC_TOKEN_HOST_B: PAIR, A2A_OC_TOKEN_LOCAL: "local-token-tls-0123456789" },
    toml: `
[server]
id = "host-a"
[peers.local]
profiles = ["*"]
admin = true
[profiles.far]
remote = "${b.url}"
remote_profile = "echo"
auth = "token"
binding = "jsonrpc"
ca_file = "${certs.path("fleet-ca.pem")}"
client_cert_file = "${certs.path("client.pem")}"
client_key_file = "${certs.path("client.key")}"
[profiles.far-untrusting]
remote = "${b.url}"
remote_profile = "echo"
auth = "token"
binding = "jsonrpc"
client_cert_file = "${certs.path("client.pem")}"
client_key_file = "${certs.path("client.key")}"
`,
  });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(certs.dir, { recursive: true, force: true });
});

const withTls = (tls: Record<string, unknown>) => ({ tls }) as unknown as RequestInit;
const client = () =>
  withTls({ ca: certs.pem("fleet-ca.pem"), cert: certs.pem("client.pem"), key: certs.pem("client.key") });

describe("a relay serving TLS with mutual TLS", () => {
  test("its URL is https; a client with a fleet certificate is answered, over the relay's own card too", async () => {
    expect(b.url).toStartWith("https://127.0.0.1:");
    const health = await fetch(`${b.url}/healthz`, client());
    expect(health.status).toBe(200);
    const card = (await (await fetch(`${b.url}/a2a/echo/.well-known/agent-card.json`, client())).json()) as {
      supportedInterfaces: Array<{ url: string }>;
    };
    expect(card.supportedInterfaces[0]!.url).toBe(`${b.url}/a2a/echo`);
    const res = await fetch(`${b.url}/a2a/echo`, {
      ...client(),
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${PAIR}` },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: { message: userMessage("over mTLS") },
      }),
    });
    const body = (await res.json()) as { result: { task: { status: { state: string } } } };
    expect(body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("/metrics names the served certificate's expiry", async () => {
    const text = await (await fetch(`${b.url}/metrics`, client())).text();
    const m = /^a2a_relay_tls_cert_expiry_seconds\{cert="[^"]*server\.pem"\} (\d+)$/m.exec(text);
    expect(m).not.toBeNull();
    const days = (Number(m![1]) * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(1);
    expect(days).toBeLessThanOrEqual(2);
  });

  test("the certificate is still a credential's companion: no token, 401", async () => {
    const res = await fetch(`${b.url}/a2a/echo`, {
      ...client(),
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: "{}",
    });
    expect(res.status).toBe(401);
  });

  test("refused in the handshake: no client certificate, one from another CA; plain HTTP gets nothing", async () => {
    const none = await fetch(`${b.url}/healthz`, withTls({ ca: certs.pem("fleet-ca.pem") })).catch(
      (e: Error) => e,
    );
    expect(none).toBeInstanceOf(Error);
    const rogue = await fetch(
      `${b.url}/healthz`,
      withTls({
        ca: certs.pem("fleet-ca.pem"),
        cert: certs.pem("rogue-client.pem"),
        key: certs.pem("rogue-client.key"),
      }),
    ).catch((e: Error) => e);
    expect(rogue).toBeInstanceOf(Error);
    const plain = await fetch(`${b.url.replace("https:", "http:")}/healthz`, {
      signal: AbortSignal.timeout(3000),
    })
      .then((r) => r.status)
      .catch(() => "refused");
    expect(plain).not.toBe(200);
  });

  test("curl with the fleet CA and a client certificate", async () => {
    // not spawnSync: the relay under test runs in this process
    const curl = async (args: string[]) => {
      const p = Bun.spawn(["curl", "-sS", "--max-time", "5", ...args], { stdout: "pipe", stderr: "pipe" });
      return { exitCode: await p.exited, stdout: await new Response(p.stdout).text() };
    };
    const r = await curl([
      "--cacert",
      certs.path("fleet-ca.pem"),
      "--cert",
      certs.path("client.pem"),
      "--key",
      certs.path("client.key"),
      `${b.url}/healthz`,
    ]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe("ok");
    const noCa = await curl([`${b.url}/healthz`]);
    expect(noCa.exitCode).not.toBe(0);
  });
});

describe("relay to relay over https", () => {
  test("relay A forwards to relay B with ca_file and a client certificate", async () => {
    const { body } = await a.rpc(
      "SendMessage",
      { message: userMessage("across https") },
      { path: "/a2a/far" },
    );
    expect(body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(body.result.task.artifacts[0].parts[0].text).toBe("across https");
  });

  test("an upstream whose certificate is not trusted fails the turn with -32045 naming TLS", async () => {
    const { body } = await a.rpc(
      "SendMessage",
      { message: userMessage("untrusted") },
      { path: "/a2a/far-untrusting" },
    );
    const task = body.result.task;
    expect(task.status.state).toBe("TASK_STATE_FAILED");
    expect(task.status.message.parts[0].text).toContain("TLS");
    expect(task.metadata.error.code).toBe(-32045);
  });
});

describe("certificate rotation", () => {
  test("a certificate replaced on disk is served within seconds, in-flight requests finish, a bad one is not used", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-tls-rotate-"));
    const cert = join(dir, "relay.pem");
    const key = join(dir, "relay.key");
    copyFileSync(certs.path("server.pem"), cert);
    copyFileSync(certs.path("server.key"), key);
    chmodSync(key, 0o600);
    const c = await startTestRelay({ toml: tlsToml(cert, key) });
    const ca = withTls({ ca: certs.pem("fleet-ca.pem") });
    try {
      expect(await servedCN(c.url)).toBe("relay-b");
      const inFlight = fetch(`${c.url}/a2a/echo`, {
        ...ca,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "a2a-version": "1.0",
          authorization: `Bearer ${c.token}`,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "SendMessage",
          params: { message: userMessage("sleep:2500 across the rotation") },
        }),
      });
      await Bun.sleep(200);
      copyFileSync(certs.path("server2.pem"), cert);
      copyFileSync(certs.path("server2.key"), key);
      // the instant between the old listener and the new one may refuse a connection: try again
      await waitFor(
        async () => (await servedCN(c.url).catch(() => "")) === "relay-b-rotated",
        10_000,
        "the new certificate",
      );
      const done = (await (await inFlight).json()) as { result: { task: { status: { state: string } } } };
      expect(done.result.task.status.state).toBe("TASK_STATE_COMPLETED");
      // a broken replacement is not used: the rotated certificate stays in service
      writeFileSync(cert, "not a certificate\n");
      await Bun.sleep(3000);
      expect(await servedCN(c.url)).toBe("relay-b-rotated");
      expect((await fetch(`${c.url}/healthz`, ca)).status).toBe(200);
    } finally {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

/** The CN of the certificate a new TLS connection to `url` is served. */
function servedCN(url: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connectTls({ host: u.hostname, port: Number(u.port), ca: certs.pem("fleet-ca.pem") }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.end();
      resolve(String(cn));
    });
    s.on("error", reject);
  });
}

describe("bad TLS input refuses the start, naming the file", () => {
  const cases: Array<[string, (c: Certs) => string, RegExp]> = [
    [
      "an expired certificate",
      (c) => tlsToml(c.path("expired.pem"), c.path("expired.key")),
      /expired\.pem expired on/,
    ],
    [
      "a key that is not the certificate's",
      (c) => tlsToml(c.path("server.pem"), c.path("other.key")),
      /other\.key is not the key of the certificate/,
    ],
    [
      "a missing file",
      (c) => tlsToml(join(c.dir, "nope.pem"), c.path("server.key")),
      /nope\.pem \(no such file\)/,
    ],
    [
      "a CA file with no certificate",
      (c) =>
        `${tlsToml(c.path("server.pem"), c.path("server.key"))}client_ca_file = "${c.path("no-certs.pem")}"\n`,
      /no-certs\.pem holds no PEM certificate/,
    ],
  ];
  for (const [what, toml, message] of cases) {
    test(what, () => {
      const dir = mkdtempSync(join(tmpdir(), "a2a-tls-bad-"));
      const file = join(dir, "config.toml");
      writeFileSync(file, toml(certs));
      try {
        expect(() => loadConfig({ file, env: { A2A_RELAY_HOME: join(dir, "data") } })).toThrow(message);
        expect(() => loadConfig({ file, env: { A2A_RELAY_HOME: join(dir, "data") } })).toThrow(ConfigError);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test("a key file others can read", () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-tls-bad-"));
    const key = join(dir, "open.key");
    copyFileSync(certs.path("server.key"), key);
    chmodSync(key, 0o644);
    const file = join(dir, "config.toml");
    writeFileSync(file, tlsToml(certs.path("server.pem"), key));
    try {
      expect(() => loadConfig({ file, env: { A2A_RELAY_HOME: join(dir, "data") } })).toThrow(
        /open\.key is readable by other users \(mode 644\); chmod 600 it/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function tlsToml(cert: string, key: string): string {
  return `[server.tls]\ncert_file = "${cert}"\nkey_file = "${key}"\n`;
}
