// `npm run bench`: relay overhead and throughput, measured side by side in one run on 127.0.0.1.
// Writes bench/results.json, bench/results.md and bench/growth.svg. Bounded: about 6-8 minutes at
// the defaults. Env: BENCH_SECONDS (per load run, default 8), BENCH_ROUNDS (default 3),
// BENCH_CONNECTIONS (32), BENCH_ONLY (comma-separated target names: run just those, print the
// summary, write no results), BENCH_GROWTH_SECONDS (per growth level, default 5; 0 skips it).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "../src/version.ts";
import { type PgCluster, startPg } from "../test/budgets/_pg.ts";
import { type GrowthResult, growthSvg, runGrowth } from "./growth.ts";
import { createMinter } from "./jwt.ts";
import { clean, cpuMs, ensureWrk, median, type Proc, rssMiB, startProc, type WrkResult, wrk } from "./lib.ts";
import { coldStartMs, firstEventMs } from "./probes.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : undefined;
// long enough that no round measures JIT compilation: the relay's JIT thread took 11% of its CPU
// in the first 10 s of load and none after (per-thread CPU, 32 connections)
const WARMUP_SECONDS = 10;
const GROWTH_SECONDS = Number(process.env.BENCH_GROWTH_SECONDS ?? 5);
const root = join(import.meta.dir, "..");
const bin = join(root, "dist", "a2a-relay");
const work = mkdtempSync(join(tmpdir(), "a2a-relay-bench-"));

ensureWrk();
console.log("building the binary…");
if (!process.env.BENCH_NO_BUILD && spawnSync(join(root, "compile.sh"), { stdio: "inherit" }).status !== 0)
  throw new Error("compile.sh failed");

interface Target {
  name: string;
  proc: Proc;
  path: string;
  token?: string;
  /** Per-run setup returning extra wrk environment (fresh single-use JWTs). */
  prepare?: () => Promise<Record<string, string>>;
  idleRss?: number;
  loadRss: number;
  runs: WrkResult[];
  /** CPU time (user + system, all threads) of the server process per request, per run (µs). */
  cpuUs: number[];
  /** The same of the PostgreSQL cluster a target's budgets are on (relay-budget-pg). */
  storeCpuUs?: number[];
}

function relay(name: string, toml?: string): Promise<Proc> {
  const dir = join(work, name);
  const args = ["serve", "--port", "0", "--data-dir", join(dir, "data")];
  if (toml) {
    spawnSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "config.toml"), toml);
    args.push("--config", join(dir, "config.toml"));
  }
  return startProc(name, bin, args, { A2A_RELAY_LOCK_DIR: join(work, "locks") });
}
const tokenOf = (name: string) =>
  readFileSync(join(work, name, "data", "tokens", "local.token"), "utf8").trim();

const procs: Proc[] = [];
let pg: PgCluster | undefined;
const targets: Target[] = [];
async function add(
  name: string,
  start: () => Promise<Proc>,
  path: string,
  token?: () => string,
): Promise<Target | undefined> {
  if (ONLY && !ONLY.has(name)) return undefined;
  try {
    const proc = await start();
    procs.push(proc);
    const t: Target = { name, proc, path, token: token?.(), loadRss: 0, runs: [], cpuUs: [] };
    targets.push(t);
    return t;
  } catch (err) {
    console.log(`skipping ${name}: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`);
    return undefined;
  }
}

