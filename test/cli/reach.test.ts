import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "./_run.ts";

/**
 * Reaching a relay that is not the default one: a real `serve` process on its own data dir and
 * lease, and the client commands finding it with --relay, --url, --data-dir and --token-file.
 */

const ROOT = join(import.meta.dir, "..", "..");
let dir: string;
let dataDir: string;
let lockDir: string;
let url: string;
let dataDirC: string;
let urlC: string;
const procs: Array<ReturnType<typeof Bun.spawn>> = [];
let env: Record<string, string>;

/** `serve` on its own data dir under lease `name`, once it listens: its URL. */
async function serve(data: string, name: string): Promise<string> {
  const proc = Bun.spawn(
    [process.execPath, "src/main.ts", "serve", "--data-dir", data, "--port", "auto", "--name", name],
    { cwd: ROOT, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  procs.push(proc);
  let err = "";
  const dec = new TextDecoder();
  const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
  const deadline = Date.now() + 15_000;
  while (!/listening on (\S+)/.test(err) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    err += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  const m = /listening on (\S+)/.exec(err);
  if (!m) throw new Error(`${name} did not start:\n${err}`);
  return m[1]!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "a2a-relay-reach-"));
  dataDir = join(dir, "data-b");
  dataDirC = join(dir, "data-c");
  lockDir = join(dir, "locks");
  // nothing at the default: HOME is empty, so only the flags can find relay b and its token
  env = { HOME: join(dir, "home"), A2A_RELAY_LOCK_DIR: lockDir, PATH: process.env.PATH ?? "" };
  [url, urlC] = await Promise.all([serve(dataDir, "relay-b"), serve(dataDirC, "relay-c")]);
}, 30_000);

afterAll(async () => {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

test("send --relay NAME --data-dir D reaches the leased relay with its token", async () => {
  const r = await cli(["send", "echo", "hi", "--relay", "relay-b", "--data-dir", dataDir, "--verbose"], env);
  expect(r).toMatchObject({ code: 0, out: "hi\n" });
  expect(r.err).toContain(`relay: ${url} (from --relay relay-b (port lease in ${lockDir}))`);
  expect(r.err).toContain(`credential: file:${join(dataDir, "tokens", "local.token")}`);
});

test("send --url with --token-file; send --data-dir alone finds the running relay", async () => {
  const tf = join(dataDir, "tokens", "local.token");
  expect(await cli(["send", "echo", "a", "--url", url, "--token-file", tf], env)).toMatchObject({
    code: 0,
    out: "a\n",
  });
  const viaDir = await cli(["send", "echo", "b", "--data-dir", dataDir, "--verbose"], env);
  expect(viaDir).toMatchObject({ code: 0, out: "b\n" });
  expect(viaDir.err).toContain("relay.lock");
});

test("bad reach inputs name the flag", async () => {
  const loose = join(dir, "loose.token");
  writeFileSync(loose, "x\n");
  chmodSync(loose, 0o644);
  const a = await cli(["send", "echo", "x", "--url", url, "--token-file", loose], env);
  expect(a.code).toBe(2);
  expect(a.err).toContain("--token-file");
  expect(a.err).toContain("chmod 600");
  const b = await cli(["send", "echo", "x", "--relay", "nope"], env);
  expect(b.code).toBe(2);
  expect(b.err).toContain('--relay: no live relay holds the lease "nope"');
  const c = await cli(["send", "echo", "x", "--relay", "relay-b", "--url", url], env);
  expect(c.code).toBe(2);
  // relay b with relay c's token (an explicit --data-dir wins over the lease's): a 401 that says
  // where the credential came from
  const d = await cli(["send", "echo", "x", "--relay", "relay-b", "--data-dir", dataDirC], env);
  expect(d.code).toBe(3);
  expect(d.err).toContain(join(dataDirC, "tokens", "local.token"));
  expect(d.err).toContain("--data-dir");
});

test("--relay NAME alone finds each relay's own token through the data dir its lease records", async () => {
  for (const [name, u, data] of [
    ["relay-b", url, dataDir],
    ["relay-c", urlC, dataDirC],
  ] as const) {
    const r = await cli(["send", "echo", `to ${name}`, "--relay", name, "--verbose"], env);
    expect(r).toMatchObject({ code: 0, out: `to ${name}\n` });
    expect(r.err).toContain(`relay: ${u} (from --relay ${name} (port lease in ${lockDir}))`);
    expect(r.err).toContain(
      `credential: file:${join(data, "tokens", "local.token")} (data dir from the lease ${name})`,
    );
  }
  // the two relays have different tokens: neither is the other's
  const b = await Bun.file(join(dataDir, "tokens", "local.token")).text();
  const c = await Bun.file(join(dataDirC, "tokens", "local.token")).text();
  expect(b).not.toBe(c);
  // the lease shows its data dir (a2a-relay ports --json)
  const ports = await cli(["ports", "--json"], env);
  const leases = JSON.parse(ports.out).leases as Array<{ name: string; dataDir?: string }>;
  expect(leases.find((l) => l.name === "relay-c")?.dataDir).toBe(dataDirC);
  // the other client commands read the same data dir: relay c's transcript without --data-dir
  const tr = await cli(["transcript", "local", "--relay", "relay-c"], env);
  expect(tr.code).toBe(0);
  expect(tr.out).toContain("to relay-c");
  expect(tr.out).not.toContain("to relay-b");
});

test("tasks, card, peers, budget, transcript take the same flags", async () => {
  const via = ["--relay", "relay-b", "--data-dir", dataDir];
  const list = await cli(["tasks", "list", ...via], env);
  expect(list.code).toBe(0);
  expect(list.out).toContain("completed");
  const card = await cli(["card", "echo", "--relay", "relay-b"], env);
  expect(card.code).toBe(0);
  expect(card.out).toContain(`${url}/a2a/echo`);
  const peers = await cli(["peers", ...via, "--json"], env);
  expect(peers.code).toBe(0);
  expect(JSON.parse(peers.out).peers[0].name).toBe("local");
  const tr = await cli(["transcript", "local", ...via, "--json"], env);
  expect(tr.code).toBe(0);
  expect(tr.out).toContain('"text"');
  const local = await cli(["transcript", "local", "--data-dir", dataDir], env);
  expect(local.code).toBe(0);
  expect(local.out).toContain("hi");
});

test("budget show/reset work with --data-dir alone (no config naming the peer)", async () => {
  const reset = await cli(["budget", "reset", "host-a", "--data-dir", dataDir], env);
  expect(reset).toMatchObject({ code: 0 });
  expect(reset.out).toContain("budget of peer host-a reset");
  const show = await cli(["budget", "show", "--data-dir", dataDir], env);
  expect(show.code).toBe(0);
  const http = await cli(["budget", "show", "--relay", "relay-b", "--data-dir", dataDir, "--json"], env);
  expect(http.code).toBe(0);
  expect(JSON.parse(http.out)).toEqual({ budgets: [] });
});
