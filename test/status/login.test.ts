import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sessions } from "../../src/status/index.ts";
import { peerKey, signJwt } from "../auth/_keys.ts";
import { type Served, serveProcess } from "../cli/_serve.ts";

/**
 * The status page's sign-in over real HTTP against a `serve` process: it takes what the relay's
 * auth takes from an admin peer (a JWT here), and its signed session cookie outlives a restart;
 * a session that ended says why instead of silently failing.
 */

const AUD = "relay-s";
const ops = peerKey();
const viewer = peerKey();
let dir: string;
let dataDir: string;
let file: string;
let r: Served | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "a2a-relay-login-"));
  dataDir = join(dir, "data");
  writeFileSync(join(dir, "ops.pub.pem"), ops.publicPem);
  writeFileSync(join(dir, "viewer.pub.pem"), viewer.publicPem);
  file = join(dir, "relay.toml");
  writeFileSync(
    file,
    `[server]\nid = "${AUD}"\n[profiles.echo]\nhandler = "echo"\n` +
      `[peers.ops]\nprofiles = ["echo"]\nadmin = true\ntoken_env = "OPS_HAS_NO_STATIC_TOKEN"\n[peers.ops.jwt]\npublic_key_file = "ops.pub.pem"\n` +
      `[peers.viewer]\nprofiles = ["echo"]\ntoken_env = "VIEWER_HAS_NO_STATIC_TOKEN"\n[peers.viewer.jwt]\npublic_key_file = "viewer.pub.pem"\n`,
  );
  r = await start();
}, 30_000);

afterAll(async () => {
  await r?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `serve` on the shared data dir (a restart keeps it). */
const start = () =>
  serveProcess(["--config", file, "--port", "0", "--data-dir", dataDir, "--log-format", "json"]);

async function restart() {
  await r?.stop();
  r = await start();
}

const jwtOf = (k = ops, iss = "ops") => signJwt(k.privateKey, { iss, aud: AUD });

async function login(credential: string) {
  return fetch(`${r!.url}/login`, {
    method: "POST",
    body: new URLSearchParams({ token: credential }),
    redirect: "manual",
  });
}

const page = (headers: Record<string, string>) => fetch(`${r!.url}/`, { headers });
const cookieOf = (res: Response) =>
  /a2a_relay_session=([^;]*)/.exec(res.headers.get("set-cookie") ?? "")?.[1];

test("sign in with an admin peer's JWT; the signed session survives a restart; a changed key ends it, saying so", async () => {
  const keyFile = join(dataDir, "status-session.key");
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);

  const jwt = await jwtOf();
  const res = await login(jwt);
  expect(res.status).toBe(303);
  const setCookie = res.headers.get("set-cookie") ?? "";
  expect(setCookie).toMatch(/HttpOnly/i);
  expect(setCookie).toMatch(/SameSite=Strict/i);
  const cookie = cookieOf(res)!;
  expect(cookie.length).toBeGreaterThan(40);
  expect(setCookie).not.toContain(jwt);

  const signedIn = await page({ cookie: `a2a_relay_session=${cookie}` });
  expect(signedIn.status).toBe(200);
  expect(await signedIn.text()).toContain("signed in as ops");
  // a JWT is good once (its jti is remembered): the same one cannot sign in again
  const again = await login(jwt);
  expect(again.status).toBe(401);
  expect(await again.text()).toContain("not a token of this relay, nor a JWT it accepts");
  // the header works with a JWT too; a JWT of a peer that is not admin does not open the page
  expect((await page({ authorization: `Bearer ${await jwtOf()}` })).status).toBe(200);
  const notAdmin = await login(await jwtOf(viewer, "viewer"));
  expect(notAdmin.status).toBe(401);
  expect(await notAdmin.text()).toContain("peer viewer is not an admin peer");
  // the refusal is logged as any other, without the credential
  for (let i = 0; i < 40 && !r!.stdout().includes('"authentication refused"'); i++) await Bun.sleep(50);
  expect(r!.stdout()).toContain('"authentication refused"');
  expect(r!.stdout()).not.toContain(jwt);

  await restart();
  const afterRestart = await page({ cookie: `a2a_relay_session=${cookie}` });
  expect(afterRestart.status).toBe(200);
  expect(await afterRestart.text()).toContain("signed in as ops");
  const live = await fetch(`${r!.url}/status/live`, { headers: { cookie: `a2a_relay_session=${cookie}` } });
  expect(live.status).toBe(200);
  await live.body?.cancel();

  // a damaged cookie: the login form says the session is no longer valid, and drops the cookie
  const damaged = await page({ cookie: `a2a_relay_session=${cookie.slice(0, -2)}xx` });
  expect(damaged.status).toBe(401);
  expect(await damaged.text()).toContain("your session is no longer valid");
  expect(damaged.headers.get("set-cookie")).toMatch(/a2a_relay_session=;/);

  // deleting the key (and restarting) ends every session, and the page says why
  await r!.stop();
  rmSync(keyFile);
  r = await start();
  const rotated = await page({ cookie: `a2a_relay_session=${cookie}` });
  expect(rotated.status).toBe(401);
  expect(await rotated.text()).toContain("the relay&#39;s session key changed");
  expect(
    (await fetch(`${r!.url}/status/live`, { headers: { cookie: `a2a_relay_session=${cookie}` } })).status,
  ).toBe(401);
}, 60_000);

test("signing out ends that session", async () => {
  const cookie = cookieOf(await login(await jwtOf()))!;
  const out = await fetch(`${r!.url}/logout`, {
    method: "POST",
    headers: { cookie: `a2a_relay_session=${cookie}` },
    redirect: "manual",
  });
  expect(out.status).toBe(303);
  const after = await page({ cookie: `a2a_relay_session=${cookie}` });
  expect(after.status).toBe(401);
  expect(await after.text()).toContain("you signed out");
});

test("sessions: expiry, tampering and another key are refused", () => {
  let t = 1_000_000;
  const key = "k".repeat(40);
  const s = new Sessions({ key, ttlMs: 1000, now: () => t });
  const v = s.issue("ops");
  expect(s.check(v)).toEqual({ ok: true, peer: "ops" });
  const [payload, mac] = v.split(".");
  const forged = Buffer.from(JSON.stringify({ p: "root", e: t + 1e9, n: "x" })).toString("base64url");
  expect(s.check(`${forged}.${mac}`)).toEqual({ ok: false, why: "invalid" });
  expect(new Sessions({ key: "j".repeat(40), now: () => t }).check(v)).toEqual({ ok: false, why: "invalid" });
  expect(s.check(`${payload}`)).toEqual({ ok: false, why: "invalid" });
  t += 1000;
  expect(s.check(v)).toEqual({ ok: false, why: "expired" });
  expect(() => new Sessions({ key: "short" })).toThrow(TypeError);
});
