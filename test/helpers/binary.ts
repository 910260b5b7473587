import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * End-to-end harness: builds `dist/a2a-relay` once per test run (when missing or older than the
 * sources; concurrent test processes share one build through a lock file) and starts it as a real
 * process on port 0 with a temp data dir. Every wait is bounded.
 */

export const ROOT = resolve(import.meta.dir, "../..");
/** The relay under test: the compiled binary, or `A2A_RELAY_BIN` (e.g. the Deno launcher). */
export const BINARY = process.env.A2A_RELAY_BIN
  ? resolve(process.env.A2A_RELAY_BIN)
  : join(ROOT, "dist", "a2a-relay");

export interface StartOptions {
  /** TOML written to a temp file and passed with `--config`. */
  toml?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Reuse a data dir (restart tests); default: a fresh temp dir. */
  dataDir?: string;
  /** Milliseconds to wait for the banner. */
  startTimeoutMs?: number;
}

export interface RelayProcess {
  url: string;
  port: number;
  /** The local peer's bearer token (read from `<data>/tokens/local.token`). */
  token: string;
  proc: ReturnType<typeof Bun.spawn>;
  dataDir: string;
  /** Everything the process wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Send `signal` (default SIGTERM) and wait (bounded) for the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Build the binary if needed. Memoised: one build per test run, shared by every file. */
export function ensureBinary(): Promise<void> {
  if (process.env.A2A_RELAY_BIN) return Promise.resolve();
  built ??= Promise.resolve().then(buildIfStale);
  return built;
}

export async function startBinary(opts: StartOptions = {}): Promise<RelayProcess> {
  await ensureBinary();
  const dir = tempDir("a2a-relay-e2e-");
  const dataDir = opts.dataDir ?? join(dir, "data");
  const args = ["serve", "--port", "0"];
  if (opts.toml !== undefined) {
    writeFileSync(join(dir, "config.toml"), opts.toml);
    args.push("--config", join(dir, "config.toml"));
  }
  args.push(...(opts.args ?? []));
  return spawnRelay([BINARY, ...args], {
    cwd: dir,
    dataDir,
    env: { ...cleanEnv(), A2A_RELAY_HOME: dataDir, A2A_RELAY_LOCK_DIR: join(dir, "locks"), ...opts.env },
    startTimeoutMs: opts.startTimeoutMs ?? 10_000,
    what: "a2a-relay",
  });
}

/**
 * Run a relay command (`cmd`: the binary or a launcher, then `serve …`) and wait, bounded, for its
 * banner. Shared by this harness and the Deno one (test/deno/relay.ts).
 */
export async function spawnRelay(
  cmd: string[],
  o: { cwd: string; dataDir: string; env: Record<string, string>; startTimeoutMs: number; what: string },
): Promise<RelayProcess> {
  const proc = Bun.spawn(cmd, { cwd: o.cwd, env: o.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.add(proc);
  const out = drain(proc.stdout as ReadableStream<Uint8Array>);
  const err = drain(proc.stderr as ReadableStream<Uint8Array>);
  const banner = await Promise.race([
    err.match(/listening on (https?:\/\/127\.0\.0\.1:(\d+))/),
    proc.exited.then((code) => {
      throw new Error(`${o.what} exited with ${code} before listening:\n${out.text()}\n${err.text()}`);
    }),
    delay(o.startTimeoutMs).then(() => {
      throw new Error(`${o.what} printed no banner within the timeout:\n${out.text()}\n${err.text()}`);
    }),
  ]).catch((e) => {
    proc.kill("SIGKILL");
    throw e;
  });
  return {
    url: banner[1]!,
    port: Number(banner[2]),
    token: readFileSync(join(o.dataDir, "tokens", "local.token"), "utf8").trim(),
    proc,
    dataDir: o.dataDir,
    stdout: out.text,
    stderr: err.text,
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await Promise.race([proc.exited, delay(timeoutMs).then(() => "timeout" as const)]);
      if (code === "timeout") {
        proc.kill("SIGKILL");
        await proc.exited;
        throw new Error(`${o.what} did not exit within ${timeoutMs} ms of ${signal}`);
      }
      procs.delete(proc);
      return code;
    },
  };
}

/** A temp dir removed by `stopAll`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Kill every relay this process started and remove their temp dirs. Call in `afterAll`. */
export async function stopAll(): Promise<void> {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all([...procs].map((p) => Promise.race([p.exited, delay(5_000)])));
  procs.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { until as waitFor } from "./until.ts";

// internal

let built: Promise<void> | undefined;
const procs = new Set<ReturnType<typeof Bun.spawn>>();
const dirs = new Set<string>();
process.on("exit", () => {
  for (const p of procs) p.kill("SIGKILL");
});

const LOCK = join(ROOT, "dist", ".build.lock");
const SOURCES = ["src", "drizzle", "package.json", "compile.sh"];

function newestSource(): number {
  let newest = 0;
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const s of SOURCES) if (existsSync(join(ROOT, s))) walk(join(ROOT, s));
  return newest;
}

function isFresh(): boolean {
  return existsSync(BINARY) && statSync(BINARY).mtimeMs >= newestSource();
}

async function buildIfStale(): Promise<void> {
  if (isFresh()) return;
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  await withLock(() => {
    if (isFresh()) return; // another process built it while we waited
    const r = spawnSync(join(ROOT, "compile.sh"), [], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`./compile.sh failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  });
}

/** An O_EXCL lock file; a holder that died or is older than 3 minutes is taken over. */
async function withLock(fn: () => void): Promise<void> {
  const until = Date.now() + 150_000;
  for (;;) {
    try {
      const fd = openSync(LOCK, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (lockIsStale()) {
        rmSync(LOCK, { force: true });
        continue;
      }
      if (Date.now() > until) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      await delay(100);
    }
  }
  try {
    fn();
  } finally {
    try {
      unlinkSync(LOCK);
    } catch {
      // already gone
    }
  }
}

function lockIsStale(): boolean {
  try {
    const pid = Number(readFileSync(LOCK, "utf8"));
    if (Date.now() - statSync(LOCK).mtimeMs > 180_000) return true;
    if (!pid) return false; // being written
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The inherited environment without any A2A_* variable, so the developer's settings don't leak in. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("A2A_")) env[k] = v;
  return env;
}

/** Read a stream to the end in the background, keeping the text and letting callers await a match. */
function drain(stream: ReadableStream<Uint8Array>) {
  let buf = "";
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const dec = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of stream) {
        buf += dec.decode(chunk, { stream: true });
        for (const w of [...waiters]) {
          const m = buf.match(w.re);
          if (m) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    } catch {
      // process killed
    }
  })();
  return {
    text: () => buf,
    match(re: RegExp): Promise<RegExpMatchArray> {
      const m = buf.match(re);
      if (m) return Promise.resolve(m);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}
