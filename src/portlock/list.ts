import { leaseUnavailable } from "../errors.ts";
import { currentRuntime, type Runtime } from "../runtime/index.ts";
import { type Lease, toLease } from "./claim.ts";
import { type LeaseRow, openLeaseDbIfExists } from "./db.ts";
import { isAlive, linuxProc, type ProcFs } from "./liveness.ts";

export interface ReadOptions {
  runtime?: Runtime;
  proc?: ProcFs;
}

/** Live leases in `lockDir` (rows of dead holders are left out, not deleted), by band then port. */
export function listLeases(lockDir: string, opts: ReadOptions & { band?: string } = {}): Lease[] {
  return liveRows(lockDir, opts)
    .filter((r) => opts.band === undefined || r.band === opts.band)
    .map(toLease);
}

/** The live lease named `name`, if any. */
export function findLease(lockDir: string, name: string, opts: ReadOptions = {}): Lease | undefined {
  const row = liveRows(lockDir, opts, name)[0];
  return row ? toLease(row) : undefined;
}

/**
 * Discovery for the routing code: the base URL (`http://127.0.0.1:9341`, no trailing slash) of the
 * live relay holding lease `name`. Read at dispatch time, so it follows the instance across
 * restarts and port changes. Throws -32045 UPSTREAM_UNAVAILABLE naming the lease when none does.
 */
export function resolveLease(lockDir: string, name: string, opts: ReadOptions = {}): string {
  const lease = findLease(lockDir, name, opts);
  if (!lease) throw leaseUnavailable(name, `lock dir ${lockDir}`);
  return lease.url;
}

// internal

function liveRows(lockDir: string, opts: ReadOptions, name?: string): LeaseRow[] {
  const proc = opts.proc ?? linuxProc;
  const conn = openLeaseDbIfExists(opts.runtime ?? currentRuntime(), lockDir);
  if (!conn) return [];
  try {
    const rows =
      name === undefined
        ? conn.query<LeaseRow>("SELECT * FROM leases ORDER BY band, port")
        : conn.query<LeaseRow>("SELECT * FROM leases WHERE name = ?", [name]);
    return rows.filter((r) => isAlive({ pid: r.pid, startTime: r.pid_start_time, bootId: r.boot_id }, proc));
  } finally {
    conn.close();
  }
}
