import { afterAll, describe, expect, test } from "bun:test";
import { JwtVerifier, type JwtVerifierOptions } from "../../src/auth/jwt.ts";
import { SqliteReplayGuard } from "../../src/auth/replay.ts";
import type { ResolvedPeer } from "../../src/config/load.ts";
import { parsePeer } from "../../src/config/schema.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { Writer } from "../../src/store/writer.ts";
import { peerKey, signJwt } from "./_keys.ts";

/** Unit tests with an injected clock and a real (in-memory) SQLite replay table: no sleeping. */

const store = openStore(currentRuntime(), ":memory:");
const writer = new Writer(store.conn);
afterAll(() => {
  writer.close();
  store.close();
});

const T0 = 1_900_000_000; // seconds
let clock = T0 * 1000;
const key = peerKey();

function peer(name: string, jwt: Record<string, unknown>, jwtKey: ResolvedPeer["jwtKey"], profiles = ["*"]) {
  return {
    ...parsePeer({ profiles, jwt }),
    name,
    credential: { source: "env:X", resolved: false },
    jwtKey,
  } as ResolvedPeer;
}

const filePeer = (name = "a", profiles = ["*"]) =>
  peer(
    name,
    {},
    { kind: "public_key_file", source: "file:/k.pem", resolved: true, pem: key.publicPem },
    profiles,
  );

function verifier(peers: ResolvedPeer[], extra: Partial<JwtVerifierOptions> = {}) {
  return new JwtVerifier({
    peers,
    audience: "me",
    replay: new SqliteReplayGuard(store.conn, writer, () => clock),
    now: () => clock,
    ...extra,
  });
}

describe("JwtVerifier", () => {
  test("exp and nbf are checked against the injected clock with 30 s tolerance", async () => {
    const v = verifier([filePeer()]);
    const tok = () => signJwt(key.privateKey, { iss: "a", aud: "me", iat: T0, exp: T0 + 60 }, "EdDSA", T0);
    clock = (T0 + 60 + 29) * 1000;
    expect((await v.verify(await tok())).kind).toBe("ok");
    clock = (T0 + 60 + 31) * 1000;
    expect(await v.verify(await tok())).toEqual({ kind: "refused", why: "ERR_JWT_EXPIRED" });
    clock = T0 * 1000;
    const nbf = await signJwt(key.privateKey, { iss: "a", aud: "me", iat: T0, exp: T0 + 300, nbf: T0 + 40 });
    expect((await v.verify(nbf)).kind).toBe("refused");
    clock = (T0 + 15) * 1000;
    expect((await v.verify(nbf)).kind).toBe("ok");
  });

  test("max_ttl_s bounds exp - iat", async () => {
    clock = T0 * 1000;
    const v = verifier([peer("a", { max_ttl_s: 120 }, filePeer().jwtKey)]);
    const ok = await signJwt(key.privateKey, { iss: "a", aud: "me", iat: T0, exp: T0 + 120 });
    const long = await signJwt(key.privateKey, { iss: "a", aud: "me", iat: T0, exp: T0 + 121 });
    expect((await v.verify(ok)).kind).toBe("ok");
    expect(await v.verify(long)).toEqual({ kind: "refused", why: "lifetime over max_ttl_s" });
  });

  test("a jti is accepted once; expired rows are pruned", async () => {
    clock = T0 * 1000;
    const replay = new SqliteReplayGuard(store.conn, writer, () => clock, 1000);
    const v = verifier([filePeer("p")], { replay });
    const t = await signJwt(key.privateKey, { iss: "p", aud: "me", iat: T0, exp: T0 + 60, jti: "j1" });
    expect((await v.verify(t)).kind).toBe("ok");
    expect(await v.verify(t)).toEqual({ kind: "refused", why: "replayed jti" }); // before its commit
    writer.flush();
    expect(await v.verify(t)).toEqual({ kind: "refused", why: "replayed jti" }); // and after
    const before = replay.count();
    expect(before).toBeGreaterThan(0);
    clock = (T0 + 10_000) * 1000; // past every earlier token's exp + tolerance, and the prune period
    await replay.remember("p", "other", clock + 1000);
    writer.flush(); // the id is written with the request's own writes (next commit)
    expect(replay.count()).toBe(1);
    // Same jti from two peers are different ids.
    expect(await replay.remember("q", "j1", clock + 1000)).toBe(true);
  });

  test("the profiles claim narrows; '*' in the claim keeps the peer's own rights", async () => {
    clock = T0 * 1000;
    const v = verifier([filePeer("a", ["echo", "coder"])]);
    const sign = (profiles: unknown) =>
      signJwt(key.privateKey, { iss: "a", aud: "me", profiles }, "EdDSA", T0);
    const r1 = await v.verify(await sign(["coder", "admin-stuff"]));
    expect(r1.kind === "ok" && r1.peer.profiles).toEqual(["coder"]);
    const r2 = await v.verify(await sign(["*"]));
    expect(r2.kind === "ok" && r2.peer.profiles).toEqual(["echo", "coder"]);
    expect(r2.kind === "ok" && r2.peer.via).toBe("jwt");
    expect((await v.verify(await sign([1, 2]))).kind).toBe("refused");
  });

  test("a static token is 'not-jwt' (falls through to the token directory)", async () => {
    const v = verifier([filePeer()]);
    expect(await v.verify("abcdefghijklmnop")).toEqual({ kind: "not-jwt" });
    expect(await v.verify("a.b.c")).toEqual({ kind: "not-jwt" });
  });

  test("configuration errors fail at construction, naming the key", () => {
    expect(() => verifier([filePeer("a"), peer("b", { issuer: "a" }, filePeer().jwtKey)])).toThrow(
      /peers\.b\.jwt\.issuer/,
    );
    expect(() =>
      verifier([
        peer("a", {}, { kind: "public_key_file", source: "file:/x.pem", resolved: true, pem: "nope" }),
      ]),
    ).toThrow(/peers\.a\.jwt\.public_key_file/);
    expect(() => verifier([peer("a", { algorithms: ["HS256"] }, filePeer().jwtKey)])).toThrow(
      /peers\.a\.jwt\.algorithms/,
    );
  });
});

