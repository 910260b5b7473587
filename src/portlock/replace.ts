import { ConfigError } from "../errors.ts";
import { replaceTimedOut } from "../host-errors.ts";
import { currentRuntime, type Runtime } from "../runtime/index.ts";
import type { Lease } from "./claim.ts";
import { type LeaseRow, openLeaseDbIfExists } from "./db.ts";
import { findLease } from "./list.ts";
import { isAlive, linuxProc, type ProcFs } from "./liveness.ts";

export interface ReplaceOptions {
  runtime?: Runtime;
  proc?: ProcFs;
  /** How long the holder gets to exit after SIGTERM. */
  timeoutMs: number;
  kill?: (pid: number, signal: "SIGTERM") => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * `serve --replace`: if a live relay holds lease `name`, send it SIGTERM (its graceful stop
 * releases the lease) and wait until that very process (same pid and start time) is gone.
 * Returns the lease that was replaced, if any. The claim that follows still runs the normal
 * checks, so two replacers racing end with one holder and one "lease held" error.
 */
export async function stopHolder(
  lockDir: string,
  name: string,
  opts: ReplaceOptions,
): Promise<Lease | undefined> {
  const proc = opts.proc ?? linuxProc;
  const runtime = opts.runtime ?? currentRuntime();
  const lease = findLease(lockDir, name, { runtime, proc });
  if (!lease) return undefined;
  const holder = holderIdentity(runtime, lockDir, name);
  if (!holder || holder.pid !== lease.pid) return undefined;
  const kill = opts.kill ?? ((pid, sig) => process.kill(pid, sig));
  const sleep = opts.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  try {
    kill(holder.pid, "SIGTERM");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ESRCH")
      throw new ConfigError(
        `--replace: cannot signal pid ${holder.pid} holding lease "${name}" (${code ?? err})`,
      );
  }
  const deadline = now() + opts.timeoutMs;
  while (isAlive(holder, proc)) {
    if (now() >= deadline) throw replaceTimedOut(name, holder.pid, Math.round(opts.timeoutMs / 1000));
    await sleep(50);
  }
  return lease;
}

// internal

function holderIdentity(runtime: Runtime, lockDir: string, name: string) {
  const conn = openLeaseDbIfExists(runtime, lockDir);
  if (!conn) return undefined;
  try {
    const r = conn.query<LeaseRow>("SELECT * FROM leases WHERE name = ?", [name])[0];
    return r ? { pid: r.pid, startTime: r.pid_start_time, bootId: r.boot_id } : undefined;
  } finally {
    conn.close();
  }
}
