import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { b64url, type PeerKey, peerKey, signJwt } from "./_keys.ts";
import { type AuthRelay, expectNoSecrets, expectResult, message, rpcWith, startAuthRelay } from "./_relay.ts";

/**
 * Every bad credential gets the same 401 (+ WWW-Authenticate: Bearer) and the relay keeps
 * serving; profile rights give 403; tasks belong to the peer that created them.
 */

const TOKEN_A = "static-token-of-peer-a-0123456789abcdef";
const TOKEN_B = "static-token-of-peer-b-0123456789abcdef";
const HS_SECRET = "an-hmac-secret-for-peer-hs-of-at-least-32-bytes";
const AUD = "relay-under-test";

let r: AuthRelay;
let ka: PeerKey;
let kb: PeerKey;
let garbage: ReturnType<typeof Bun.serve>;
const secrets = new Set<string>([TOKEN_A, TOKEN_B, HS_SECRET]);
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  ka = peerKey();
  kb = peerKey();
  garbage = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<html>not a jwks") });
  r = await startAuthRelay({
    toml: `
[server]
id = "${AUD}"
auth_max_failures = 10000

[profiles.echo]
handler = "echo"
[profiles.echo2]
handler = "echo"

[peers.peer-a]
profiles = ["*"]
[peers.peer-a.jwt]
public_key_file = "keys/peer-a.pub.pem"

[peers.peer-b]
profiles = ["echo"]
[peers.peer-b.jwt]
public_key_file = "keys/peer-b.pub.pem"

[peers.hs]
profiles = ["echo"]
token_env = "HS_NO_STATIC_TOKEN"
[peers.hs.jwt]
secret_env = "HS_SECRET"
algorithms = ["HS256"]

[peers.jwks-down]
token_env = "JWKS_DOWN_NO_TOKEN"
[peers.jwks-down.jwt]
jwks_url = "http://127.0.0.1:1/.well-known/jwks.json"

[peers.jwks-garbage]
token_env = "JWKS_GARBAGE_NO_TOKEN"
[peers.jwks-garbage.jwt]
jwks_url = "http://127.0.0.1:${garbage.port}/.well-known/jwks.json"
`,
    env: { A2A_OC_TOKEN_PEER_A: TOKEN_A, A2A_OC_TOKEN_PEER_B: TOKEN_B, HS_SECRET },
    files: {
      "keys/peer-a.pub.pem": { content: ka.publicPem, mode: 0o644 },
      "keys/peer-b.pub.pem": { content: kb.publicPem, mode: 0o644 },
    },
  });
  secrets.add(r.localToken);
});

afterAll(async () => {
  const log = r.log();
  await r.stop();
  garbage.stop(true);
  // Something about the refusals was logged, and none of the credentials used was.
  expect(log).toContain("authentication refused");
  expectNoSecrets(log, secrets);
});

/** A credential the relay must refuse with the uniform 401. */
type Case = [name: string, authorization: () => Promise<string | undefined> | string | undefined];

const jwt = async (p: Promise<string>) => {
  const t = await p;
  secrets.add(t);
  return `Bearer ${t}`;
};

