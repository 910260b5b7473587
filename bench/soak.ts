// `npm run bench:soak`: steady echo load for a long time with a short retention, sampling the
// database's size and the relay's RSS, to show both stay flat once retention runs. Not in CI.
// Env: SOAK_MINUTES (default 30), SOAK_RETAIN (default "5m"), SOAK_CONNECTIONS (default 8),
// SOAK_SAMPLE_S (default 30), SOAK_RATE (SendMessage/s over all connections, default 300: steady,
// not flat out). Writes bench/soak-results.json and bench/soak-results.md.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "../src/version.ts";
import { rssMiB, startProc } from "./lib.ts";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const RETAIN = process.env.SOAK_RETAIN ?? "5m";
const CONNS = Number(process.env.SOAK_CONNECTIONS ?? 8);
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_S ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 300);
const root = join(import.meta.dir, "..");
const bin = join(root, "dist", "a2a-relay");
const work = mkdtempSync(join(tmpdir(), "a2a-relay-soak-"));

if (!process.env.BENCH_NO_BUILD && spawnSync(join(root, "compile.sh"), { stdio: "inherit" }).status !== 0) {
  throw new Error("compile.sh failed");
}
mkdirSync(join(work, "relay"), { recursive: true });
writeFileSync(join(work, "relay", "config.toml"), `[store]\nretain = "${RETAIN}"\n`);
const data = join(work, "relay", "data");
const proc = await startProc(
  "relay",
  bin,
  ["serve", "--port", "0", "--data-dir", data, "--config", join(work, "relay", "config.toml")],
  { A2A_RELAY_LOCK_DIR: join(work, "locks") },
);
const token = readFileSync(join(data, "tokens", "local.token"), "utf8").trim();
const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);

interface Sample {
  minute: number;
  completed: number;
  errors: number;
  dbMiB: number;
  walMiB: number;
  rssMiB: number;
}
const samples: Sample[] = [];
let completed = 0;
let errors = 0;
const end = Date.now() + MINUTES * 60_000;
const t0 = Date.now();

/** One connection's loop: a SendMessage at a time; only a completed task counts. */
async function client(n: number): Promise<void> {
  const gapMs = (1000 * CONNS) / RATE;
  for (let i = 0; Date.now() < end; i++) {
    const next = t0 + (i + n / CONNS) * gapMs;
    if (next > Date.now()) await Bun.sleep(next - Date.now());
    try {
      const res = await fetch(`${proc.url}/a2a/echo`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "a2a-version": "1.0",
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: i,
          method: "SendMessage",
          params: {
            message: {
              messageId: crypto.randomUUID(),
              role: "ROLE_USER",
              parts: [{ text: `soak ${n} ${i}` }],
            },
          },
        }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { result?: { task?: { status?: { state?: string } } } };
      if (body.result?.task?.status?.state === "TASK_STATE_COMPLETED") completed++;
      else errors++;
    } catch {
      errors++;
    }
  }
}

const sampler = setInterval(() => {
  const s: Sample = {
    minute: Math.round(((Date.now() - t0) / 60_000) * 10) / 10,
    completed,
    errors,
    dbMiB: size(join(data, "relay.db")) / 1_048_576,
    walMiB: size(join(data, "relay.db-wal")) / 1_048_576,
    rssMiB: rssMiB(proc.pid),
  };
  samples.push(s);
  console.log(
    `${s.minute.toFixed(1)} min: ${s.completed} completed, ${s.errors} errors, db ${s.dbMiB.toFixed(1)} MiB, wal ${s.walMiB.toFixed(1)} MiB, rss ${s.rssMiB.toFixed(0)} MiB`,
  );
}, SAMPLE_S * 1000);

console.log(`soak: ${MINUTES} min, retain ${RETAIN}, ${CONNS} connections against ${proc.url}`);
await Promise.all(Array.from({ length: CONNS }, (_, n) => client(n)));
clearInterval(sampler);
await proc.stop();

// flat: after the first retention cycle (retain + one pass), the max of the second half against the
// max of the first half after that point
const retainMin = Number(/^(\d+)m$/.exec(RETAIN)?.[1] ?? 5);
const after = samples.filter((s) => s.minute >= retainMin + 1);
const steady = after.length >= 2 ? after : samples;
const half = Math.floor(steady.length / 2);
const peak = (xs: Sample[], k: keyof Sample) => Math.max(...xs.map((x) => x[k] as number));
const result = {
  version: VERSION,
  date: new Date().toISOString(),
  minutes: MINUTES,
  retain: RETAIN,
  connections: CONNS,
  completed,
  errors,
  perSecond: Math.round(completed / (MINUTES * 60)),
  dbMiB: {
    firstHalfPeak: peak(steady.slice(0, half), "dbMiB"),
    secondHalfPeak: peak(steady.slice(half), "dbMiB"),
  },
  rssMiB: {
    firstHalfPeak: peak(steady.slice(0, half), "rssMiB"),
    secondHalfPeak: peak(steady.slice(half), "rssMiB"),
  },
  samples,
};
writeFileSync(join(import.meta.dir, "soak-results.json"), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  `# Soak: ${MINUTES} min of echo load, retain = "${RETAIN}" (${result.date}, a2a-relay ${VERSION})`,
  "",
  `${completed} tasks completed (${result.perSecond}/s over ${CONNS} connections), ${errors} errors.`,
  `After the first retention cycle (minute ${retainMin + 1} on): database peak ${result.dbMiB.firstHalfPeak.toFixed(1)} MiB in the first half,`,
  `${result.dbMiB.secondHalfPeak.toFixed(1)} MiB in the second; RSS peak ${result.rssMiB.firstHalfPeak.toFixed(0)} → ${result.rssMiB.secondHalfPeak.toFixed(0)} MiB.`,
  "",
  "| minute | completed | errors | relay.db MiB | WAL MiB | RSS MiB |",
  "|---|---|---|---|---|---|",
  ...samples.map(
    (s) =>
      `| ${s.minute} | ${s.completed} | ${s.errors} | ${s.dbMiB.toFixed(1)} | ${s.walMiB.toFixed(1)} | ${s.rssMiB.toFixed(0)} |`,
  ),
  "",
];
writeFileSync(join(import.meta.dir, "soak-results.md"), md.join("\n"));
console.log(md.slice(0, 5).join("\n"));
