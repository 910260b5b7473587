import { ConfigError } from "../errors.ts";
import { bandFull, leaseHeld } from "../host-errors.ts";
import type { Listener, Runtime, SqliteConnection } from "../runtime/index.ts";
import { type LeaseRow, openLeaseDb, retryLocked, withWriteLock } from "./db.ts";
import { isAlive, linuxProc, type ProcFs, selfIdentity } from "./liveness.ts";

/** A lease as users see it (`a2a-relay ports`, `/admin/ports`). */
export interface Lease {
  name: string;
  band: string;
  port: number;
  pid: number;
  /** ISO 8601. */
  since: string;
  url: string;
  /** The holder's data dir, when it recorded one. */
  dataDir?: string;
}

export interface ClaimOptions {
  runtime: Runtime;
  lockDir: string;
  /** Instance name; undefined for an anonymous `--port auto` (leased as `<band>:<port>`). */
  name: string | undefined;
  band: string;
  /** Ports to try, first to last; `[p, p]` for a fixed port. */
  range: [number, number];
  host: string;
  /** The holder's data dir, recorded so clients (`--relay NAME`) find its token. */
  dataDir?: string | undefined;
  /** "https" when the listener serves TLS (default "http"): the lease's URL says so. */
  scheme?: "http" | "https";
  /** Bind one port exclusively; throws (EADDRINUSE or other) when it cannot. */
  bind: (port: number) => Listener;
  proc?: ProcFs;
  now?: () => number;
}

export interface Claim {
  listener: Listener;
  lease: Lease;
  /** Delete our row (only ours: same name and pid). Safe to call twice. */
  release(): void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Instance names: letters, digits, `.`, `_`, `-`; at most 64. */
export function checkLeaseName(name: string): string {
  if (!NAME.test(name))
    throw new ConfigError(
      `--name "${name}": an instance name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  return name;
}

/**
 * Claim a port for this process: inside one `BEGIN IMMEDIATE` transaction, refuse if a live
 * holder has the name, skip ports leased by live holders, bind the next port exclusively (moving
 * on at EADDRINUSE: a foreign process has it), and insert the lease only once the bind succeeded.
 * Dead holders' rows (start time or boot id no longer match) are replaced on the way.
 */
export function claimPort(opts: ClaimOptions): Claim {
  const proc = opts.proc ?? linuxProc;
  const now = opts.now ?? Date.now;
  const name = opts.name === undefined ? undefined : checkLeaseName(opts.name);
  const me = selfIdentity(proc);
  const conn = openLeaseDb(opts.runtime, opts.lockDir);
  let listener: Listener | undefined;
  try {
    const row = withWriteLock(conn, () => {
      const live = (r: LeaseRow) =>
        isAlive({ pid: r.pid, startTime: r.pid_start_time, bootId: r.boot_id }, proc);
      if (name) {
        const holder = one(conn, "SELECT * FROM leases WHERE name = ?", [name]);
        if (holder && live(holder)) throw leaseHeld(name, holder.pid, holder.port);
        if (holder) conn.query("DELETE FROM leases WHERE name = ?", [name]);
      }
      const [first, last] = opts.range;
      const leased = new Map(
        conn
          .query<LeaseRow>("SELECT * FROM leases WHERE port BETWEEN ? AND ?", [first, last])
          .map((r) => [r.port, r]),
      );
      const skipped: string[] = [];
      const foreign: number[] = [];
      for (let port = first; port <= last && !listener; port++) {
        const r = leased.get(port);
        if (r && live(r)) {
          skipped.push(`${r.name}@${port}`);
          continue;
        }
        try {
          listener = opts.bind(port);
        } catch (err) {
          if (!inUse(err)) throw new ConfigError(`cannot listen on ${opts.host}:${port}: ${message(err)}`);
          foreign.push(port);
        }
      }
      if (!listener) {
        const why = [
          skipped.length ? `leased by live relays: ${skipped.join(", ")}` : "",
          foreign.length ? `in use by other processes: ${foreign.join(", ")}` : "",
        ].filter(Boolean);
        throw bandFull(opts.band, first, last, why.join("; ") || "empty band");
      }
      const port = listener.port;
      // the actual port may differ from the range (port 0); a dead row may still name it
      const old = one(conn, "SELECT * FROM leases WHERE port = ?", [port]);
      if (old && live(old)) throw leaseHeld(old.name, old.pid, port);
      if (old) conn.query("DELETE FROM leases WHERE port = ?", [port]);
      const lease: LeaseRow = {
        name: name ?? `${opts.band}:${port}`,
        band: opts.band,
        port,
        pid: me.pid,
        pid_start_time: me.startTime,
        boot_id: me.bootId,
        url: urlFor(opts.host, port, opts.scheme),
        since: now(),
        data_dir: opts.dataDir ?? null,
      };
      if (!name) conn.query("DELETE FROM leases WHERE name = ?", [lease.name]);
      conn.query(
        "INSERT INTO leases (name, band, port, pid, pid_start_time, boot_id, url, since, data_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
          lease.name,
          lease.band,
          lease.port,
          lease.pid,
          lease.pid_start_time,
          lease.boot_id,
          lease.url,
          lease.since,
          lease.data_dir,
        ],
      );
      return lease;
    });
    const bound = listener as unknown as Listener;
    let released = false;
    return {
      listener: bound,
      lease: toLease(row),
      release() {
        if (released) return;
        released = true;
        try {
          releaseLease(opts.runtime, opts.lockDir, row.name, me.pid);
        } catch {
          // the lock dir went away: the row (if any) is a dead holder's and will be reclaimed
        }
      },
    };
  } catch (err) {
    void (listener as Listener | undefined)?.stop(true);
    throw err;
  } finally {
    conn.close();
  }
}

/** Delete the lease `name` if `pid` still holds it. */
function releaseLease(runtime: Runtime, lockDir: string, name: string, pid: number): void {
  const conn = openLeaseDb(runtime, lockDir);
  try {
    retryLocked(() => conn.query("DELETE FROM leases WHERE name = ? AND pid = ?", [name, pid]));
  } finally {
    conn.close();
  }
}

/** The URL other processes on this host use to reach a listener on `host`. */
export function urlFor(host: string, port: number, scheme: "http" | "https" = "http"): string {
  let h = host;
  if (h === "0.0.0.0" || h === "") h = "127.0.0.1";
  else if (h === "::" || h === "[::]") h = "::1";
  return `${scheme}://${h.includes(":") && !h.startsWith("[") ? `[${h}]` : h}:${port}`;
}

export function toLease(r: LeaseRow): Lease {
  return {
    name: r.name,
    band: r.band,
    port: r.port,
    pid: r.pid,
    since: new Date(r.since).toISOString(),
    url: r.url,
    ...(r.data_dir ? { dataDir: r.data_dir } : {}),
  };
}

// internal

function one(conn: SqliteConnection, sql: string, params: unknown[]): LeaseRow | undefined {
  return conn.query<LeaseRow>(sql, params)[0];
}

function inUse(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(String(e?.message ?? err));
}

function message(err: unknown): string {
  return String((err as Error)?.message ?? err);
}
