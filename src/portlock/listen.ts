import type { Config } from "../config/load.ts";
import { ConfigError, leaseHeld } from "../errors.ts";
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
 * Bind the relay's listener. `port = "auto"` claims a port of the band; a named instance leases
 * its fixed port; an unnamed fixed port just binds (no lease). Always exclusive (no SO_REUSEPORT).
 */
export function bindListener(runtime: Runtime, config: Config, fetch: ServeOptions["fetch"]): BoundListener {
  const { server } = config;
  const t = server.tlsMaterial;
  const tls = t
    ? { cert: t.cert, key: t.key, minVersion: t.minVersion, ...(t.clientCa ? { clientCa: t.clientCa } : {}) }
    : undefined;
  const bind = (port: number) =>
    runtime.serve({ hostname: server.host, port, fetch, idleTimeout: 120, ...(tls ? { tls } : {}) });
  if (server.port !== "auto" && !server.name) {
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
  const claim = claimPort({
    runtime,
    lockDir: server.lockDir,
    name: server.name,
    band,
    range,
    host: server.host,
    scheme: tls ? "https" : "http",
    bind,
  });
  return claim;
}
