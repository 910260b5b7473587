import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { relayKeyFromPem, relayKeyPath } from "../../src/auth/keys.ts";
import { outboundCredential } from "../../src/auth/outbound.ts";
import {
  type AuthRelay,
  cli,
  expectNoSecrets,
  expectResult,
  message,
  rpcWith,
  startAuthRelay,
} from "./_relay.ts";

/**
 * Two in-process relays. A signs with its own key (made by `a2a-relay keygen` while A runs);
 * B trusts A through `jwt.jwks_url` pointing at A's /.well-known/jwks.json.
 */

const SHARED = "a-to-b-static-token-0123456789abcdef";
const secrets = new Set([SHARED]);
let a: AuthRelay;
let b: AuthRelay;

beforeAll(async () => {
  a = await startAuthRelay({
    toml: `[server]\nid = "relay-a"\n[profiles.echo]\nhandler = "echo"\n`,
  });
  b = await startAuthRelay({
    toml: `
[server]
id = "relay-b"
[profiles.echo]
handler = "echo"
[peers.relay-a]
profiles = ["echo"]
[peers.relay-a.jwt]
jwks_url = "${a.url}/.well-known/jwks.json"
`,
    env: { A2A_OC_TOKEN_RELAY_A: SHARED },
  });
  secrets.add(a.localToken).add(b.localToken);
});

afterAll(async () => {
  const logs = a.log() + b.log();
  await a.stop();
  await b.stop();
  expectNoSecrets(logs, secrets);
});

describe("JWT between two relays", () => {
  test("before keygen A publishes an empty JWKS and cannot mint", async () => {
    const jwks = await (await fetch(`${a.url}/.well-known/jwks.json`)).json();
    expect(jwks).toEqual({ keys: [] });
    const m = await cli(["token", "mint", "--peer", "x", "--aud", "relay-b", "--data-dir", a.dataDir]);
    expect(m.code).toBe(2);
    expect(m.err).toContain("a2a-relay keygen");
  });

  test("keygen writes a 0600 Ed25519 key; the running relay publishes it (public, no auth)", async () => {
    const k = await cli(["keygen", "--data-dir", a.dataDir]);
    expect(k.code).toBe(0);
    expect(statSync(relayKeyPath(a.dataDir)).mode & 0o777).toBe(0o600);
    const again = await cli(["keygen", "--data-dir", a.dataDir]);
    expect(again.code).toBe(2);
    expect(again.err).toContain("--force");
    const res = await fetch(`${a.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwks.keys[0]!.d).toBeUndefined(); // never the private half
    expect(k.out).toContain(`kid ${jwks.keys[0]!.kid}`);
  });

  test('B accepts A\'s outbound JWT (auth = "jwt"); a replay or another audience is refused', async () => {
    const key = await relayKeyFromPem(readFileSync(relayKeyPath(a.dataDir), "utf8"));
    const profile = { auth: "jwt" as const };
    const header = await outboundCredential(profile, "relay-a", key, {}, Date.now(), "relay-b");
    secrets.add(header.slice(7));
    const ok = await rpcWith(b.url, header, "SendMessage", { message: message("hello from A") });
    expectResult(ok, "TASK_STATE_COMPLETED");
    expect((await rpcWith(b.url, header, "GetTask", { id: ok.body.result!.task!.id })).status).toBe(401);
    // A fresh JWT per request is what routes do; B knows the task as peer relay-a's.
    const next = await outboundCredential(profile, "relay-a", key, {}, Date.now(), "relay-b");
    const got = await rpcWith(b.url, next, "GetTask", { id: ok.body.result!.task!.id });
    expectResult(got);
    expect(got.body.result?.id).toBe(ok.body.result!.task!.id);
    const elsewhere = await outboundCredential(profile, "relay-a", key, {}, Date.now(), "relay-c");
    expect((await rpcWith(b.url, elsewhere, "SendMessage", { message: message("x") })).status).toBe(401);
  });

  test('auth = "token" sends A2A_OC_TOKEN_<SLUG of the remote id>, which B knows as peer relay-a', async () => {
    const header = await outboundCredential(
      { auth: "token" },
      "relay-a",
      undefined,
      { A2A_OC_TOKEN_RELAY_B: SHARED },
      Date.now(),
      "relay-b",
    );
    const ok = await rpcWith(b.url, header, "SendMessage", { message: message("token route") });
    expectResult(ok, "TASK_STATE_COMPLETED");
  });

  test("a JWT minted by A's `token mint` for peer relay-a is accepted by B", async () => {
    const m = await cli(["token", "mint", "--peer", "relay-a", "--aud", "relay-b", "--data-dir", a.dataDir]);
    expect(m.code).toBe(0);
    secrets.add(m.out.trim());
    const res = await rpcWith(b.url, `Bearer ${m.out.trim()}`, "SendMessage", { message: message("minted") });
    expectResult(res, "TASK_STATE_COMPLETED");
  });
});

describe("peers listing", () => {
  test("GET /admin/peers shows each credential source and JWT key kind, never a value", async () => {
    const res = await fetch(`${b.url}/admin/peers`, { headers: { authorization: `Bearer ${b.localToken}` } });
    const text = await res.text();
    expect(res.status).toBe(200);
    const { peers } = JSON.parse(text) as { peers: Array<Record<string, unknown>> };
    const ra = peers.find((p) => p.name === "relay-a")!;
    expect(ra.credential).toMatchObject({ source: "env:A2A_OC_TOKEN_RELAY_A", resolved: true });
    expect(ra.jwt).toMatchObject({
      kind: "jwks_url",
      source: `jwks:${a.url}/.well-known/jwks.json`,
      resolved: true,
    });
    expect(text).not.toContain(SHARED);
    expect(text).not.toContain(b.localToken);
  });

  test("`a2a-relay peers` prints sources and whether they resolved, never a value", async () => {
    const cfg = `${b.dir}/config.toml`;
    const env = { A2A_OC_TOKEN_RELAY_A: SHARED, A2A_RELAY_HOME: b.dataDir };
    const text = await cli(["peers", "--config", cfg], env);
    expect(text.code).toBe(0);
    expect(text.out).toContain("relay-a: profiles echo");
    expect(text.out).toContain("token: env:A2A_OC_TOKEN_RELAY_A resolved");
    expect(text.out).toContain(`jwt:   jwks_url jwks:${a.url}/.well-known/jwks.json`);
    expect(text.out).toMatch(/local \(admin\): profiles \*\n {2}token: file:\S+local\.token resolved/);
    const json = await cli(["peers", "--config", cfg, "--json"], env);
    expect(
      JSON.parse(json.out)
        .peers.map((p: { name: string }) => p.name)
        .sort(),
    ).toEqual(["local", "relay-a"]);
    for (const out of [text.out, json.out]) {
      expect(out).not.toContain(SHARED);
      expect(out).not.toContain(b.localToken);
    }
    const unresolved = await cli(["peers", "--config", cfg], { A2A_RELAY_HOME: b.dataDir });
    expect(unresolved.out).toContain("NOT resolved (A2A_OC_TOKEN_RELAY_A is not set");
  });
});
