import { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import type {
  ChildProcess,
  Listener,
  Runtime,
  ServeOptions,
  SpawnOptions,
  SqliteConnection,
} from "./types.ts";

function openSqlite(path: string) {
  const db = new Database(path, { create: true, strict: true });
  const conn: SqliteConnection = {
    exec: (sql) => db.run(sql),
    query: <T>(sql: string, params: unknown[] = []) => db.query(sql).all(...(params as never[])) as T[],
    close: () => db.close(),
  };
  return { conn, drizzle: drizzle(db) };
}

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

export const bunRuntime: Runtime = { name: "bun", openSqlite, serve, spawn };
