import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError, RelayError } from "../../src/errors.ts";
import {
  bindListener,
  type Claim,
  claimPort,
  isAlive,
  linuxProc,
  listLeases,
  type ProcFs,
  prepareLease,
  selfIdentity,
  stopHolder,
  urlFor,
} from "../../src/portlock/index.ts";
import { currentRuntime, type Listener } from "../../src/runtime/index.ts";
import { sandbox } from "./_procs.ts";

// In-process claims (this test process is the holder), with the real runtime bind.

const runtime = currentRuntime();
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function setup(size: number) {
  const sb = await sandbox(size);
  cleanups.push(sb.cleanup);
  const claim = (name: string | undefined): Claim => {
    const c = claimPort({
      runtime,
      lockDir: sb.lockDir,
      name,
      band: "hermes",
      range: [sb.first, sb.last],
      host: "127.0.0.1",
      bind: (port) => runtime.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("ok") }),
    });
    cleanups.unshift(() => {
      c.release();
      void c.listener.stop(true);
    });
    return c;
  };
  return { sb, claim };
}

function caught(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelayError) return err;
    throw err;
  }
  throw new Error("expected a RelayError");
}

test("claims walk the band, refuse a live name, skip foreign ports and report a full band", async () => {
  const { sb, claim } = await setup(3);
  const u1 = claim("u1");
  expect(u1.lease).toMatchObject({ name: "u1", band: "hermes", port: sb.first, pid: process.pid });
  expect(u1.listener.port).toBe(sb.first);
  const held = caught(() => claim("u1"));
  expect(held.reason).toBe("LEASE_HELD");
  expect(held.exitCode).toBe(2);
  expect(held.message).toContain(`held by pid ${process.pid} on port ${sb.first}`);
  const anon = claim(undefined);
  expect(anon.lease.name).toBe(`hermes:${sb.first + 1}`);
  const foreign: Listener = runtime.serve({
    hostname: "127.0.0.1",
    port: sb.last,
    fetch: () => new Response("x"),
  });
  cleanups.push(() => void foreign.stop(true));
  const full = caught(() => claim("u3"));
  expect(full.reason).toBe("BAND_FULL");
  expect(full.exitCode).toBe(2);
  expect(full.message).toBe(
    `no free port in band hermes (${sb.first}-${sb.last}): leased by live relays: u1@${sb.first}, hermes:${sb.first + 1}@${sb.first + 1}; in use by other processes: ${sb.last}`,
  );
  u1.release();
  u1.release(); // twice is fine
  await u1.listener.stop(true);
  expect(listLeases(sb.lockDir).map((l) => l.name)).toEqual([`hermes:${sb.first + 1}`]);
  expect(claim("u3").lease.port).toBe(sb.first);
});

test("bad names are refused before anything is touched", async () => {
  const { claim } = await setup(1);
  for (const bad of ["", "-x", "a b", "a:b", "x".repeat(65), "../etc"]) {
    expect(() => claim(bad)).toThrow(ConfigError);
  }
});

test("liveness: start time and boot id must match; off Linux, the pid alone", () => {
  const me = selfIdentity();
  expect(isAlive(me)).toBe(true);
  expect(isAlive({ ...me, startTime: (me.startTime ?? 0) + 1 })).toBe(!linuxProc.available);
  const fake = (boot: string, available = true): ProcFs => ({
    available,
    bootId: () => boot,
    startTime: (pid) => (pid === me.pid ? 42 : undefined),
  });
  expect(isAlive({ pid: me.pid, startTime: 42, bootId: "b1" }, fake("b1"))).toBe(true);
  expect(isAlive({ pid: me.pid, startTime: 42, bootId: "b0" }, fake("b1"))).toBe(false); // rebooted
  expect(isAlive({ pid: 999_999_999, startTime: 42, bootId: "b1" }, fake("b1"))).toBe(false);
  expect(isAlive({ pid: me.pid, startTime: null, bootId: null }, fake("b1", false))).toBe(true);
  expect(isAlive({ pid: 999_999_999, startTime: null, bootId: null }, fake("b1", false))).toBe(false);
  expect(linuxProc.startTime(999_999_999)).toBeUndefined();
});

test("--replace gives up after its bound when the holder does not exit (no real waiting)", async () => {
  const { sb, claim } = await setup(2);
  claim("stuck");
  const kills: Array<[number, string]> = [];
  let t = 0;
  const err = await stopHolder(sb.lockDir, "stuck", {
    timeoutMs: 5_000,
    kill: (pid, sig) => kills.push([pid, sig]),
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  }).catch((e) => e);
  expect(kills).toEqual([[process.pid, "SIGTERM"]]);
  expect(err).toBeInstanceOf(RelayError);
  expect((err as RelayError).message).toContain("holder pid");
  expect(t).toBeGreaterThanOrEqual(5_000);
  expect(await stopHolder(sb.lockDir, "nobody", { timeoutMs: 1 })).toBeUndefined();
});

test("lease URLs point at loopback for wildcard hosts", () => {
  expect(urlFor("127.0.0.1", 9340)).toBe("http://127.0.0.1:9340");
  expect(urlFor("0.0.0.0", 9340)).toBe("http://127.0.0.1:9340");
  expect(urlFor("::", 9340)).toBe("http://[::1]:9340");
  expect(urlFor("::1", 9340)).toBe("http://[::1]:9340");
});

test("listing an absent lock dir creates nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "a2a-portlock-empty-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  expect(listLeases(join(dir, "none"))).toEqual([]);
  expect(existsSync(join(dir, "none"))).toBe(false);
});

test("a fixed port is leased: under --name, else under server.id; port 0 unnamed leases nothing", async () => {
  const sb = await sandbox(3);
  cleanups.push(sb.cleanup);
  const fetch = () => new Response("ok");
  const cfg = (port: string, name?: string) =>
    loadConfig({ file: sb.config, env: { A2A_RELAY_LOCK_DIR: sb.lockDir }, port, name });
  const named = bindListener(runtime, cfg(String(sb.first + 1), "fixed"), fetch);
  cleanups.unshift(() => void named.listener.stop(true));
  expect(named.lease).toMatchObject({ name: "fixed", band: "hermes", port: sb.first + 1 });
  const eph = bindListener(runtime, cfg("0", "eph"), fetch);
  cleanups.unshift(() => void eph.listener.stop(true));
  expect(eph.lease).toMatchObject({ name: "eph", band: "-", port: eph.listener.port });
  const plainCfg = cfg(String(sb.first));
  const plain = bindListener(runtime, plainCfg, fetch);
  cleanups.unshift(() => void plain.listener.stop(true));
  expect(plain.lease).toMatchObject({ name: plainCfg.server.id, port: sb.first });
  const zero = bindListener(runtime, cfg("0"), fetch);
  cleanups.unshift(() => void zero.listener.stop(true));
  expect(zero.lease).toBeUndefined();
  expect(listLeases(sb.lockDir).map((l) => l.name)).toEqual(["eph", plainCfg.server.id, "fixed"]);
  named.release();
  eph.release();
  plain.release();
  expect(listLeases(sb.lockDir)).toEqual([]);
  await expect(prepareLease(runtime, cfg("auto"), true)).rejects.toThrow("--replace needs --name");
});