try {
  const sdk = await add(
    "sdk-echo",
    () => startProc("sdk-echo", "node", [join(import.meta.dir, "sdk-echo-agent.mjs"), "0"]),
    "/",
  );
  await add(
    "relay-echo",
    () => relay("relay-echo"),
    "/a2a/echo",
    () => tokenOf("relay-echo"),
  );
  if (sdk) {
    await add(
      "relay-to-sdk",
      () =>
        relay(
          "relay-to-sdk",
          `[profiles.sdk]\nhandler = "a2a"\nurl = "${sdk.proc.url}/"\nprotocol = "1.0"\n`,
        ),
      "/a2a/sdk",
      () => tokenOf("relay-to-sdk"),
    );
  }
  // auth (+ budget): every request carries its own EdDSA JWT (each jti is single-use), minted
  // before each run so signing costs the load generator nothing. relay-jwt has no budget, so the
  // two split the cost of authentication from that of budget accounting.
  const jwtDir = join(work, "jwt");
  spawnSync("mkdir", ["-p", jwtDir]);
  const minter = await createMinter({ iss: "bench", aud: "bench-relay" });
  writeFileSync(join(jwtDir, "bench.pub.pem"), minter.publicKeyPem);
  let jwtRun = 0;
  // relay-budget-pg: the same budget in the fleet's shared ledger on PostgreSQL (a throwaway
  // cluster on this machine, as in the tests), to compare admission through Postgres with SQLite
  if (!ONLY || ONLY.has("relay-budget-pg")) pg = await startPg();
  const jwtConfig = (budget: boolean, store?: string) =>
    [
      '[server]\nid = "bench-relay"',
      ...(store ? [`[budgets]\nstore = "${store}"`] : []),
      '[profiles.echo]\nhandler = "echo"',
      '[peers.bench]\nprofiles = ["echo"]',
      `[peers.bench.jwt]\nalgorithms = ["EdDSA"]\npublic_key_file = "${join(jwtDir, "bench.pub.pem")}"`,
      ...(budget
        ? [
            '[peers.bench.budget]\nwindow = "24h"\nmax_turns = 100000000\nmax_tokens = 1000000000',
            "max_concurrent = 64\nmax_queued = 1024\n",
          ]
        : []),
    ].join("\n");
  for (const [name, budget, store] of [
    ["relay-jwt", false, undefined],
    ["relay-budget", true, undefined],
    ["relay-budget-pg", true, pg?.url],
  ] as const) {
    if (name === "relay-budget-pg" && !store) continue;
    const t = await add(name, () => relay(name, jwtConfig(budget, store)), "/a2a/echo");
    if (!t) continue;
    if (store) t.storeCpuUs = [];
    t.prepare = async () => {
      // enough single-use tokens for this run: twice the fastest rate seen on the unauthenticated
      // echo target or this one (a run that ran out would count refusals as answers)
      const seen = [...t.runs, ...(targets.find((x) => x.name === "relay-echo")?.runs ?? [])]
        .filter(clean)
        .map((r) => r.rps);
      const file = join(jwtDir, `run${++jwtRun}.jwt`);
      await minter.mint(Math.ceil(Math.max(5_000, ...seen) * 2 * SECONDS), file);
      return { BENCH_TOKENS_FILE: file };
    };
  }
  await add(
    "ceiling",
    () => startProc("ceiling", process.execPath, [join(import.meta.dir, "ceiling.ts"), "0"]),
    "/",
  );

  await Bun.sleep(500);
  for (const t of targets) t.idleRss = rssMiB(t.proc.pid);
  // warm-up: a short run on each target first, so no round measures JIT compilation
  for (const t of targets) {
    const extra = t.prepare ? await t.prepare() : {};
    await wrk(t.proc.url, t.path, t.token, CONNS, WARMUP_SECONDS, () => {}, extra);
  }

  for (let round = 0; round < ROUNDS; round++) {
    const order = [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)];
    for (const t of order) {
      const extra = t.prepare ? await t.prepare() : {};
      const cpu0 = cpuMs(t.proc.pid);
      const store0 = t.storeCpuUs && pg ? pg.cpuMs() : 0;
      const r = await wrk(
        t.proc.url,
        t.path,
        t.token,
        CONNS,
        SECONDS,
        () => {
          t.loadRss = Math.max(t.loadRss, rssMiB(t.proc.pid));
        },
        extra,
      );
      t.runs.push(r);
      t.cpuUs.push(((cpuMs(t.proc.pid) - cpu0) * 1000) / (r.rps * SECONDS));
      if (t.storeCpuUs && pg) t.storeCpuUs.push(((pg.cpuMs() - store0) * 1000) / (r.rps * SECONDS));
      console.log(
        `round ${round + 1} ${t.name.padEnd(13)} ${r.rps.toFixed(0).padStart(7)} completed/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  not completed ${r.errors + r.non2xx + r.failed}${clean(r) ? "" : "  (kept out of the medians)"}`,
      );
    }
  }

  if (ONLY) {
    for (const t of targets) {
      const ok = t.runs.filter(clean);
      console.log(
        `${t.name}: ${median(ok.map((r) => r.rps)).toFixed(0)} completed/s, p50 ${median(ok.map((r) => r.p50ms)).toFixed(2)} ms, p99 ${median(ok.map((r) => r.p99ms)).toFixed(2)} ms, server CPU ${median(t.cpuUs).toFixed(0)} µs/request${t.storeCpuUs ? `, PostgreSQL CPU ${median(t.storeCpuUs).toFixed(0)} µs/request` : ""}`,
      );
    }
    await Promise.all(procs.map((p) => p.stop()));
    pg?.destroy();
    process.exit(0);
  }

  // added latency at one connection: relay in front of the SDK agent vs the agent directly
  // (alternating, so the machine's drift between runs falls on both alike)
  const single: Record<string, WrkResult[]> = {};
  for (let i = 0; i < 2; i++) {
    for (const name of ["sdk-echo", "relay-to-sdk"]) {
      const t = targets.find((x) => x.name === name);
      if (!t) continue;
      const runs = single[name] ?? [];
      runs.push(await wrk(t.proc.url, t.path, t.token, 1, SECONDS));
      single[name] = runs;
    }
  }

  const echo = targets.find((t) => t.name === "relay-echo")!;
  const ttfe = await firstEventMs(`${echo.proc.url}/a2a/echo`, echo.token, 30);
  // the agent's first event through the relay vs from the agent directly (the SDK echo agent)
  const toSdk = targets.find((t) => t.name === "relay-to-sdk");
  const sdkFirst = sdk ? await firstEventMs(`${sdk.proc.url}/`, undefined, 30, "first") : undefined;
  const viaFirst = toSdk
    ? await firstEventMs(`${toSdk.proc.url}/a2a/sdk`, toSdk.token, 30, "first")
    : undefined;
  const cold = await coldStartMs(bin, join(work, "cold"), 20);
  // the growth run, alone on the machine: the other targets stop first
  await Promise.all(procs.map((p) => p.stop()));
  let growth: GrowthResult | undefined;
  if (GROWTH_SECONDS > 0) {
    growth = await runGrowth({ bin, work, seconds: GROWTH_SECONDS, log: (l) => console.log(l) });
    writeFileSync(join(import.meta.dir, "growth.svg"), growthSvg(growth));
  }
  const verifyUs = await minter.verifyCostUs(2_000);
  const size = statSync(bin).size;

  const summary = Object.fromEntries(
    targets.map((t) => {
      // runs with any answer that was not a completed task stay out of the medians
      const ok = t.runs.filter(clean);
      return [
        t.name,
        {
          rps: median(ok.map((r) => r.rps)),
          p50ms: median(ok.map((r) => r.p50ms)),
          p99ms: median(ok.map((r) => r.p99ms)),
          errors: t.runs.reduce((n, r) => n + r.errors + r.non2xx + r.failed, 0),
          runsWithErrors: t.runs.length - ok.length,
          cpuUsPerRequest: median(t.cpuUs),
          ...(t.storeCpuUs ? { storeCpuUsPerRequest: median(t.storeCpuUs) } : {}),
          idleRssMiB: t.idleRss,
          loadRssMiB: t.loadRss,
          runs: t.runs,
        },
      ];
    }),
  );
  const single1 = Object.fromEntries(
    Object.entries(single).map(([k, runs]) => [
      k,
      {
        p50ms: median(runs.filter(clean).map((r) => r.p50ms)),
        p99ms: median(runs.filter(clean).map((r) => r.p99ms)),
      },
    ]),
  );
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      node: process.versions.node,
      bun: Bun.version,
      relay: VERSION,
    },
    settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNS, warmupSeconds: WARMUP_SECONDS },
    summary,
    oneConnection: single1,
    coldStartMs: cold,
    firstEventMs: ttfe,
    firstAgentEventMs: { direct: sdkFirst, viaRelay: viaFirst },
    eddsaVerifyUs: verifyUs,
    binaryBytes: size,
    ...(growth ? { growth } : {}),
  };
  writeFileSync(join(import.meta.dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const { renderMarkdown } = await import("./report.ts");
  writeFileSync(join(import.meta.dir, "results.md"), renderMarkdown(results));
  console.log(readFileSync(join(import.meta.dir, "results.md"), "utf8"));
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  pg?.destroy();
  // the growth levels leave GiBs of databases behind (1M stored tasks: ~5 GiB); BENCH_KEEP=1 keeps them
  if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
