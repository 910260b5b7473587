import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { dataDirLocked, dataDirUnwritable } from "../host-errors.ts";
import { isAlive, linuxProc, type ProcessIdentity, type ProcFs, selfIdentity } from "../portlock/index.ts";

/**
 * One relay per data dir, and private files in it.
 *
 * The lock is `<data dir>/relay.lock`, created atomically (`wx`) and holding the holder's pid, its
 * start time and boot id (see portlock/liveness.ts) and, once it listens, its URL. A lock whose
 * holder is gone (kill -9, crash, reboot) is taken over. Only node:fs: the same on Bun, the
 * compiled binary and Deno (which has no flock through node:fs either).
 */

export const LOCK_FILE = "relay.lock";

interface LockHolder extends ProcessIdentity {
  url?: string;
  startedAt?: string;
}

export interface DataDirLock {
  readonly path: string;
  /** Record the URL the relay listens on (shown to a second relay that is refused). */
  setUrl(url: string): void;
  /** Remove the lock (only while it is still ours). */
  release(): void;
}

/** Take the data dir's lock, or throw DATA_DIR_LOCKED (exit 2) naming the live holder. */
export function lockDataDir(dataDir: string, proc: ProcFs = linuxProc): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const me: LockHolder = { ...selfIdentity(proc), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      return held(path, me);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw dataDirUnwritable(path, err);
    }
    const raw = readText(path);
    if (raw === undefined) continue; // released meanwhile: try again
    const holder = parse(raw);
    if (holder === undefined && attempt < 20 && ageMs(path) < 2_000) {
      sleepSync(25); // another relay is writing it right now
      continue;
    }
    if (holder && isAlive(holder, proc)) throw dataDirLocked(dataDir, holder);
    if (attempt >= 20) throw dataDirLocked(dataDir, holder ?? { pid: 0, startTime: null, bootId: null });
    takeOver(path, raw);
  }
}

/**
 * Create `path` (when missing) and make it 0600. SQLite gives `-wal`/`-shm` the mode of the
 * database file, so relay.db is made private before it is opened; existing ones are fixed too.
 */
export function privateFile(path: string): void {
  try {
    closeSync(openSync(path, "a", 0o600));
    chmodSync(path, 0o600);
  } catch (err) {
    throw dataDirUnwritable(path, err);
  }
  for (const side of [`${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(side)) chmodSync(side, 0o600);
    } catch (err) {
      throw dataDirUnwritable(side, err);
    }
  }
}

/** The data dir's mode when other users may enter or read it (a warning; it is not changed). */
export function widerThanPrivate(dataDir: string): string | undefined {
  try {
    const mode = statSync(dataDir).mode & 0o777;
    return mode & 0o077 ? mode.toString(8).padStart(4, "0") : undefined;
  } catch {
    return undefined;
  }
}

// internal

function held(path: string, me: LockHolder): DataDirLock {
  let released = false;
  const mine = () => {
    const now = parse(readText(path) ?? "");
    return now?.pid === me.pid && now.startedAt === me.startedAt;
  };
  return {
    path,
    setUrl(url) {
      if (released || !mine()) return;
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, JSON.stringify({ ...me, url }), { mode: 0o600 });
        renameSync(tmp, path);
      } catch {
        // the URL is only informative
      }
    },
    release() {
      if (released) return;
      released = true;
      try {
        if (mine()) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Remove a stale lock without removing a fresh one: move it aside (only one contender's rename
 * wins), and put it back if what was moved is not the stale content we judged.
 */
function takeOver(path: string, staleRaw: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved or removed it: start again
  }
  try {
    if (readText(aside) !== staleRaw) linkSync(aside, path);
  } catch {
    // a new lock exists already: the next attempt reads it
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // gone
    }
  }
}

function parse(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as LockHolder;
    return Number.isInteger(v?.pid) ? v : undefined;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
