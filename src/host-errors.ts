import { RelayError } from "./errors.ts";

/**
 * Errors of this host's own resources, met when a relay starts: port leases (portlock/), the data
 * dir and its database. They stop the command (exit 2) and are never sent on the wire; they are
 * RelayErrors, so they render like every other error.
 */

/** `serve --name N` while a live relay holds lease N. */
export const leaseHeld = (name: string, pid: number, port: number) =>
  new RelayError({
    code: -32000,
    reason: "LEASE_HELD",
    message: `lease "${name}" is held by pid ${pid} on port ${port}; stop it, or pass --replace to take over`,
    status: 409,
    exitCode: 2,
    data: { lease: name, pid, port },
  });
/** `serve` on a data dir another live relay holds (store/data-dir.ts). */
export const dataDirLocked = (dir: string, holder: { pid: number; url?: string | undefined }) =>
  new RelayError({
    code: -32000,
    reason: "DATA_DIR_LOCKED",
    message: `data dir ${dir} is in use by another relay (pid ${holder.pid}${holder.url ? `, ${holder.url}` : ""}); stop it first, or give this one another --data-dir`,
    status: 409,
    exitCode: 2,
    data: { dataDir: dir, pid: holder.pid, url: holder.url },
  });
/** The data dir or a file in it cannot be created or written (permissions, read-only, not a dir). */
export const dataDirUnwritable = (path: string, err: unknown) => {
  const e = err as { code?: string; message?: string };
  const why = e?.code ?? String(e?.message ?? err).split("\n")[0];
  return new RelayError({
    code: -32000,
    reason: "DATA_DIR_UNWRITABLE",
    message: `cannot write ${path} (${why}): make it writable by this user, or choose another data dir (--data-dir or A2A_RELAY_HOME)`,
    status: 500,
    exitCode: 2,
    data: { path },
  });
};
/** relay.db is there but SQLite cannot read it (not a database, or damaged): start refuses. */
export const storeUnreadable = (path: string, err: unknown) => {
  const why = String((err as Error)?.message ?? err).split("\n")[0];
  return new RelayError({
    code: -32000,
    reason: "STORE_UNREADABLE",
    message: `${path} is not a readable relay database (${why}): restore it from a backup, or move it (with its -wal and -shm files) aside to start with an empty store; the tasks and budget use it holds stay in the moved file`,
    status: 500,
    exitCode: 2,
    data: { path },
  });
};
/** No port of the band could be claimed (`detail` says why each was skipped). */
export const bandFull = (band: string, first: number, last: number, detail: string) =>
  new RelayError({
    code: -32000,
    reason: "BAND_FULL",
    message: `no free port in band ${band} (${first}-${last}): ${detail}`,
    status: 503,
    exitCode: 2,
    data: { band, first, last },
  });
/** `--replace`: the holder did not exit within the bound. */
export const replaceTimedOut = (name: string, pid: number, seconds: number) =>
  new RelayError({
    code: -32000,
    reason: "LEASE_HELD",
    message: `lease "${name}": holder pid ${pid} did not exit within ${seconds} s of SIGTERM; it still holds the lease`,
    status: 409,
    exitCode: 2,
    data: { lease: name, pid },
  });
