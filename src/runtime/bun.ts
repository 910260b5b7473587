/// <reference types="@types/bun" />
import { openNodeSqlite } from "../store/node-sqlite.ts";
import type { ChildProcess, Listener, Runtime, ServeOptions, SpawnOptions } from "./types.ts";

function serve(opts: ServeOptions): Listener {
  const server = Bun.serve({
    hostname: opts.hostname,
    port: opts.port,
    // Exclusive bind: never share a port with another process (see portlock/).
    reusePort: false,
    idleTimeout: opts.idleTimeout ?? 120,
    fetch: (req, srv) =>
      opts.fetch(req, {
        remoteAddress: srv.requestIP(req)?.address ?? "",
        keepOpen: () => srv.timeout(req, 0),
      }),
  });
  return {
    port: server.port ?? opts.port,
    hostname: server.hostname ?? opts.hostname,
    stop: async (force = false) => {
      await server.stop(force);
    },
  };
}

function spawn(opts: SpawnOptions): ChildProcess {
  const proc = Bun.spawn({
    cmd: opts.cmd,
    cwd: opts.cwd,
    env: opts.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  return {
    pid: proc.pid,
    stdout: proc.stdout,
    stderr: proc.stderr,
    exited: proc.exited,
    killGroup(signal) {
      try {
        process.kill(-proc.pid, signal);
      } catch {
        try {
          proc.kill(signal);
        } catch {
          // already gone
        }
      }
    },
  };
}

/**
 * SQLite is `node:sqlite` on Bun too (src/store/node-sqlite.ts): measured against `bun:sqlite`
 * through drizzle (20k-row loops, CPU time) it was within noise (plain insert ~60–100 µs, prepared
 * ~7–12 µs, select ~90–145 µs for both), one storage module serves Bun and Deno, and this module
 * no longer imports `bun:sqlite`, so the runtime index can load it on Deno.
 */
export const bunRuntime: Runtime = { name: "bun", openSqlite: openNodeSqlite, serve, spawn };