describe("remote JWKS", () => {
  const jwksPeer = (url: string) =>
    peer("r", {}, { kind: "jwks_url", source: `jwks:${url}`, resolved: true, url });

  test("a JWKS endpoint that never answers fails closed within the timeout", async () => {
    clock = T0 * 1000;
    const hang = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
    try {
      const v = verifier([jwksPeer(`http://127.0.0.1:${hang.port}/jwks`)], { jwksTimeoutMs: 200 });
      const t0 = performance.now();
      const r = await v.verify(await signJwt(key.privateKey, { iss: "r", aud: "me" }, "EdDSA", T0));
      expect(r.kind).toBe("refused");
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally {
      hang.stop(true);
    }
  });

  test("keys are cached; a failing endpoint is not hammered (backoff)", async () => {
    clock = T0 * 1000;
    const { exportJWK } = await import("jose");
    const { createPublicKey } = await import("node:crypto");
    const jwk = { ...(await exportJWK(createPublicKey(key.publicPem))), kid: "k1", alg: "EdDSA" };
    let calls = 0;
    let up = true;
    const fetchImpl = (async () => {
      calls++;
      if (!up) throw new Error("connection refused");
      return Response.json({ keys: [jwk] });
    }) as unknown as typeof fetch;
    const v = verifier([jwksPeer("http://jwks.test/keys")], { fetch: fetchImpl, jwksBackoffMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      expect((await v.verify(await signJwt(key.privateKey, { iss: "r", aud: "me" }, "EdDSA", T0))).kind).toBe(
        "ok",
      );
    }
    expect(calls).toBe(1);

    const v2 = verifier([jwksPeer("http://jwks.test/keys")], { fetch: fetchImpl, jwksBackoffMs: 10_000 });
    up = false;
    calls = 0;
    for (let i = 0; i < 5; i++) {
      expect(
        (await v2.verify(await signJwt(key.privateKey, { iss: "r", aud: "me" }, "EdDSA", T0))).kind,
      ).toBe("refused");
    }
    expect(calls).toBe(1);
    up = true;
    clock += 11_000;
    expect(
      (await v2.verify(await signJwt(key.privateKey, { iss: "r", aud: "me" }, "EdDSA", T0 + 11))).kind,
    ).toBe("ok");
    expect(calls).toBe(2);
  });
});
