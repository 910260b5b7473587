import { accessSync, constants, readdirSync, readFileSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { ChildProcess, SpawnOptions } from "../runtime/index.ts";

/**
 * Process supervision shared by the coding-CLI receivers: spawn in a new process group with stdin
 * closed (the runtime seam does both), read stdout line by line and keep the tail of stderr, both
 * with size caps, and stop on the wall-clock cap, on abort, or when the caller asks: SIGTERM to
 * the whole group, SIGKILL after a grace period, and never return while a member of the group is
 * still alive (a grandchild that ignores SIGTERM included).
 */

export interface SuperviseOptions {
  spawn: (opts: SpawnOptions) => ChildProcess;
  cmd: string[];
  cwd: string;
  env: Record<string, string>;
  /** Wall-clock cap for the whole run. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Between SIGTERM and SIGKILL. */
  graceMs?: number;
  maxStdoutBytes?: number;
  maxLineBytes?: number;
  stderrTailBytes?: number;
  /** Each complete stdout line. Return a string to stop the process with that reason. */
  onLine?: (line: string) => string | undefined;
}

type StopReason = "timeout" | "aborted" | "output-limit" | "requested";

export interface Supervised {
  /** Exit code; null when the process ended by a signal. */
  code: number | null;
  /** Set when the supervisor stopped the process. */
  stopped?: { reason: StopReason; detail: string };
  stderrTail: string;
  stdoutBytes: number;
  pid: number;
}

/** The executable is not on PATH (or not executable). */
export class ExecutableNotFound extends Error {
  readonly executable: string;
  constructor(executable: string, why: string) {
    super(`${executable}: ${why}`);
    this.name = "ExecutableNotFound";
    this.executable = executable;
  }
}

const DEFAULT_GRACE_MS = 3000;

export async function supervise(o: SuperviseOptions): Promise<Supervised> {
  const exe = resolveExecutable(o.cmd[0] ?? "", o.env.PATH ?? "", o.cwd);
  let child: ChildProcess;
  try {
    child = o.spawn({ cmd: [exe, ...o.cmd.slice(1)], cwd: o.cwd, env: o.env });
  } catch (err) {
    throw new ExecutableNotFound(o.cmd[0] ?? "", (err as Error).message);
  }
  const grace = o.graceMs ?? DEFAULT_GRACE_MS;
  let stopped: Supervised["stopped"];
  let stopRequested!: () => void;
  const stopSignal = new Promise<void>((r) => {
    stopRequested = r;
  });
  const stop = (reason: StopReason, detail: string) => {
    if (stopped) return;
    stopped = { reason, detail };
    stopRequested();
  };
  const timer = setTimeout(() => stop("timeout", `ran longer than ${fmtMs(o.timeoutMs)}`), o.timeoutMs);
  const onAbort = () => stop("aborted", String((o.signal.reason as Error)?.message ?? o.signal.reason ?? ""));
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener("abort", onAbort, { once: true });

  const maxStdout = o.maxStdoutBytes ?? 64 * 1024 * 1024;
  let stdoutBytes = 0;
  const out = readLines(child.stdout, o.maxLineBytes ?? 8 * 1024 * 1024, (line, bytes) => {
    stdoutBytes += bytes;
    if (stopped) return;
    if (stdoutBytes > maxStdout) return stop("output-limit", `printed more than ${maxStdout} bytes`);
    const why = o.onLine?.(line);
    if (why) stop("requested", why);
  });
  const err = readTail(child.stderr, o.stderrTailBytes ?? 16 * 1024);

  let code: number | null = null;
  const exited = child.exited.then((c) => {
    code = c;
  });
  await Promise.race([exited, stopSignal]);
  clearTimeout(timer);
  o.signal.removeEventListener("abort", onAbort);
  if (stopped) {
    child.killGroup("SIGTERM");
    if (!(await within(exited, grace))) child.killGroup("SIGKILL");
    await exited;
  }
  // The leader is gone; anything it left in its group goes too.
  await reapGroup(child, grace);
  // A stream held open by a process outside the group must not hang the turn.
  await within(Promise.all([out, err.done]), 1000);
  const result: Supervised = { code, stderrTail: err.text(), stdoutBytes, pid: child.pid };
  if (stopped) result.stopped = stopped;
  return result;
}

/** Find `cmd` the way a shell would, in the child's PATH; throws ExecutableNotFound. */
export function resolveExecutable(cmd: string, path: string, cwd: string): string {
  if (!cmd) throw new ExecutableNotFound(cmd, "no command given");
  const candidates = cmd.includes("/")
    ? [isAbsolute(cmd) ? cmd : resolve(cwd, cmd)]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new ExecutableNotFound(cmd, cmd.includes("/") ? "no such executable" : "not found on PATH");
}

/** Live (non-zombie) members of process group `pgid`. Linux reads /proc; elsewhere kill(-pgid, 0). */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const out: number[] = [];
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid && f[0] !== "Z" && f[0] !== "X") out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

// internal

async function reapGroup(child: ChildProcess, grace: number): Promise<void> {
  if (groupMembers(child.pid).length === 0) return;
  child.killGroup("SIGTERM");
  const deadline = Date.now() + grace;
  while (Date.now() < deadline && groupMembers(child.pid).length > 0) await sleep(25);
  if (groupMembers(child.pid).length === 0) return;
  child.killGroup("SIGKILL");
  const hard = Date.now() + 2000;
  while (Date.now() < hard && groupMembers(child.pid).length > 0) await sleep(10);
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  maxLine: number,
  onLine: (line: string, bytes: number) => void,
): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  try {
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        onLine(buf.slice(0, nl), nl + 1);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
      if (buf.length > maxLine) {
        onLine(buf, buf.length);
        buf = "";
      }
    }
  } catch {
    // the stream broke with the process: what was read counts
  }
  buf += dec.decode();
  if (buf) onLine(buf, buf.length);
}

function readTail(stream: ReadableStream<Uint8Array>, max: number) {
  const dec = new TextDecoder();
  let tail = "";
  const done = (async () => {
    try {
      for await (const chunk of stream) {
        tail += dec.decode(chunk, { stream: true });
        if (tail.length > 2 * max) tail = tail.slice(-max);
      }
    } catch {
      // ended with the process
    }
  })();
  return { done, text: () => tail.slice(-max) };
}

function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    p.then(
      () => {
        clearTimeout(t);
        res(true);
      },
      () => {
        clearTimeout(t);
        res(true);
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
