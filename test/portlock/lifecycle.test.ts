import { afterEach, expect, test } from "bun:test";
import { main } from "../../src/cli/index.ts";
import { RelayError } from "../../src/errors.ts";
import { linuxProc, listLeases, openLeaseDb, resolveLease, selfIdentity } from "../../src/portlock/index.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { killAll, type Sandbox, type Serve, sandbox, serve, tokenOf, withTimeout } from "./_procs.ts";

let running: Serve[] = [];
let boxes: Sandbox[] = [];
afterEach(async () => {
  await killAll(running);
  for (const b of boxes) b.cleanup();
  running = [];
  boxes = [];
});

async function started(sb: Sandbox, name: string, extra: string[] = []) {
  const s = serve(sb, name, extra);
  running.push(s);
  const b = await withTimeout(s.ready, 90_000, `start ${name}`);
  if (!b) throw new Error(`${name} did not start: ${s.stderr()}`);
  return { s, ...b };
}

async function box(size = 5) {
  const sb = await sandbox(size);
  boxes.push(sb);
  return sb;
}

test("kill -9 a holder: a new instance with the same name reclaims the lease", async () => {
  const sb = await box();
  const a = await started(sb, "alpha");
  a.s.proc.kill("SIGKILL");
  await withTimeout(a.s.exited, 10_000, "kill -9");
  expect(listLeases(sb.lockDir)).toEqual([]); // the row is still there, but its holder is dead
  const b = await started(sb, "alpha");
  expect(b.port).toBe(sb.first);
  const [lease] = listLeases(sb.lockDir);
  expect(lease).toMatchObject({ name: "alpha", pid: b.s.proc.pid, port: sb.first, url: b.url });
  expect(await b.s.stop()).toBe(0);
}, 120_000);

test("a lease naming a live but unrelated pid (reused pid, other start time) is reclaimed", async () => {
  const sb = await box();
  const me = selfIdentity();
  expect(me.startTime).not.toBeNull(); // Linux: the check under test is the start time
  const conn = openLeaseDb(currentRuntime(), sb.lockDir);
  conn.query(
    "INSERT INTO leases (name, band, port, pid, pid_start_time, boot_id, url, since) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ["ghost", "hermes", sb.first, process.pid, me.startTime! - 1, me.bootId, "http://127.0.0.1:1", 0],
  );
  conn.close();
  expect(linuxProc.startTime(process.pid)).toBe(me.startTime!); // the pid is alive...
  expect(listLeases(sb.lockDir)).toEqual([]); // ...but it is not the holder
  expect(() => resolveLease(sb.lockDir, "ghost")).toThrow('no live relay holds lease "ghost"');
  const g = await started(sb, "ghost");
  expect(g.port).toBe(sb.first);
  expect(resolveLease(sb.lockDir, "ghost")).toBe(g.url);
  expect(await g.s.stop()).toBe(0);
}, 120_000);

test("a port held by a foreign process is skipped", async () => {
  const sb = await box();
  const foreign = Bun.serve({ hostname: "127.0.0.1", port: sb.first, fetch: () => new Response("foreign") });
  try {
    const a = await started(sb, "beta");
    expect(a.port).toBe(sb.first + 1);
    const health = (await (await fetch(`${a.url}/healthz`)).json()) as { name: string };
    expect(health.name).toBe("beta");
    expect(await a.s.stop()).toBe(0);
  } finally {
    foreign.stop(true);
  }
}, 120_000);

test("--replace stops the holder gracefully and takes over", async () => {
  const sb = await box();
  const a = await started(sb, "gamma");
  const b = await started(sb, "gamma", ["--replace"]);
  expect(await withTimeout(a.s.exited, 30_000, "holder exit")).toBe(0);
  expect(a.s.stderr()).toContain("received SIGTERM");
  expect(listLeases(sb.lockDir)).toMatchObject([{ name: "gamma", pid: b.s.proc.pid, port: b.port }]);
  expect(((await (await fetch(`${b.url}/healthz`)).json()) as { name: string }).name).toBe("gamma");
  expect(await b.s.stop()).toBe(0);
}, 120_000);

test("ports --json, /admin/ports and resolveLease list the live leases", async () => {
  const sb = await box();
  const [a, b] = await Promise.all([started(sb, "one"), started(sb, "two")]);
  const out: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    err: (t: string) => out.push(t),
    env: { A2A_RELAY_LOCK_DIR: sb.lockDir },
    stopSignal: new Promise<string>(() => {}),
  };
  expect(await main(["ports", "--json", "--config", sb.config], io)).toBe(0);
  const cli = JSON.parse(out.join("")) as { leases: Array<Record<string, unknown>> };
  const expected = [a, b]
    .sort((x, y) => x.port - y.port)
    .map((x) => ({ name: x.s.name, band: "hermes", port: x.port, pid: x.s.proc.pid, url: x.url }));
  expect(cli.leases).toMatchObject(expected);
  for (const l of cli.leases) expect(Number.isNaN(Date.parse(String(l.since)))).toBe(false);

  out.length = 0;
  expect(await main(["ports", "--band", "relay", "--json", "--config", sb.config], io)).toBe(0);
  expect(JSON.parse(out.join(""))).toEqual({ leases: [] });
  out.length = 0;
  expect(await main(["ports", "--band", "nope", "--config", sb.config], io)).toBe(2);
  expect(out.join("")).toContain('no band named "nope"');
  out.length = 0;
  expect(await main(["ports", "--config", sb.config], io)).toBe(0);
  expect(out.join("")).toMatch(/NAME\s+BAND\s+PORT\s+PID\s+SINCE\s+URL/);

  const unauth = await fetch(`${a.url}/admin/ports`);
  expect(unauth.status).toBe(401);
  const res = await fetch(`${a.url}/admin/ports`, { headers: { authorization: `Bearer ${tokenOf(a.s)}` } });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { leases: unknown[] }).leases).toEqual(cli.leases);

  expect(resolveLease(sb.lockDir, "two")).toBe(b.url);
  expect(await b.s.stop()).toBe(0);
  let err: unknown;
  try {
    resolveLease(sb.lockDir, "two");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RelayError);
  expect((err as RelayError).code).toBe(-32045);
  expect((err as RelayError).message).toContain('no live relay holds lease "two"');
  expect(await a.s.stop()).toBe(0);
}, 120_000);
