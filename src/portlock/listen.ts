import type { Config } from "../config/load.ts";
import { ConfigError, RelayError } from "../errors.ts";
import { leaseHeld } from "../host-errors.ts";
import type { Listener, Runtime, ServeOptions } from "../runtime/index.ts";
import { checkLeaseName, claimPort, type Lease } from "./claim.ts";
import { findLease } from "./list.ts";
import { stopHolder } from "./replace.ts";

/** What `startRelay` binds: the listener, and the lease when it holds one. */
export interface BoundListener {
  listener: Listener;
  lease: Lease | undefined;
  /** Drop the lease (no-op without one). Call first on stop, so discovery stops pointing here. */
  release(): void;
}

/**
 * Early, before the relay opens its data dir: with `--replace`, stop the live holder of the
 * name; without it, fail fast when one holds it. The claim at bind time checks again atomically.
 */
export async function prepareLease(runtime: Runtime, config: Config, replace: boolean): Promise<void> {
  const { server } = config;
  if (replace && !server.name) throw new ConfigError("--replace needs --name (the instance to replace)");
  if (!server.name) return;
  checkLeaseName(server.name);
  if (replace) {
    const timeoutMs = (server.shutdown_grace_s + 10) * 1000;
    await stopHolder(server.lockDir, server.name, { runtime, timeoutMs });
    return;
  }
  const holder = findLease(server.lockDir, server.name, { runtime });
  if (holder) throw leaseHeld(holder.name, holder.pid, holder.port);
}

/**
 * Bind the relay's listener. `port = "auto"` claims a port of the band; a fixed port is leased
 * too, under `--name`, else `server.id` (else `<id>-<port>` when another live relay holds that
 * name), so `a2a-relay ports` and `--relay` see every relay; only port 0 (tests) binds without a
 * lease. Always exclusive (no SO_REUSEPORT).
 */
export function bindListener(runtime: Runtime, config: Config, fetch: ServeOptions["fetch"]): BoundListener {
  const server = { ...config.server };
  if (server.port !== "auto" && server.port !== 0 && !server.name) {
    server.name = defaultLeaseName(server.lockDir, server.id, server.port, runtime);
  }
  const t = server.tlsMaterial;
  // peers identified by client certificate: the handler must learn each connection's certificate
  const peerCertificates = Object.values(config.peers).some((p) => p.tls);
  const tls = t
    ? {
        cert: t.cert,
        key: t.key,
        minVersion: t.minVersion,
        ...(t.clientCa ? { clientCa: t.clientCa } : {}),
        ...(peerCertificates ? { peerCertificates } : {}),
      }
    : undefined;
  const bind = (port: number) =>
    runtime.serve({ hostname: server.host, port, fetch, idleTimeout: 120, ...(tls ? { tls } : {}) });
  if (server.port !== "auto" && !server.name) {
    // port 0 without a name: an ephemeral listener nobody looks up
    try {
      return { listener: bind(server.port), lease: undefined, release: () => {} };
    } catch (err) {
      throw new ConfigError(
        `cannot listen on ${server.host}, port ${server.port}: ${(err as Error).message}`,
      );
    }
  }
  let band = server.band;
  let range = config.bands[band];
  if (server.port !== "auto") {
    const port = server.port;
    band = Object.entries(config.bands).find(([, [a, b]]) => port >= a && port <= b)?.[0] ?? "-";
    range = [port, port];
  }
  if (!range) throw new ConfigError(`server.band: no band named "${band}"`);
  const fixed = server.port === "auto" ? undefined : server.port;
  const claim = () =>
    claimPort({
      runtime,
      lockDir: server.lockDir,
      name: server.name,
      band,
      range,
      host: server.host,
      dataDir: server.dataDir,
      scheme: tls ? "https" : "http",
      bind,
    });
  try {
    return claim();
  } catch (err) {
    if (fixed && err instanceof RelayError && err.reason === "BAND_FULL") {
      throw new ConfigError(
        `cannot listen on ${server.host}, port ${fixed}: ${err.message.split(": ").slice(1).join(": ")}`,
      );
    }
    throw err;
  }
}

// internal

/** A fixed-port relay's lease name when none is given: its id, made a valid lease name. */
function defaultLeaseName(lockDir: string, id: string, port: number, runtime: Runtime): string | undefined {
  const base = id
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 56);
  if (!base) return undefined;
  return findLease(lockDir, base, { runtime }) ? `${base}-${port}` : base;
}
