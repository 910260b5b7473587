import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { ROOT, runCli, type Served, serveProcess } from "../cli/_serve.ts";

/**
 * The status page at GET / in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): refused without the admin credential, the login form sets an HttpOnly,
 * SameSite=Strict cookie, a running task shows up live and then as completed. Screenshots go to
 * test-results/ (kept by CI as artifacts).
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-results");
let r: Served;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  r = await serveProcess(["--port", "0"]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await r?.stop();
});

const token = () => readFileSync(join(r.dataDir, "tokens", "local.token"), "utf8").trim();

test("refused without the admin credential: 401 and a login form, no relay data", async () => {
  const page = await browser.newPage();
  const res = await page.goto(`${r.url}/`);
  expect(res?.status()).toBe(401);
  expect(await page.locator("form.login input[type=password]").count()).toBe(1);
  expect(await page.content()).not.toContain("Live tasks");
  // a wrong token is refused again, saying why
  await page.fill("input[name=token]", "not-the-token");
  await page.click("button[type=submit]");
  expect(await page.locator(".error").textContent()).toContain("not a token of this relay");
  expect(await page.context().cookies()).toEqual([]);
  await page.close();
}, 30_000);

test("login sets an HttpOnly SameSite=Strict cookie; a running task shows live, then completed", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${r.url}/`);
  await page.fill("input[name=token]", token());
  await page.click("button[type=submit]");
  await page.waitForSelector("text=Profiles");
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: "a2a_relay_session", httpOnly: true, sameSite: "Strict" });
  expect(cookie!.value).not.toContain(token());
  expect(await page.evaluate("document.cookie")).toBe("");
  expect(page.url()).toBe(`${r.url}/`); // no token in the URL
  expect(await page.locator("section >> text=echo").count()).toBeGreaterThan(0);
  expect(await page.content()).toContain(`relay id <b>`);

  const sent = await runCli(
    ["send", "echo", "sleep:4000 slow answer", "--no-wait", "--url", r.url, "--data-dir", r.dataDir],
    r.env,
  );
  expect(sent.code).toBe(0);
  const id = sent.out.trim();
  const running = page.locator(`#tasks tr[data-task="${id}"]`);
  await running.waitFor({ timeout: 10_000 });
  expect(await running.textContent()).toContain("working");
  await page.screenshot({ path: join(ARTIFACTS, "status-page-running.png"), fullPage: true });

  const done = page.locator(`#recent tr[data-task="${id}"]`);
  await done.waitFor({ timeout: 15_000 });
  expect(await done.textContent()).toContain("completed");
  expect(await running.count()).toBe(0);

  const failed = await runCli(
    ["send", "echo", "fail: the disk is on fire", "--url", r.url, "--data-dir", r.dataDir],
    r.env,
  );
  expect(failed.code).toBe(1);
  await page.locator("#failures tr.failure >> text=the disk is on fire").waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(ARTIFACTS, "status-page-completed.png"), fullPage: true });

  // signing out forgets the session
  await page.click("text=sign out");
  await page.waitForSelector("form.login");
  await context.close();
}, 60_000);

test("an admin Authorization header works without the form; a non-admin or missing one does not", async () => {
  const ok = await fetch(`${r.url}/`, { headers: { authorization: `Bearer ${token()}` } });
  expect(ok.status).toBe(200);
  expect(ok.headers.get("content-type")).toContain("text/html");
  const page = await ok.text();
  expect(page).toContain("Leases on this host");
  // no asset is fetched from elsewhere
  expect(page).not.toMatch(/<(link|script)[^>]+(href|src)=/);
  expect((await fetch(`${r.url}/`)).status).toBe(401);
  expect((await fetch(`${r.url}/status/live`)).status).toBe(401);
});

test("a restart keeps the browser signed in; a session the relay no longer accepts reloads to the login form saying why", async () => {
  // a data dir of our own, kept across restarts on the same port (the page's origin)
  const dataDir = mkdtempSync(join(tmpdir(), "a2a-relay-status-restart-"));
  let relay = await serveProcess(["--port", "0", "--data-dir", dataDir]);
  const port = new URL(relay.url).port;
  const again = () => serveProcess(["--port", port, "--data-dir", dataDir]);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${relay.url}/`);
    await page.fill("input[name=token]", readFileSync(join(dataDir, "tokens", "local.token"), "utf8").trim());
    await page.click("button[type=submit]");
    await page.waitForSelector("text=Profiles");

    await relay.stop();
    await page.locator("#conn >> text=connection lost").waitFor({ timeout: 10_000 });
    relay = await again();
    // the browser's EventSource reconnects with the same signed cookie: still signed in, live again
    await page.locator("#conn:empty").waitFor({ state: "attached", timeout: 15_000 });
    const sent = await runCli(
      [
        "send",
        "echo",
        "sleep:1500 after the restart",
        "--no-wait",
        "--url",
        relay.url,
        "--data-dir",
        dataDir,
      ],
      relay.env,
    );
    await page.locator(`#tasks tr[data-task="${sent.out.trim()}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator("form.login").count()).toBe(0);

    // a new session key (the old one deleted): the stream is refused, the page reloads to the form
    await relay.stop();
    rmSync(join(dataDir, "status-session.key"));
    relay = await again();
    await page.waitForSelector("form.login", { timeout: 15_000 });
    expect(await page.locator(".error").textContent()).toContain("session key changed");
    await page.screenshot({ path: join(ARTIFACTS, "status-page-session-ended.png"), fullPage: true });
  } finally {
    await context.close();
    await relay.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 90_000);
