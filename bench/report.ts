// Render bench/results.md from the results object: the table, the ratios, and the targets.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type GrowthResult, growthMarkdown } from "./growth.ts";

type Row = {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  runsWithErrors?: number;
  cpuUsPerRequest?: number;
  /** relay-budget-pg: CPU of the PostgreSQL cluster per request. */
  storeCpuUsPerRequest?: number;
  idleRssMiB?: number;
  loadRssMiB: number;
};
interface Results {
  date: string;
  machine: Record<string, unknown>;
  settings: { seconds: number; rounds: number; connections: number; warmupSeconds?: number };
  summary: Record<string, Row>;
  oneConnection: Record<string, { p50ms: number; p99ms: number }>;
  coldStartMs: { median: number };
  firstEventMs: { median: number; p90: number };
  firstAgentEventMs?: {
    direct?: { median: number; p90: number };
    viaRelay?: { median: number; p90: number };
  };
  eddsaVerifyUs?: number;
  binaryBytes: number;
  growth?: GrowthResult;
}

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? "n/a" : n.toFixed(d));

export function renderMarkdown(r: Results): string {
  const s = r.summary;
  const ratio = (a?: Row, b?: Row) => (a && b ? a.rps / b.rps : Number.NaN);
  const one = r.oneConnection;
  const addedP50 =
    one["relay-to-sdk"] && one["sdk-echo"] ? one["relay-to-sdk"].p50ms - one["sdk-echo"].p50ms : Number.NaN;
  const addedP99 =
    one["relay-to-sdk"] && one["sdk-echo"] ? one["relay-to-sdk"].p99ms - one["sdk-echo"].p99ms : Number.NaN;
  const cost = (a?: Row, base?: Row) => (a && base ? 1 - a.rps / base.rps : Number.NaN);
  const authCost = cost(s["relay-budget"], s["relay-echo"]);
  const maxRss = Math.max(
    ...["relay-echo", "relay-to-sdk", "relay-jwt", "relay-budget"].map((k) => s[k]?.loadRssMiB ?? 0),
  );
  const check = (ok: boolean | undefined) =>
    ok === undefined || Number.isNaN(Number(ok)) ? "n/a" : ok ? "met" : "**missed**";
  // issue 17: what admission through the shared ledger on PostgreSQL adds to the SQLite one
  const pgAdded = (s["relay-budget-pg"]?.p50ms ?? Number.NaN) - (s["relay-budget"]?.p50ms ?? Number.NaN);
  const lines = [
    "# Benchmark results",
    "",
    `Run ${r.date} by \`npm run bench\` on ${JSON.stringify(r.machine)}.`,
    `Blocking \`SendMessage\` with a bearer token and a unique messageId per request, wrk at ${r.settings.connections} connections, ${r.settings.rounds} rounds of ${r.settings.seconds} s alternating the targets (after a ${r.settings.warmupSeconds ?? 0} s warm-up of each); medians across rounds. Every relay answer is sent after the task is committed to SQLite (WAL, synchronous=NORMAL).`,
    "",
    "| target | completed/s | p50 ms | p99 ms | not completed (runs) | server CPU µs/req | RSS idle MiB | RSS load MiB |",
    "|---|---|---|---|---|---|---|---|",
    ...Object.entries(s).map(
      ([k, v]) =>
        `| ${k} | ${f(v.rps, 0)} | ${f(v.p50ms, 2)} | ${f(v.p99ms, 2)} | ${v.errors}${v.runsWithErrors ? ` (${v.runsWithErrors} run(s) kept out of the medians)` : ""} | ${f(v.cpuUsPerRequest, 0)} | ${f(v.idleRssMiB)} | ${f(v.loadRssMiB)} |`,
    ),
    "",
    "Only answers that are a completed task count (wrk's `response()` hook checks each one: HTTP 200, `TASK_STATE_COMPLETED`, no JSON-RPC error); a run with any other answer is kept out of the medians.",
    "",
    "Targets: `sdk-echo` = echo agent on the official @a2a-js/sdk express server (Node, in-memory store); `relay-echo` = the compiled relay's `echo` profile; `relay-to-sdk` = the relay with an `a2a` profile in front of sdk-echo; `relay-jwt` = the relay's echo profile for a peer authenticated by EdDSA JWT (a fresh single-use token per request); `relay-budget` = the same with a budget on that peer; `ceiling` = a bare Bun server answering a fixed JSON-RPC body. Server CPU is user + system time of the server process (all its threads) over the run, per request.",
    "",
    "| ratio | value | target | |",
    "|---|---|---|---|",
    `| relay echo vs SDK echo (throughput) | ${f(ratio(s["relay-echo"], s["sdk-echo"]), 2)}× | ≥ 5× | ${check(ratio(s["relay-echo"], s["sdk-echo"]) >= 5)} |`,
    `| relay→SDK vs direct SDK (throughput, ${r.settings.connections} conn) | ${f(ratio(s["relay-to-sdk"], s["sdk-echo"]) * 100, 0)}% | ≥ 90% | ${check(ratio(s["relay-to-sdk"], s["sdk-echo"]) >= 0.9)} |`,
    `| relay→SDK added p50 at 1 connection | ${f(addedP50, 2)} ms | ≤ 0.5 ms | ${check(addedP50 <= 0.5)} |`,
    `| relay→SDK added p99 at 1 connection | ${f(addedP99, 2)} ms | ≤ 2 ms | ${check(addedP99 <= 2)} |`,
    `| auth + budget cost vs relay echo | ${f(authCost * 100, 0)}% | ≤ 20% | ${check(authCost <= 0.2)} |`,
    `| … of which JWT auth (relay-jwt vs relay echo) | ${f(cost(s["relay-jwt"], s["relay-echo"]) * 100, 0)}% | | |`,
    `| … of which budgets (relay-budget vs relay-jwt) | ${f(cost(s["relay-budget"], s["relay-jwt"]) * 100, 0)}% | | |`,
    `| relay-budget-pg vs relay-budget: added p50 (${r.settings.connections} conn) | ${f(pgAdded, 2)} ms | ≤ 1 ms | ${check(Number.isNaN(pgAdded) ? undefined : pgAdded <= 1)} |`,
    `| … throughput ratio; relay CPU added; PostgreSQL server CPU per request | ${f(ratio(s["relay-budget-pg"], s["relay-budget"]), 2)}; ${f((s["relay-budget-pg"]?.cpuUsPerRequest ?? Number.NaN) - (s["relay-budget"]?.cpuUsPerRequest ?? Number.NaN), 0)} µs; ${f(s["relay-budget-pg"]?.storeCpuUsPerRequest, 0)} µs | | |`,
    `| one EdDSA JWT verification with jose (bench process) | ${f(r.eddsaVerifyUs, 0)} µs | | |`,
    `| relay echo vs ceiling | ${f(ratio(s["relay-echo"], s.ceiling) * 100, 1)}% | | |`,
    `| cold start to first completed SendMessage (median of 20) | ${f(r.coldStartMs.median)} ms | ≤ 60 ms | ${check(r.coldStartMs.median <= 60)} |`,
    `| streamed task, the agent's first event (echo progress; median / p90 of 30) | ${f(r.firstEventMs.median, 2)} / ${f(r.firstEventMs.p90, 2)} ms | ≤ 5 ms | ${check(r.firstEventMs.median <= 5)} |`,
    `| the SDK agent's first event: direct / through the relay (median of 30) | ${f(r.firstAgentEventMs?.direct?.median ?? Number.NaN, 2)} / ${f(r.firstAgentEventMs?.viaRelay?.median ?? Number.NaN, 2)} ms | | |`,
    `| RSS under load (max of the relays) | ${f(maxRss)} MiB | ≤ 100 MiB | ${check(maxRss <= 100)} |`,
    `| binary size | ${f(r.binaryBytes / 1024 / 1024)} MiB | | |`,
    "",
    ...(r.growth ? [growthMarkdown(r.growth)] : []),
  ];
  const notes = join(import.meta.dir, "NOTES.md");
  if (existsSync(notes)) lines.push(readFileSync(notes, "utf8"));
  return lines.join("\n");
}
