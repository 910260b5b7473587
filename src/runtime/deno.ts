import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { ConfigError } from "../errors.ts";
import { openNodeSqlite } from "./node-sqlite.ts";
import type { ChildProcess, Listener, Runtime, ServeOptions, SpawnOptions } from "./types.ts";

/**
 * The Deno side of the seam. SQLite is the same `node:sqlite` module Bun uses; HTTP is
 * `Deno.serve` (binds exclusively: no SO_REUSEPORT unless asked, like `Bun.serve`); processes are
 * `Deno.Command` with `detached: true`, which makes the child a session and process-group leader
 * (setsid), so `killGroup` reaches its grandchildren too (test/deno/runtime.denotest.ts).
 *
 * `Deno.serve` has no timeout on a request in flight (only idle keep-alive connections between
 * requests are closed), so `keepOpen` has nothing to do here.
 *
 * The Deno API is reached through `globalThis` with the small shape below, so this file type-checks
 * under tsc with Bun's types as well as under `deno check`.
 */

function serve(opts: ServeOptions): Listener {
  // Deno.serve takes a certificate and key but cannot ask for client certificates: refuse rather
  // than serve without the check the config asks for
  if (opts.tls?.clientCa) {
    throw new ConfigError(
      "server.tls.client_ca_file: mutual TLS needs the Bun runtime (the compiled binary); Deno.serve cannot request client certificates",
    );
  }
  const abort = new AbortController();
  const server = deno().serve(
    {
      hostname: opts.hostname,
      port: opts.port,
      reusePort: false,
      signal: abort.signal,
      onListen: () => {}, // the relay prints its own banner
      ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
    },
    (req, info) => opts.fetch(req, { remoteAddress: info.remoteAddr.hostname, keepOpen: () => {} }),
  );
  return {
    port: server.addr.port,
    hostname: server.addr.hostname,
    async stop(force = false) {
      if (force) abort.abort();
      else await server.shutdown();
    },
  };
}

function spawn(opts: SpawnOptions): ChildProcess {
  const child = new (deno().Command)(opts.cmd[0]!, {
    args: opts.cmd.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    exited: child.status.then((s) => (s.signal ? 128 + signalNumber(s.signal) : s.code)),
    killGroup(signal) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** `/proc` needs `--allow-all` in Deno; `cat` needs only the run permission the relay has anyway. */
function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    // not allowed (or absent): try cat
  }
  try {
    const out = new (deno().Command)("cat", { args: [path], stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

export const denoRuntime: Runtime = {
  name: "deno",
  openSqlite: openNodeSqlite,
  workerSqlite: {
    importLine: 'import { DatabaseSync } from "node:sqlite";',
    open: "new DatabaseSync(path)",
    exec: "db.exec(sql)",
  },
  serve,
  spawn,
  readProcFile,
  // Deno's fetch takes an HttpClient; its caCerts are trusted besides the system roots
  tlsInit: (t) => ({
    client: deno().createHttpClient({
      ...(t.ca ? { caCerts: t.ca } : {}),
      ...(t.cert && t.key ? { cert: t.cert, key: t.key } : {}),
    }),
  }),
};

// internal

interface DenoServer {
  addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
}

interface DenoChild {
  pid: number;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ code: number; signal: string | null }>;
  kill(signal: string): void;
}

/** The part of the `Deno` namespace this module uses. */
interface DenoApi {
  serve(
    opts: {
      hostname: string;
      port: number;
      reusePort: boolean;
      signal: AbortSignal;
      onListen: () => void;
      cert?: string;
      key?: string;
    },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoServer;
  createHttpClient(opts: { caCerts?: string[]; cert?: string; key?: string }): unknown;
  Command: new (
    cmd: string,
    opts: {
      args: string[];
      cwd?: string;
      env?: Record<string, string>;
      clearEnv?: boolean;
      stdin?: "null";
      stdout: "piped";
      stderr: "piped" | "null";
      detached?: boolean;
    },
  ) => { spawn(): DenoChild; outputSync(): { success: boolean; stdout: Uint8Array } };
}

function deno(): DenoApi {
  const d = (globalThis as { Deno?: DenoApi }).Deno;
  if (!d) throw new Error("the Deno runtime was selected outside Deno");
  return d;
}

function signalNumber(name: string): number {
  return (constants.signals as Record<string, number>)[name] ?? 0;
}
