// A/B of cold start by CPU time: `bun bench/cold-ab.ts [-n=21] BIN_A BIN_B ...` starts each binary
// on a fresh data dir (`serve --port 0`), alternating A, B, ... (reversed every other round), and
// reads the process's CPU time (the sum of /proc/PID/task/*/schedstat) at the banner and after the
// first completed SendMessage. On a shared machine wall clock follows the other processes' load;
// the CPU time of the relay itself moves far less. Linux only (/proc).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, sendEcho, spawnServe } from "./lib.ts";

/** CPU time of a running process so far, in ms (threads that already exited are not counted). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e6;
}

type Run = { cpuBanner: number; cpuFirst: number; wallBanner: number; wallFirst: number };

async function coldRun(bin: string, dir: string): Promise<Run> {
  const t0 = performance.now();
  const { child, banner } = spawnServe(bin, dir, join(dir, "locks"));
  try {
    const url = await banner;
    const cpuBanner = cpuMs(child.pid!);
    const wallBanner = performance.now() - t0;
    const token = readFileSync(join(dir, "tokens", "local.token"), "utf8").trim();
    await sendEcho(url, token, "cold", "cold start");
    return { cpuBanner, cpuFirst: cpuMs(child.pid!), wallBanner, wallFirst: performance.now() - t0 };
  } finally {
    child.kill("SIGKILL");
  }
}

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith("-n="))?.slice(3) ?? 21);
const bins = args.filter((a) => !a.startsWith("-n="));
if (bins.length === 0) {
  console.error("usage: bun bench/cold-ab.ts [-n=21] BIN_A [BIN_B ...]");
  process.exit(2);
}
const runs = new Map<string, Run[]>(bins.map((b) => [b, []]));
const root = mkdtempSync(join(tmpdir(), "a2a-relay-cold-ab-"));
try {
  for (let i = 0; i < rounds; i++) {
    for (const [j, bin] of (i % 2 ? [...bins].reverse() : bins).entries()) {
      runs.get(bin)!.push(await coldRun(bin, join(root, `${i}-${j}`)));
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const ms = (rs: Run[], k: keyof Run) => median(rs.map((r) => r[k])).toFixed(1);
for (const [bin, rs] of runs) {
  console.log(
    `${bin}: CPU to banner ${ms(rs, "cpuBanner")} ms, to first SendMessage ${ms(rs, "cpuFirst")} ms; ` +
      `wall ${ms(rs, "wallBanner")} / ${ms(rs, "wallFirst")} ms (median of ${rs.length})`,
  );
}
