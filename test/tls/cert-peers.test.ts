import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import { CertificatePeers, normalizeSubject } from "../../src/auth/cert-peers.ts";
import type { ResolvedPeer } from "../../src/config/load.ts";
import { loadConfig } from "../../src/config/load.ts";
import { waitFor } from "../helpers/binary.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";
import { type Certs, makeCerts } from "./_certs.ts";

/**
 * Issue 16: a peer identified by its verified client certificate (`[peers.X.tls] subject` or
 * `san`), without a token; a certificate that maps to no peer still needs a credential.
 */

let certs: Certs;
let b: TestRelay; // mTLS; host-a by subject, host-d by SAN, ops by token
let a: TestRelay; // forwards to b with auth = "cert"
const OPS = "ops-token-cert-peers-0123456789";

beforeAll(async () => {
  certs = makeCerts([
    { name: "host-c", cn: "host-c", ext: "extendedKeyUsage = clientAuth\n" },
    {
      name: "host-d",
      cn: "someone",
      ext: "subjectAltName = DNS:host-d.fleet\nextendedKeyUsage = clientAuth\n",
    },
  ]);
  b = await startTestRelay({
    env: { OPS_TOKEN: OPS },
    toml: `
[server]
id = "host-b"
[server.tls]
cert_file = "${certs.path("server.pem")}"
key_file = "${certs.path("server.key")}"
client_ca_file = "${certs.path("fleet-ca.pem")}"
[peers.host-a]
profiles = ["echo"]
[peers.host-a.tls]
subject = "CN=host-a"
[peers.host-d]
profiles = ["echo"]
[peers.host-d.tls]
san = "DNS:host-d.fleet"
[peers.ops]
profiles = ["echo"]
token_env = "OPS_TOKEN"
[profiles.echo]
handler = "echo"
`,
  });
  a = await startTestRelay({
    env: { A2A_OC_TOKEN_LOCAL: "local-cert-peers-0123456789" },
    toml: `
[server]
id = "host-a"
[server.tls]
fleet_ca_file = "${certs.path("fleet-ca.pem")}"
[peers.local]
profiles = ["*"]
admin = true
[profiles.far]
remote = "${b.url}"
remote_profile = "echo"
auth = "cert"
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

const tlsAs = (who: string | undefined) =>
  ({
    tls: {
      ca: certs.pem("fleet-ca.pem"),
      ...(who ? { cert: certs.pem(`${who}.pem`), key: certs.pem(`${who}.key`) } : {}),
    },
  }) as unknown as RequestInit;

async function sendAs(who: string, text: string, token?: string) {
  const res = await fetch(`${b.url}/a2a/echo`, {
    ...tlsAs(who),
    method: "POST",
    headers: {
      "content-type": "application/json",
      "a2a-version": "1.0",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "SendMessage",
      params: { message: userMessage(text) },
    }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON-RPC answers
  return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> };
}

describe("peers identified by their client certificate", () => {
  test("a certificate whose subject names a peer is authorised without a token", async () => {
    const r = await sendAs("client", "by subject");
    expect(r.status).toBe(200);
    expect(r.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(r.body.result.task.artifacts[0].parts[0].text).toBe("by subject");
  });

  test("a certificate whose SAN names a peer is authorised; the task belongs to that peer", async () => {
    const r = await sendAs("host-d", "by san");
    expect(r.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    const id = r.body.result.task.id as string;
    // another peer (host-a, by its certificate) cannot see host-d's task
    const get = await fetch(`${b.url}/a2a/echo`, {
      ...tlsAs("client"),
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "GetTask", params: { id } }),
    });
    expect(((await get.json()) as { error: { code: number } }).error.code).toBe(-32001);
  });

  test("a fleet certificate that maps to no peer still needs a credential", async () => {
    expect((await sendAs("host-c", "unmapped")).status).toBe(401);
    const withToken = await sendAs("host-c", "unmapped with a token", OPS);
    expect(withToken.body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("a credential, when sent, is what counts: a bad one is 401 even with a mapped certificate", async () => {
    expect((await sendAs("client", "bad token", "not-a-valid-token-0123456789")).status).toBe(401);
  });

  test("handshake refused: no certificate, or one from another CA", async () => {
    expect(await fetch(`${b.url}/healthz`, tlsAs(undefined)).catch((e: Error) => e)).toBeInstanceOf(Error);
    expect(await fetch(`${b.url}/healthz`, tlsAs("rogue-client")).catch((e: Error) => e)).toBeInstanceOf(
      Error,
    );
  });

  test("streaming works on this listener (SSE through node:http)", async () => {
    const res = await fetch(`${b.url}/a2a/echo`, {
      ...tlsAs("client"),
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0", accept: "text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendStreamingMessage",
        params: { message: userMessage("sleep:200 streamed") },
      }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    expect(text).toContain("TASK_STATE_COMPLETED");
    expect(text).toContain("streamed");
  });

  test('relay A forwards with auth = "cert": its client certificate is its only credential', async () => {
    const { body } = await a.rpc(
      "SendMessage",
      { message: userMessage("across, by certificate") },
      { path: "/a2a/far" },
    );
    expect(body.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(body.result.task.artifacts[0].parts[0].text).toBe("across, by certificate");
  });

  test("rotation on this listener: a new certificate is served, the peer mapping still holds", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-certpeers-rot-"));
    const cert = join(dir, "s.pem");
    const key = join(dir, "s.key");
    copyFileSync(certs.path("server.pem"), cert);
    copyFileSync(certs.path("server.key"), key);
    chmodSync(key, 0o600);
    const c = await startTestRelay({
      toml: `[server.tls]\ncert_file = "${cert}"\nkey_file = "${key}"\nclient_ca_file = "${certs.path("fleet-ca.pem")}"\n[peers.host-a]\nprofiles = ["echo"]\n[peers.host-a.tls]\nsubject = "CN=host-a"\n[profiles.echo]\nhandler = "echo"\n`,
    });
    try {
      expect(await servedCN(c.relay.port)).toBe("relay-b");
      copyFileSync(certs.path("server2.pem"), cert);
      copyFileSync(certs.path("server2.key"), key);
      await c.relay.reloadTls();
      await waitFor(
        async () => (await servedCN(c.relay.port).catch(() => "")) === "relay-b-rotated",
        5000,
        "rotation",
      );
      const res = await fetch(`${c.url}/a2a/echo`, {
        ...tlsAs("client"),
        method: "POST",
        headers: { "content-type": "application/json", "a2a-version": "1.0" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "SendMessage",
          params: { message: userMessage("after") },
        }),
      });
      const done = (await res.json()) as { result: { task: { status: { state: string } } } };
      expect(done.result.task.status.state).toBe("TASK_STATE_COMPLETED");
    } finally {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("config", () => {
  const load = (toml: string) => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-certpeers-cfg-"));
    const file = join(dir, "c.toml");
    writeFileSync(file, toml);
    try {
      return () => loadConfig({ file, env: { A2A_RELAY_HOME: join(dir, "data") } });
    } finally {
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), 1000);
    }
  };
  const tls = () =>
    `[server.tls]\ncert_file = "${certs.path("server.pem")}"\nkey_file = "${certs.path("server.key")}"\n`;

  test("[peers.X.tls] without mutual TLS is refused, naming the key", () => {
    expect(load(`${tls()}[peers.p.tls]\nsubject = "CN=p"\n`)).toThrow(
      /peers\.p\.tls: identifying a peer by its client certificate needs mutual TLS \(server\.tls\.client_ca_file\)/,
    );
  });

  test("[peers.X.tls] with neither subject nor san is refused", () => {
    expect(load(`[peers.p.tls]\n`)).toThrow(/peers\.p\.tls.*subject/);
  });

  test('auth = "cert" without a client certificate is refused', () => {
    expect(load(`[profiles.far]\nremote = "https://127.0.0.1:1"\nauth = "cert"\n`)).toThrow(
      /profiles\.far\.auth: "cert".*client_cert_file/,
    );
  });
});

describe("matching", () => {
  const peer = (name: string, tls: { subject?: string; san?: string }) =>
    ({
      name,
      profiles: ["*"],
      admin: false,
      tls,
      credential: { source: "", resolved: false },
    }) as unknown as ResolvedPeer;

  test("subjects compare as sets of attributes, in any of the usual spellings", () => {
    expect(normalizeSubject("CN=host-a, O=Fleet")).toBe(normalizeSubject("O=Fleet\nCN=host-a"));
    expect(normalizeSubject("/CN=host-a/O=Fleet")).toBe(normalizeSubject("cn = host-a,o=Fleet"));
    expect(normalizeSubject("CN=host-a")).not.toBe(normalizeSubject("CN=host-a, O=Fleet"));
    expect(normalizeSubject("host-a")).toBe("");
  });

  test("subject, SAN, both; no match or two matches identify nobody", () => {
    const m = new CertificatePeers([
      peer("a", { subject: "CN=host-a" }),
      peer("d", { san: "DNS:Host-D.fleet" }),
      peer("e", { subject: "CN=e", san: "IP:10.0.0.5" }),
    ]);
    expect(m.identify({ subject: "CN=host-a" })?.name).toBe("a");
    expect(m.identify({ subject: "CN=x", subjectAltName: "DNS:other, DNS:host-d.fleet" })?.name).toBe("d");
    expect(m.identify({ subject: "CN=e", subjectAltName: "IP Address:10.0.0.5" })?.name).toBe("e");
    expect(m.identify({ subject: "CN=e", subjectAltName: "IP Address:10.0.0.6" })).toBeUndefined();
    expect(m.identify({ subject: "CN=host-a, O=other" })).toBeUndefined();
    // a certificate naming two peers (a's subject, d's SAN) is ambiguous
    expect(m.identify({ subject: "CN=host-a", subjectAltName: "DNS:host-d.fleet" })).toBeUndefined();
  });

  test("two peers with the same identity, a bad SAN, a bad subject: config errors", () => {
    expect(
      () => new CertificatePeers([peer("a", { subject: "CN=x" }), peer("b", { subject: "CN=x" })]),
    ).toThrow(/peers\.b\.tls: the same certificate identity as peer "a"/);
    expect(() => new CertificatePeers([peer("a", { san: "host-a" })])).toThrow(/peers\.a\.tls\.san/);
    expect(() => new CertificatePeers([peer("a", { subject: "host-a" })])).toThrow(/peers\.a\.tls\.subject/);
  });
});

function servedCN(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connectTls(
      {
        host: "127.0.0.1",
        port,
        ca: certs.pem("fleet-ca.pem"),
        cert: certs.pem("client.pem"),
        key: certs.pem("client.key"),
      },
      () => {
        const cn = s.getPeerCertificate().subject?.CN;
        s.end();
        resolve(String(cn));
      },
    );
    s.on("error", reject);
  });
}
