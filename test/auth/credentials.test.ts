import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { generateRelayKeyPem, RelayKeyring, relayKeyFromPem } from "../../src/auth/keys.ts";
import { mintJwt } from "../../src/auth/mint.ts";
import { outboundCredential } from "../../src/auth/outbound.ts";
import { loadConfig, resolveToken, tokenEnvName } from "../../src/config/load.ts";
import { RelayError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "a2a-relay-cred-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string, mode: number): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

describe("the static token chain", () => {
  test("SLUG: upper-case, every character outside A-Z0-9 becomes _", () => {
    expect(tokenEnvName("hermes-main")).toBe("A2A_OC_TOKEN_HERMES_MAIN");
    expect(tokenEnvName("a.b_c-9")).toBe("A2A_OC_TOKEN_A_B_C_9");
  });

  test("token_env wins over A2A_OC_TOKEN_<SLUG>, which wins over token_file", () => {
    const f = file("ok.token", "from-file-token-value\n", 0o600);
    const env = { MY_TOKEN: "from-custom-env", A2A_OC_TOKEN_PEER_X: "from-slug-env" };
    expect(resolveToken("peer-x", { token_env: "MY_TOKEN" }, f, env)).toMatchObject({
      source: "env:MY_TOKEN",
      resolved: true,
      token: "from-custom-env",
    });
    expect(resolveToken("peer-x", {}, f, env)).toMatchObject({
      source: "env:A2A_OC_TOKEN_PEER_X",
      token: "from-slug-env",
    });
    expect(resolveToken("peer-x", {}, f, {})).toMatchObject({
      source: `file:${f}`,
      resolved: true,
      token: "from-file-token-value",
    });
    expect(resolveToken("peer-x", {}, undefined, {})).toMatchObject({ resolved: false });
  });

  test("a token file readable by others is refused with a clear error, never its value", () => {
    const f = file("open.token", "world-readable-secret-value", 0o644);
    const c = resolveToken("peer-x", {}, f, {});
    expect(c.resolved).toBe(false);
    expect(c.token).toBeUndefined();
    expect(c.error).toContain("readable by other users");
    expect(c.error).toContain("chmod 600");
    expect(c.error).not.toContain("world-readable-secret-value");
  });

  test("loadConfig: [peers.X.jwt] needs exactly one key source; a short HMAC secret does not resolve", () => {
    const cfg = (toml: string) => {
      const f = join(dir, `c${Math.random()}.toml`);
      writeFileSync(f, toml);
      return f;
    };
    expect(() =>
      loadConfig({
        file: cfg('[peers.p.jwt]\njwks_url = "http://127.0.0.1:1/j"\nsecret_env = "S"\n'),
        env: { A2A_RELAY_HOME: dir },
      }),
    ).toThrow(/peers\.p\.jwt: set exactly one of/);
    const c = loadConfig({
      file: cfg('[peers.p.jwt]\nsecret_env = "S"\n'),
      env: { A2A_RELAY_HOME: dir, S: "short" },
    });
    expect(c.peers.p?.jwtKey).toMatchObject({
      kind: "secret_env",
      resolved: false,
      error: "S is shorter than 32 bytes",
    });
    const missing = loadConfig({
      file: cfg('[peers.p.jwt]\npublic_key_file = "nope.pem"\n'),
      env: { A2A_RELAY_HOME: dir },
    });
    expect(missing.peers.p?.jwtKey).toMatchObject({ kind: "public_key_file", resolved: false });
    expect(missing.peers.p?.jwtKey?.source).toBe(`file:${join(dir, "nope.pem")}`);
  });
});

describe("outboundCredential", () => {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0);

  test('auth = "token" sends A2A_OC_TOKEN_<SLUG of the remote id> (or the profile token_env)', async () => {
    const env = { A2A_OC_TOKEN_HOST_B: "tok-for-host-b", OTHER: "tok-other" };
    expect(await outboundCredential({ auth: "token" }, "host-a", undefined, env, now, "host-b")).toBe(
      "Bearer tok-for-host-b",
    );
    expect(
      await outboundCredential(
        { auth: "token", token_env: "OTHER" },
        "host-a",
        undefined,
        env,
        now,
        "host-b",
      ),
    ).toBe("Bearer tok-other");
    const err = await outboundCredential({ auth: "token" }, "host-a", undefined, {}, now, "host.c").catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(RelayError);
    expect(err.reason).toBe("OUTBOUND_CREDENTIAL_MISSING");
    expect(err.message).toContain("A2A_OC_TOKEN_HOST_C");
  });

  test('auth = "jwt" mints a fresh short-lived EdDSA JWT per call: iss = self, aud = remote', async () => {
    const key = await relayKeyFromPem(generateRelayKeyPem().privatePem);
    const a = await outboundCredential({ auth: "jwt" }, "host-a", key, {}, now, "host-b");
    const b = await outboundCredential({ auth: "jwt" }, "host-a", key, {}, new Date(now), "host-b");
    expect(a).toStartWith("Bearer ");
    const ta = a.slice(7);
    const claims = decodeJwt(ta);
    expect(claims).toMatchObject({ iss: "host-a", aud: "host-b", iat: now / 1000, exp: now / 1000 + 60 });
    expect(claims.jti).toBeString();
    expect(decodeJwt(b.slice(7)).jti).not.toBe(claims.jti);
    expect(decodeProtectedHeader(ta)).toMatchObject({ alg: "EdDSA", kid: key.kid });
    const jwks = createLocalJWKSet({ keys: [key.publicJwk] });
    const v = await jwtVerify(ta, jwks, { audience: "host-b", issuer: "host-a", currentDate: new Date(now) });
    expect(v.payload.iss).toBe("host-a");
    const err = await outboundCredential({ auth: "jwt" }, "host-a", undefined, {}, now, "host-b").catch(
      (e) => e,
    );
    expect(err.reason).toBe("OUTBOUND_CREDENTIAL_MISSING");
    expect(err.message).toContain("a2a-relay keygen");
  });

  test("mintJwt refuses a bad ttl; the keyring reports why it has no key", async () => {
    const key = await relayKeyFromPem(generateRelayKeyPem().privatePem);
    await expect(mintJwt(key, { iss: "a", aud: "b", ttlS: 0, now })).rejects.toThrow(TypeError);
    const ring = new RelayKeyring(() => ({ ok: false, error: "/x/relay.key.pem does not exist" }));
    expect(await ring.jwks()).toEqual({ keys: [] });
    expect(ring.problem).toContain("does not exist");
    const bad = new RelayKeyring(() => ({ ok: true, value: "not a pem" }));
    expect(await bad.current()).toBeUndefined();
    expect(bad.problem).toContain("not a valid Ed25519");
  });
});
