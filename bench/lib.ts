// Helpers for the benchmark: start servers as processes, drive them with wrk, read RSS.
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";

export interface Proc {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Start a server process and wait (bounded) for its "listening on URL" line. */
export function startProc(
  name: string,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Proc> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name}: no "listening on" line within 20 s:\n${out}`));
    }, 20_000);
    // the banner is on stderr (stdout carries only JSON log lines); older builds printed it on stdout
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https?:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({
          name,
          url: m[1]!,
          pid: child.pid!,
          stop: () =>
            new Promise<void>((r) => {
              // a process killed by a signal has no exit code, only a signal code
              if (child.exitCode !== null || child.signalCode !== null) return r();
              child.once("exit", () => r());
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 5000).unref();
            }),
        });
      }
    };
    // the relay prints its banner on stderr, the SDK agent and the ceiling on stdout
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${out}`));
    });
  });
}

export interface WrkResult {
  /** Completed tasks per second (only answers that are a completed task count). */
  rps: number;
  completed: number;
  /** Answers that were not a completed task (JSON-RPC errors, refusals, other states). */
  failed: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  non2xx: number;
}

/**
 * Blocking SendMessage load with wrk for `seconds` at `connections`. While it runs, `sample` is
 * called every 250 ms (RSS under load).
 */
export function wrk(
  url: string,
  path: string,
  token: string | undefined,
  connections: number,
  seconds: number,
  sample: () => void = () => {},
  extraEnv: Record<string, string> = {},
): Promise<WrkResult> {
  const threads = Math.min(2, connections);
  const child = spawn(
    "wrk",
    [
      `-t${threads}`,
      `-c${connections}`,
      `-d${seconds}s`,
      "--timeout",
      "5s",
      "-s",
      `${import.meta.dir}/send.lua`,
      url,
    ],
    {
      env: {
        ...process.env,
        BENCH_PATH: path,
        BENCH_THREADS: String(threads),
        ...(token ? { BENCH_TOKEN: token } : {}),
        ...extraEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const timer = setInterval(sample, 250);
  const kill = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
  return new Promise((resolve, reject) => {
    child.once("exit", () => {
      clearInterval(timer);
      clearTimeout(kill);
      const m = /BENCH_JSON (\{.*\})/.exec(out);
      if (!m) return reject(new Error(`wrk produced no result:\n${out}`));
      const j = JSON.parse(m[1]!) as {
        requests: number;
        completed: number;
        failed: number;
        duration_us: number;
        errors: number;
        non2xx: number;
        p50_us: number;
        p99_us: number;
      };
      resolve({
        rps: j.completed / (j.duration_us / 1e6),
        completed: j.completed,
        failed: j.failed,
        p50ms: j.p50_us / 1000,
        p99ms: j.p99_us / 1000,
        errors: j.errors,
        non2xx: j.non2xx,
      });
    });
  });
}

/** CPU time a process has used so far (user + system, all threads), in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of stat (11 and 12 after "pid (comm) "), in clock ticks
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** Resident set size of a process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** A run that answered everything it was asked with a completed task. */
export function clean(r: WrkResult): boolean {
  return r.errors + r.non2xx + r.failed === 0;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? Number.NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function ensureWrk(): void {
  if (spawnSync("wrk", ["--version"]).error === undefined) return;
  console.log("installing wrk from Debian…");
  const r = spawnSync(
    "bash",
    ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk"],
    {
      stdio: "inherit",
    },
  );
  if (r.status !== 0) throw new Error("wrk is not installed and apt-get could not install it");
}

/**
 * `bin serve --port 0` on `dataDir` (port leases under `lockDir`), as a cold start: `banner`
 * resolves to the URL its banner names on stderr (stdout carries only log lines), or rejects after
 * 10 s. The caller kills `child`.
 */
export function spawnServe(
  bin: string,
  dataDir: string,
  lockDir: string,
): { child: ChildProcessByStdio<null, null, Readable>; banner: Promise<string> } {
  const child = spawn(bin, ["serve", "--port", "0", "--data-dir", dataDir], {
    env: { ...process.env, A2A_RELAY_LOCK_DIR: lockDir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const banner = new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${bin}: no banner within 10 s`)), 10_000);
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { child, banner };
}

/** One blocking SendMessage to the echo profile that must complete; throws naming `what` if not. */
export async function sendEcho(url: string, token: string, text: string, what: string): Promise<void> {
  const res = await fetch(`${url}/a2a/echo`, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "SendMessage",
      params: { message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] } },
    }),
  });
  const body = (await res.json()) as { result?: { task?: { status?: { state?: string } } } };
  if (body.result?.task?.status?.state !== "TASK_STATE_COMPLETED")
    throw new Error(`${what}: no completed task (${JSON.stringify(body).slice(0, 300)})`);
}
