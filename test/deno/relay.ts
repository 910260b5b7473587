import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { RelayProcess } from "../helpers/binary.ts";

/**
 * Start the relay from source on Deno through test/deno/a2a-relay-deno.sh, which runs
 * `deno run <flags> src/main.ts serve …` with the least-privilege flags of
 * src/runtime/deno-permissions.ts (so the tests prove that set suffices), with a temp data dir and
 * lock dir. The result has the shape of the compiled-binary harness's RelayProcess, so
 * test/e2e/_client.ts works with it. Deno is the pinned one from test/deno/install.sh (or $DENO).
 */

export const ROOT = resolve(import.meta.dir, "../..");
export const DENO = process.env.DENO ?? join(ROOT, ".cache", "deno", "deno");
export const LAUNCHER = join(ROOT, "test", "deno", "a2a-relay-deno.sh");

export interface DenoStartOptions {
  toml?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Reuse a data dir (restart tests); default: a fresh temp dir. */
  dataDir?: string;
  startTimeoutMs?: number;
}

export type DenoRelay = RelayProcess & { flags: string[] };

/** The flags the launcher passes to `deno run` for this environment and these serve arguments. */
export function serveFlags(env: Record<string, string>, args: string[] = []): string[] {
  const script = "src/runtime/deno-permissions.ts";
  const r = spawnSync(
    DENO,
    ["run", "--quiet", "--allow-env", "--allow-sys", "--allow-read", script, ...args],
    {
      cwd: ROOT,
      env,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`deno-permissions.ts failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split(/\s+/);
}

export async function startDenoRelay(opts: DenoStartOptions = {}): Promise<DenoRelay> {
  if (!existsSync(DENO))
    throw new Error(`${DENO} not found: run test/deno/install.sh (npm run test:deno does)`);
  const dir = mkdtempSync(join(tmpdir(), "a2a-relay-deno-"));
  dirs.add(dir);
  const dataDir = opts.dataDir ?? join(dir, "data");
  const env: Record<string, string> = {
    ...cleanEnv(),
    NO_COLOR: "1",
    DENO,
    A2A_RELAY_HOME: dataDir,
    A2A_RELAY_LOCK_DIR: join(dir, "locks"),
    ...opts.env,
  };
  if (opts.toml !== undefined) {
    writeFileSync(join(dir, "config.toml"), opts.toml);
    env.A2A_RELAY_CONFIG = join(dir, "config.toml");
  }
  const args = ["serve", "--port", "0", ...(opts.args ?? [])];
  const flags = serveFlags(env, args);
  const proc = Bun.spawn([LAUNCHER, ...args], {
    cwd: dir,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.add(proc);
  const out = drain(proc.stdout);
  const err = drain(proc.stderr);
  const banner = await Promise.race([
    out.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/),
    proc.exited.then((code) => {
      throw new Error(`deno relay exited with ${code} before listening:\n${out.text()}\n${err.text()}`);
    }),
    delay(opts.startTimeoutMs ?? 60_000).then(() => {
      throw new Error(`deno relay printed no banner within the timeout:\n${out.text()}\n${err.text()}`);
    }),
  ]).catch((e) => {
    proc.kill("SIGKILL");
    throw e;
  });
  return {
    url: banner[1]!,
    port: Number(banner[2]),
    token: readFileSync(join(dataDir, "tokens", "local.token"), "utf8").trim(),
    proc,
    dataDir,
    flags,
    stdout: out.text,
    stderr: err.text,
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await Promise.race([proc.exited, delay(timeoutMs).then(() => "timeout" as const)]);
      if (code === "timeout") {
        proc.kill("SIGKILL");
        await proc.exited;
        throw new Error(`deno relay did not exit within ${timeoutMs} ms of ${signal}`);
      }
      procs.delete(proc);
      return code;
    },
  };
}

/** Kill every relay started here and remove the temp dirs. Call in `afterAll`. */
export async function stopAllDeno(): Promise<void> {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all([...procs].map((p) => Promise.race([p.exited, delay(5_000)])));
  procs.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until truthy; throws after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 5_000,
  what = "condition",
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(Math.min(25 * (i + 1), 200));
  }
}

// internal

const procs = new Set<ReturnType<typeof Bun.spawn>>();
const dirs = new Set<string>();
process.on("exit", () => {
  for (const p of procs) p.kill("SIGKILL");
});

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("A2A_")) env[k] = v;
  return env;
}

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
      return m ? Promise.resolve(m) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}