const cases: Case[] = [
  ["no Authorization header", () => undefined],
  ["empty bearer", () => "Bearer "],
  ["bearer alone", () => "Bearer"],
  ["Basic scheme", () => `Basic ${Buffer.from(`peer-a:${TOKEN_A}`).toString("base64")}`],
  ["Basic scheme carrying the raw token", () => `Basic ${TOKEN_A}`],
  ["bearer with two spaces", () => `bearer  ${TOKEN_A}`],
  ["bearer with a tab", () => `Bearer\t${TOKEN_A}`],
  ["bearer with a second word", () => `Bearer ${TOKEN_A} extra`],
  ["bearer with a colon", () => `Bearer: ${TOKEN_A}`],
  ["token without scheme", () => TOKEN_A],
  ["unknown static token", () => "Bearer not-a-token-of-anyone-0123456789"],
  ["a 12 KiB token", () => `Bearer ${"A".repeat(12 * 1024)}`],
  // Over Bun's 16 KiB header limit the HTTP server itself answers 431 before the app runs.
  ["a 64 KiB token", () => `Bearer ${"A".repeat(64 * 1024)}`],
  ["a token one character short", () => `Bearer ${TOKEN_A.slice(0, -1)}`],
  [
    "JWT with alg none",
    () => {
      const t = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ iss: "peer-a", aud: AUD, iat: now(), exp: now() + 60, jti: crypto.randomUUID() })}.`;
      return `Bearer ${t}`;
    },
  ],
  [
    "HS256 signed with peer A's public key as the secret (algorithm confusion)",
    () => jwt(signJwt(new TextEncoder().encode(ka.publicPem), { iss: "peer-a", aud: AUD }, "HS256")),
  ],
  [
    "expired (beyond the 30 s tolerance)",
    () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, iat: now() - 200, exp: now() - 31 })),
  ],
  ["nbf in the future", () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, nbf: now() + 120 }))],
  ["wrong aud", () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: "some-other-relay" }))],
  ["no aud", () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: undefined }))],
  ["wrong iss", () => jwt(signJwt(ka.privateKey, { iss: "nobody", aud: AUD }))],
  ["iss of peer A signed with peer B's key", () => jwt(signJwt(kb.privateKey, { iss: "peer-a", aud: AUD }))],
  ["no exp", () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, exp: undefined }))],
  ["no jti", () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, jti: undefined }))],
  [
    "lifetime over max_ttl_s",
    () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, exp: now() + 3600 })),
  ],
  [
    "iat far in the future",
    () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, iat: now() + 600, exp: now() + 700 })),
  ],
  [
    "malformed profiles claim",
    () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, profiles: "echo" })),
  ],
  [
    "tampered payload (peer B's token re-labelled as peer A)",
    async () => {
      const t = await signJwt(kb.privateKey, { iss: "peer-b", aud: AUD });
      const [h, p, s] = t.split(".");
      const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
      return `Bearer ${h}.${b64url({ ...claims, iss: "peer-a" })}.${s}`;
    },
  ],
  [
    "tampered payload (profiles widened)",
    async () => {
      const t = await signJwt(kb.privateKey, { iss: "peer-b", aud: AUD, profiles: ["echo"] });
      const [h, p, s] = t.split(".");
      const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
      return `Bearer ${h}.${b64url({ ...claims, profiles: ["*"] })}.${s}`;
    },
  ],
  [
    "HS256 with the wrong secret",
    () => jwt(signJwt(new TextEncoder().encode(`${HS_SECRET}x`), { iss: "hs", aud: AUD }, "HS256")),
  ],
  ["EdDSA token for the HS256-only peer", () => jwt(signJwt(ka.privateKey, { iss: "hs", aud: AUD }))],
  ["JWKS endpoint down", () => jwt(signJwt(ka.privateKey, { iss: "jwks-down", aud: AUD }))],
  ["JWKS endpoint returns garbage", () => jwt(signJwt(ka.privateKey, { iss: "jwks-garbage", aud: AUD }))],
  ["three dots of nothing", () => "Bearer .."],
  ["JWT-shaped but not JSON", () => "Bearer abc.def.ghi"],
];

describe("bad credentials: 401, same body, no crash", () => {
  let reference: string | undefined;
  for (const [name, auth] of cases) {
    test(name, async () => {
      const t0 = performance.now();
      const res = await rpcWith(r.url, await auth(), "SendMessage", { message: message("hi") });
      if (name === "a 64 KiB token" && res.status === 431) return;
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toStartWith("Bearer");
      expect(res.body.error?.code).toBe(-32050);
      reference ??= res.text;
      expect(res.text).toBe(reference);
      expect(performance.now() - t0).toBeLessThan(4000);
    });
  }

  test("the relay still serves, and a replayed jti is refused", async () => {
    const token = await jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD }));
    const first = await rpcWith(r.url, token, "SendMessage", { message: message("once") });
    expect(first.status).toBe(200);
    expect(first.body.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    const again = await rpcWith(r.url, token, "SendMessage", { message: message("twice") });
    expect(again.status).toBe(401);
    expect(again.text).toBe(reference!);
  });

  test("a token within the 30 s clock tolerance is accepted (expired 10 s ago, nbf 10 s ahead)", async () => {
    const late = await jwt(
      signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, iat: now() - 100, exp: now() - 10 }),
    );
    expectResult(
      await rpcWith(r.url, late, "SendMessage", { message: message("late") }),
      "TASK_STATE_COMPLETED",
    );
    const early = await jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, nbf: now() + 10 }));
    expectResult(
      await rpcWith(r.url, early, "SendMessage", { message: message("early") }),
      "TASK_STATE_COMPLETED",
    );
  });

  test("HS256 from secret_env works for its peer", async () => {
    const token = await jwt(signJwt(new TextEncoder().encode(HS_SECRET), { iss: "hs", aud: AUD }, "HS256"));
    const res = await rpcWith(r.url, token, "SendMessage", { message: message("hmac") });
    expectResult(res, "TASK_STATE_COMPLETED");
  });
});

describe("rights", () => {
  test("a static token for a profile its peer lacks is 403 / -32041", async () => {
    const res = await rpcWith(
      r.url,
      `Bearer ${TOKEN_B}`,
      "SendMessage",
      { message: message("x") },
      "/a2a/echo2",
    );
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe(-32041);
    const ok = await rpcWith(
      r.url,
      `Bearer ${TOKEN_B}`,
      "SendMessage",
      { message: message("x") },
      "/a2a/echo",
    );
    expectResult(ok, "TASK_STATE_COMPLETED");
  });

  test("a JWT profiles claim narrows the peer's rights", async () => {
    const narrow = () => jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD, profiles: ["echo"] }));
    const denied = await rpcWith(
      r.url,
      await narrow(),
      "SendMessage",
      { message: message("x") },
      "/a2a/echo2",
    );
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe(-32041);
    const allowed = await rpcWith(
      r.url,
      await narrow(),
      "SendMessage",
      { message: message("x") },
      "/a2a/echo",
    );
    expectResult(allowed, "TASK_STATE_COMPLETED");
    // A claim cannot widen: peer B may use echo only, whatever its token says.
    const wide = await jwt(signJwt(kb.privateKey, { iss: "peer-b", aud: AUD, profiles: ["echo2", "*"] }));
    expect((await rpcWith(r.url, wide, "SendMessage", { message: message("x") }, "/a2a/echo2")).status).toBe(
      403,
    );
  });

  test("peer B cannot get, cancel or subscribe to peer A's task (-32001)", async () => {
    const a = `Bearer ${TOKEN_A}`;
    const b = `Bearer ${TOKEN_B}`;
    const sent = await rpcWith(r.url, a, "SendMessage", {
      message: message("sleep:5000 slow"),
      configuration: { returnImmediately: true },
    });
    const id = sent.body.result?.task?.id;
    expect(id).toBeString();
    for (const method of ["GetTask", "CancelTask", "SubscribeToTask"]) {
      const res = await rpcWith(r.url, b, method, { id });
      expect(res.body.error?.code).toBe(-32001);
    }
    // B's JWT identity is the same peer B: still not found.
    const bj = await jwt(signJwt(kb.privateKey, { iss: "peer-b", aud: AUD }));
    expect((await rpcWith(r.url, bj, "GetTask", { id })).body.error?.code).toBe(-32001);
    // A (by JWT too: identity is the peer, not the credential kind) sees and cancels it.
    const aj = await jwt(signJwt(ka.privateKey, { iss: "peer-a", aud: AUD }));
    expect((await rpcWith(r.url, aj, "GetTask", { id })).body.result?.id).toBe(id);
    const canceled = await rpcWith(r.url, a, "CancelTask", { id });
    expect((canceled.body.result as { status?: { state: string } })?.status?.state).toBe(
      "TASK_STATE_CANCELED",
    );
  });

  test("/admin/* needs an admin peer (else 401 / 403); cards, JWKS, /healthz and /readyz are public", async () => {
    expect((await fetch(`${r.url}/admin/peers`)).status).toBe(401);
    const notAdmin = await fetch(`${r.url}/admin/peers`, { headers: { authorization: `Bearer ${TOKEN_A}` } });
    expect(notAdmin.status).toBe(403);
    expect(((await notAdmin.json()) as { error: { code: number } }).error.code).toBe(-32041);
    const admin = await fetch(`${r.url}/admin/peers`, {
      headers: { authorization: `Bearer ${r.localToken}` },
    });
    expect(admin.status).toBe(200);
    for (const path of [
      "/.well-known/agent-card.json",
      "/a2a/echo/.well-known/agent-card.json",
      "/.well-known/jwks.json",
      "/healthz",
      "/readyz",
    ]) {
      expect((await fetch(`${r.url}${path}`)).status).toBe(200);
    }
  });
});
