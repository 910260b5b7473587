import { describe, expect, test } from "bun:test";
import { AuthThrottle } from "../../src/auth/limiter.ts";
import { expectNoSecrets, expectResult, message, rpcWith, startAuthRelay } from "../auth/_relay.ts";
import { cli } from "../cli/_run.ts";

/**
 * Issue 15 (5): 20 wrong tokens from 127.0.0.1 used to lock every peer on that address out for
 * 60 s, the admin included; on a host where every relay and agent shares loopback that takes the
 * fleet offline. Failures now count per (address, credential); a credential that verifies is
 * always answered.
 */

const TOML = `[server]\nid = "throttled"\n[profiles.echo]\nhandler = "echo"\n[peers.bot]\nprofiles = ["echo"]\n`;
const BOT_TOKEN = "bot-token-0123456789abcdef0123456789";

async function relay() {
  return startAuthRelay({ toml: TOML, env: { A2A_OC_TOKEN_BOT: BOT_TOKEN } });
}

describe("throttling by credential, not only by address", () => {
  test("25 bad credentials from one address, then a valid one: answered", async () => {
    const r = await relay();
    try {
      for (let i = 0; i < 25; i++) {
        const bad = await rpcWith(r.url, `Bearer wrong-${i}-0123456789`, "GetTask", { id: "x" });
        expect(bad.status).toBe(401);
      }
      for (const token of [BOT_TOKEN, r.localToken]) {
        const ok = await rpcWith(r.url, `Bearer ${token}`, "SendMessage", { message: message("still here") });
        expectResult(ok, "TASK_STATE_COMPLETED");
      }
      const admin = await fetch(`${r.url}/admin/peers`, {
        headers: { authorization: `Bearer ${r.localToken}` },
      });
      expect(admin.status).toBe(200);
    } finally {
      await r.stop();
    }
  });

  test("the same bad credential 20 times: that credential gets 429 (not checked again), others are answered", async () => {
    const r = await relay();
    try {
      const wrong = "Bearer the-same-wrong-token-0123456789";
      for (let i = 0; i < 20; i++)
        expect((await rpcWith(r.url, wrong, "GetTask", { id: "x" })).status).toBe(401);
      const blocked = await rpcWith(r.url, wrong, "GetTask", { id: "x" });
      expect(blocked.status).toBe(429);
      expect(blocked.body.error?.code).toBe(-32051);
      expect(blocked.body.error?.message).toContain("this credential");
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
      // another wrong credential from the same address is still checked: 401, not 429
      expect((await rpcWith(r.url, "Bearer another-wrong-0123456789", "GetTask", { id: "x" })).status).toBe(
        401,
      );
      const ok = await rpcWith(r.url, `Bearer ${BOT_TOKEN}`, "SendMessage", { message: message("fine") });
      expect(ok.body.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
      expectNoSecrets(r.log(), [BOT_TOKEN, r.localToken, "the-same-wrong-token-0123456789"]);
    } finally {
      await r.stop();
    }
  });

  test("a flood of 100 distinct bad credentials: the address's bad ones get 429, valid ones are answered", async () => {
    const r = await relay();
    try {
      for (let i = 0; i < 100; i++)
        await rpcWith(r.url, `Bearer flood-${i}-0123456789`, "GetTask", { id: "x" });
      const next = await rpcWith(r.url, "Bearer flood-new-0123456789", "GetTask", { id: "x" });
      expect(next.status).toBe(429);
      expect(next.body.error?.code).toBe(-32051);
      expect(next.body.error?.message).toContain("different credentials");
      const ok = await rpcWith(r.url, `Bearer ${BOT_TOKEN}`, "SendMessage", { message: message("fine") });
      expectResult(ok, "TASK_STATE_COMPLETED");
      const admin = await fetch(`${r.url}/admin/peers`, {
        headers: { authorization: `Bearer ${r.localToken}` },
      });
      expect(admin.status).toBe(200);
      // one log line per refusal until the block, none for each 429 after it
      const refusals = r
        .log()
        .split("\n")
        .filter((l) => l.includes("authentication refused")).length;
      expect(refusals).toBeLessThanOrEqual(100);
    } finally {
      await r.stop();
    }
  });

  test("the CLI exits 3 for TOO_MANY_AUTH_FAILURES (it exited 4, 'budget exceeded')", async () => {
    const r = await relay();
    try {
      const wrong = "wrong-cli-token-0123456789";
      const env = { A2A_RELAY_TOKEN: wrong, A2A_RELAY_HOME: r.dataDir };
      for (let i = 0; i < 20; i++) {
        const ran = await cli(["send", `${r.url}/a2a/echo`, "hi"], env);
        expect(ran.code).toBe(3);
      }
      const ran = await cli(["send", `${r.url}/a2a/echo`, "hi"], env);
      expect(ran.err).toContain("TOO_MANY_AUTH_FAILURES");
      expect(ran.code).toBe(3);
    } finally {
      await r.stop();
    }
  });
});

describe("AuthThrottle", () => {
  test("counts per (address, credential), and per address only distinct credentials", () => {
    let t = 0;
    const l = new AuthThrottle({ perCredential: 3, perAddress: 4, blockMs: 30_000, now: () => t });
    expect(l.idle).toBe(true);
    for (let i = 0; i < 3; i++) l.fail("a", "Bearer x");
    expect(l.credentialWait("a", "Bearer x")).toBe(30);
    expect(l.credentialWait("b", "Bearer x")).toBe(0); // another address
    expect(l.credentialWait("a", "Bearer y")).toBe(0); // another credential
    expect(l.addressWait("a")).toBe(0); // one distinct credential so far
    for (const c of ["Bearer y", "Bearer z", undefined]) l.fail("a", c);
    expect(l.addressWait("a")).toBe(30);
    expect(l.addressWait("b")).toBe(0);
    t += 30_001;
    expect(l.credentialWait("a", "Bearer x")).toBe(0);
    expect(l.addressWait("a")).toBe(0);
  });
});
