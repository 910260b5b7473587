import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Real `a2a-relay serve` processes (from source, through node_modules/.bin/bun) for the port-lock
 * tests. Each test gets its own temp lock dir, data dirs and a band of free high ports. Every
 * wait is bounded.
 */

export const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const MAIN = join(ROOT, "src", "main.ts");
/** `A2A_RELAY_BIN=dist/a2a-relay` runs the compiled binary instead (faster starts, e.g. in CI). */
const COMMAND = process.env.A2A_RELAY_BIN ? [resolve(ROOT, process.env.A2A_RELAY_BIN)] : [BUN, MAIN];

export interface Sandbox {
  dir: string;
  lockDir: string;
  config: string;
  first: number;
  last: number;
  cleanup(): void;
}

/** A temp dir with a config whose band `hermes` is `size` free ports (checked) in 40000-49999. */
export async function sandbox(size: number): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), "a2a-portlock-"));
  const lockDir = join(dir, "locks");
  const first = await freeBand(size);
  const last = first + size - 1;
  const config = join(dir, "config.toml");
  writeFileSync(
    config,
    `[server]\nlog_level = "warn"\nshutdown_grace_s = 2\n\n[ports.bands]\nhermes = "${first}-${last}"\n`,
  );
  return { dir, lockDir, config, first, last, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Serve {
  name: string;
  proc: ReturnType<typeof Bun.spawn>;
  dataDir: string;
  /** Resolves with the bound URL once the banner is printed, or with null when the process exits first. */
  ready: Promise<{ url: string; port: number } | null>;
  exited: Promise<number>;
  stdout(): string;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Start `serve --port auto --band hermes --name NAME` (plus `extra` args) in the sandbox. */
export function serve(sb: Sandbox, name: string, extra: string[] = [], timeoutMs = 90_000): Serve {
  const dataDir = join(sb.dir, `data-${name}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dataDir, { recursive: true });
  const args = ["serve", "--config", sb.config, "--port", "auto", "--band", "hermes", "--data-dir", dataDir];
  if (name) args.push("--name", name);
  const proc = Bun.spawn([...COMMAND, ...args, ...extra], {
    cwd: sb.dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: sb.dir, A2A_RELAY_LOCK_DIR: sb.lockDir },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  const exited = proc.exited;
  const drainOut = drain(proc.stdout as ReadableStream<Uint8Array>, (t) => {
    out += t;
  });
  const ready = new Promise<{ url: string; port: number } | null>((resolveReady) => {
    const timer = setTimeout(() => resolveReady(null), timeoutMs);
    // the banner goes to stderr
    void drain(proc.stderr as ReadableStream<Uint8Array>, (t) => {
      err += t;
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolveReady({ url: m[1]!, port: Number(m[2]) });
      }
    });
    void exited.then(async () => {
      await drainOut;
      clearTimeout(timer);
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(err);
      resolveReady(m ? { url: m[1]!, port: Number(m[2]) } : null);
    });
  });
  return {
    name,
    proc,
    dataDir,
    ready,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      try {
        proc.kill(signal);
      } catch {
        // already gone
      }
      return withTimeout(exited, 30_000, `${name} did not exit after ${signal}`);
    },
  };
}

/** The local peer's admin token of a serve process. */
export function tokenOf(s: Serve): string {
  return readFileSync(join(s.dataDir, "tokens", "local.token"), "utf8").trim();
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Kill whatever is still running (test cleanup). */
export async function killAll(list: Serve[]): Promise<void> {
  for (const s of list) {
    try {
      s.proc.kill("SIGKILL");
    } catch {
      // gone
    }
  }
  await Promise.allSettled(list.map((s) => withTimeout(s.exited, 10_000, s.name)));
}

// internal

async function drain(stream: ReadableStream<Uint8Array>, on: (text: string) => void): Promise<void> {
  const dec = new TextDecoder();
  for await (const chunk of stream) on(dec.decode(chunk, { stream: true }));
}

/** Pick `size` consecutive ports that are free right now (the test's choice, not the code's). */
async function freeBand(size: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 40_000 + Math.floor(Math.random() * (9_900 - size));
    let ok = true;
    for (let p = base; p < base + size && ok; p++) ok = await canBind(p);
    if (ok) return base;
  }
  throw new Error("no free band of ports found in 40000-49999");
}

function canBind(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once("error", () => res(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => res(true)));
  });
}
