/// <reference types="@types/bun" />
import { openBunSqlite } from "./bun-sqlite.ts";
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
        // a getter: finding the address is a system call, and most requests never ask
        get remoteAddress() {
          return srv.requestIP(req)?.address ?? "";
        },
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

/** Bun: `bun:sqlite` (the chosen stack); Deno uses `node:sqlite` behind the same seam. */
export const bunRuntime: Runtime = {
  name: "bun",
  openSqlite: openBunSqlite,
  workerSqlite: {
    importLine: 'import { Database } from "bun:sqlite";',
    open: "new Database(path)",
    exec: "db.run(sql)",
  },
  serve,
  spawn,
  started: () => Bun.unsafe.setJITPolicy(1),
};
