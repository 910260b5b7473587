import { readFileSync } from "node:fs";

/**
 * Whether the process that wrote a lease still runs. A pid alone is not enough: after the holder
 * dies (kill -9, crash, reboot with a persistent lock dir) its pid can be handed to an unrelated
 * process. On Linux the lease records the holder's start time (`/proc/<pid>/stat` field 22, clock
 * ticks after boot) and the boot id, and a holder counts as live only if all three still match.
 * Elsewhere it falls back to "the pid exists".
 */

export interface ProcessIdentity {
  pid: number;
  startTime: number | null;
  bootId: string | null;
}

/** Reads `/proc`; replaced in tests. */
export interface ProcFs {
  /** Start time (field 22) of a running, non-zombie pid; undefined when there is no such process. */
  startTime(pid: number): number | undefined;
  bootId(): string | null;
  /** Whether /proc is available at all (Linux). */
  readonly available: boolean;
}

export const linuxProc: ProcFs = {
  available: readStat(process.pid) !== undefined,
  startTime(pid) {
    const stat = readStat(pid);
    if (!stat) return undefined;
    // the command name (field 2) is in parentheses and may itself hold spaces or ")"
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = rest[0];
    // a zombie or dead process has closed its sockets: it holds nothing
    if (state === "Z" || state === "X" || state === "x") return undefined;
    const start = Number(rest[22 - 3]);
    return Number.isFinite(start) ? start : undefined;
  },
  bootId() {
    try {
      return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      return null;
    }
  },
};

/** This process, as a lease records it. */
export function selfIdentity(proc: ProcFs = linuxProc): ProcessIdentity {
  return {
    pid: process.pid,
    startTime: proc.available ? (proc.startTime(process.pid) ?? null) : null,
    bootId: proc.available ? proc.bootId() : null,
  };
}

/** Whether the process recorded in a lease is the one running now under that pid. */
export function isAlive(holder: ProcessIdentity, proc: ProcFs = linuxProc): boolean {
  if (proc.available && holder.startTime !== null) {
    const boot = proc.bootId();
    if (holder.bootId && boot && holder.bootId !== boot) return false; // written before a reboot
    return proc.startTime(holder.pid) === holder.startTime;
  }
  return pidExists(holder.pid);
}

/** `kill(pid, 0)`: true when the pid exists (EPERM means it exists but belongs to another user). */
function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

// internal

function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
}
