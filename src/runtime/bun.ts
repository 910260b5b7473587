/// <reference types="@types/bun" />
import { constants } from "node:crypto";
import { rootCertificates } from "node:tls";
import { openBunSqlite } from "./bun-sqlite.ts";
import type { ChildProcess, Listener, Runtime, ServeOptions, SpawnOptions } from "./types.ts";

/** node:tls, node:http and @hono/node-server: ~50 ms to load, so only when a config needs them. */
let peerCerts: typeof import("./bun-peer-certs.ts") | undefined;

function serve(opts: ServeOptions): Listener {
  const t = opts.tls;
  // Bun.serve cannot tell a handler which client certificate a connection presented
  if (t?.peerCertificates) {
    if (!peerCerts) throw new Error("runtime.prepare({ peerCertificates: true }) was not awaited");
    return peerCerts.servePeerCertificates({ ...opts, tls: t });
  }
  const server = Bun.serve({
    hostname: opts.hostname,
    port: opts.port,
    ...(t
      ? {
          tls: {
            cert: t.cert,
            key: t.key,
            secureOptions: noOlderThan(t.minVersion),
            ...(t.clientCa ? { ca: t.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          },
        }
      : {}),
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

/** OpenSSL options that refuse protocol versions older than `min`. */
function noOlderThan(min: "1.2" | "1.3"): number {
  const c = constants as unknown as Record<string, number>;
  const old =
    (c.SSL_OP_NO_SSLv2 ?? 0) |
    (c.SSL_OP_NO_SSLv3 ?? 0) |
    (c.SSL_OP_NO_TLSv1 ?? 0) |
    (c.SSL_OP_NO_TLSv1_1 ?? 0);
  return min === "1.3" ? old | (c.SSL_OP_NO_TLSv1_2 ?? 0) : old;
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
  prepare: async (o) => {
    if (o.peerCertificates) peerCerts ??= await import("./bun-peer-certs.ts");
  },
  spawn,
  tlsInit: (t) => ({
    tls: {
      // Bun replaces its roots with `ca`: keep the system's beside the extra ones
      ...(t.ca ? { ca: [...rootCertificates, ...t.ca] } : {}),
      ...(t.cert && t.key ? { cert: t.cert, key: t.key } : {}),
    },
  }),
  started: () => Bun.unsafe.setJITPolicy(1),
};
