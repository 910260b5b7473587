import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { RelayError } from "../../src/errors.ts";
import { createLogger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { startRelay } from "../../src/server.ts";
import { LOCK_FILE } from "../../src/store/data-dir.ts";
import { BINARY, cleanEnv, delay, ensureBinary, startBinary, stopAll, tempDir } from "../helpers/binary.ts";
import { startTestRelay, userMessage } from "../helpers/relay.ts";

/**
 * Issue 15 (4, 6, 7): one relay per data dir; an unwritable data dir or read-only database exits
 * 2 with one line; the database, its WAL and the transcripts are 0600 and the data dir 0700.
 */

afterAll(stopAll);

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

/** Run the binary to its exit (bounded), as `serve`. */
async function runToExit(args: string[], env: Record<string, string>, prefix: string[] = []) {
  await ensureBinary();
  const proc = Bun.spawn([...prefix, BINARY, "serve", "--port", "0", ...args], {
    env: { ...cleanEnv(), ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const code = await Promise.race([proc.exited, delay(15_000).then(() => "timeout" as const)]);
  if (code === "timeout") proc.kill("SIGKILL");
  return {
    code,
    out: await new Response(proc.stdout as ReadableStream).text(),
    err: await new Response(proc.stderr as ReadableStream).text(),
  };
}

describe("one relay per data dir (in process)", () => {
  test("a second relay on the same data dir is refused naming the holder; after the first stops, it starts", async () => {
    const a = await startTestRelay();
    try {
      const config = loadConfig({
        env: { A2A_RELAY_HOME: join(a.dir, "data"), A2A_RELAY_LOCK_DIR: join(a.dir, "locks") },
        port: "0",
        prepare: true,
      });
      const err = await startRelay(config, currentRuntime(), createLogger("silent")).catch((e) => e);
      expect(err).toBeInstanceOf(RelayError);
      expect(err.reason).toBe("DATA_DIR_LOCKED");
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain(`pid ${process.pid}`);
      expect(err.message).toContain(a.url);
      // the first relay was not disturbed
      expect(
        (await a.rpc("SendMessage", { message: userMessage("still mine") })).body.result.task,
      ).toBeDefined();
      await a.halt();
      expect(existsSync(join(a.dir, "data", LOCK_FILE))).toBe(false);
      const b = await startRelay(config, currentRuntime(), createLogger("silent"));
      await b.stop();
    } finally {
      rmSync(a.dir, { recursive: true, force: true });
    }
  });

  test("a stale lock (dead pid, or a reused pid with another start time) is taken over", async () => {
    const dir = tempDir("a2a-relay-stale-");
    const data = join(dir, "data");
    mkdirSync(data, { recursive: true, mode: 0o700 });
    const dead = Bun.spawnSync(["true"]).pid;
    for (const holder of [
      { pid: dead, startTime: null, bootId: null },
      { pid: process.pid, startTime: 1, bootId: null },
    ]) {
      writeFileSync(join(data, LOCK_FILE), JSON.stringify(holder), { mode: 0o600 });
      const r = await startTestRelay({ dir });
      const lock = JSON.parse(readFileSync(join(data, LOCK_FILE), "utf8"));
      expect(lock.pid).toBe(process.pid);
      expect(lock.url).toBe(r.url);
      await r.halt();
    }
  });
});

describe("file modes", () => {
  test("relay.db, -wal, -shm, the lock, tokens and transcripts are 0600; the data dir the relay creates is 0700", async () => {
    const r = await startTestRelay();
    try {
      const data = join(r.dir, "data");
      expect(
        (await r.rpc("SendMessage", { message: userMessage("write something") })).body.result,
      ).toBeDefined();
      expect(mode(data)).toBe("700");
      for (const f of ["relay.db", "relay.db-wal", "relay.db-shm", LOCK_FILE, "tokens/local.token"]) {
        expect([f, mode(join(data, f))]).toEqual([f, "600"]);
      }
      expect(mode(join(data, "transcripts", "echo", "local.jsonl"))).toBe("600");
    } finally {
      await r.stop();
    }
  });

  test("an existing 0644 relay.db and -wal become 0600; a wider existing data dir is warned about, not changed", async () => {
    const dir = tempDir("a2a-relay-modes-");
    const data = join(dir, "data");
    const first = await startTestRelay({ dir });
    await first.rpc("SendMessage", { message: userMessage("leave a WAL behind") });
    await first.halt();
    chmodSync(data, 0o755);
    for (const f of ["relay.db", "relay.db-wal", "relay.db-shm"]) chmodSync(join(data, f), 0o644);
    const logFile = join(dir, "relay.log");
    const logger = createLogger("debug", logFile);
    const config = loadConfig({ env: { A2A_RELAY_HOME: data }, port: "0", prepare: true });
    const relay = await startRelay(config, currentRuntime(), logger);
    try {
      expect(mode(join(data, "relay.db"))).toBe("600");
      expect(mode(join(data, "relay.db-wal"))).toBe("600");
      expect(mode(join(data, "relay.db-shm"))).toBe("600");
      expect(mode(data)).toBe("755");
      logger.flush();
      const warning = readFileSync(logFile, "utf8")
        .split("\n")
        .find((l) => l.includes("chmod 700"));
      expect(warning).toContain(data);
      expect(warning).toContain("0755");
    } finally {
      await relay.stop();
    }
  });
});

describe("the compiled binary", () => {
  test("a second serve on the same data dir exits 2 with one line naming the holder's pid and URL", async () => {
    const a = await startBinary();
    const second = await runToExit([], { A2A_RELAY_HOME: a.dataDir });
    expect(second.code).toBe(2);
    const lines = second.err.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`pid ${a.proc.pid}`);
    expect(lines[0]).toContain(a.url);
    expect(lines[0]).toContain(a.dataDir);
    // the first one still answers, and after SIGTERM its lock is gone
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect(await a.stop()).toBe(0);
    expect(existsSync(join(a.dataDir, LOCK_FILE))).toBe(false);
  }, 60_000);

  test("after kill -9 the next relay takes the stale lock over", async () => {
    const a = await startBinary();
    await a.stop("SIGKILL");
    expect(existsSync(join(a.dataDir, LOCK_FILE))).toBe(true);
    const b = await startBinary({ dataDir: a.dataDir });
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
    expect(await b.stop()).toBe(0);
  }, 60_000);

  test("a data dir that cannot be created exits 2 with one line naming the path (not a stack)", async () => {
    const dir = tempDir("a2a-relay-nodir-");
    writeFileSync(join(dir, "file"), "not a directory");
    const data = join(dir, "file", "data");
    const r = await runToExit([], { A2A_RELAY_HOME: data });
    expect(r.code).toBe(2);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(data);
    expect(lines[0]).toContain("DATA_DIR_UNWRITABLE");
    expect(r.err).not.toContain("unexpected error");
  }, 60_000);

  test("a relay.db that is not a database exits 2 with one line naming it and what to do", async () => {
    const data = tempDir("a2a-relay-notdb-");
    const db = join(data, "relay.db");
    writeFileSync(db, Buffer.alloc(8192, 0x5a), { mode: 0o600 });
    const r = await runToExit([], { A2A_RELAY_HOME: data });
    expect(r.code).toBe(2);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("STORE_UNREADABLE");
    expect(lines[0]).toContain(db);
    expect(lines[0]).toContain("move it");
    expect(r.err).not.toContain("unexpected error");
    // nothing was written over it
    expect(readFileSync(db).equals(Buffer.alloc(8192, 0x5a))).toBe(true);
  }, 60_000);

  const asNobody = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;
  if (!asNobody) console.log("skipping the non-root data dir cases: they need root and setpriv");
  const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

  test.skipIf(!asNobody)(
    "another user's data dir, and a read-only relay.db: exit 2 naming the path",
    async () => {
      const dir = tempDir("a2a-relay-ro-");
      chmodSync(dir, 0o711);
      // a data dir this user cannot write
      const rootOwned = join(dir, "root-owned");
      mkdirSync(rootOwned, { mode: 0o700 });
      const denied = await runToExit([], { A2A_RELAY_HOME: rootOwned, HOME: dir }, nobody);
      expect(denied.code).toBe(2);
      expect(denied.err.trim().split("\n")).toHaveLength(1);
      expect(denied.err).toContain(rootOwned);
      expect(denied.err).toContain("EACCES");
      // its own data dir, then relay.db made read-only
      const own = join(dir, "own");
      mkdirSync(own, { mode: 0o700 });
      spawnSync("chown", ["65534:65534", own]);
      const first = await runToExit([], { A2A_RELAY_HOME: own, HOME: dir }, [
        ...nobody,
        "timeout",
        "-s",
        "TERM",
        "3",
      ]);
      expect(first.err).toContain("listening on");
      chmodSync(join(own, "relay.db"), 0o400);
      const ro = await runToExit([], { A2A_RELAY_HOME: own, HOME: dir }, nobody);
      expect(ro.code).toBe(2);
      const lines = ro.err.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(join(own, "relay.db"));
      expect(lines[0]).toContain("--data-dir");
    },
    60_000,
  );
});
