// The benchmark's targets (issues 17 and 20), each judged on one run's results: its value, whether
// it is met, and for a missed one how far off it is and what the measurements say it costs. The
// costs quote this run's own figures where the run has them; the rest cite bench/NOTES.md.
import type { GrowthResult } from "./growth.ts";

export type Row = {
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

export interface Results {
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

export interface Target {
  label: string;
  /** The run's figure, formatted. */
  value: string;
  target: string;
  /** undefined: the run has no figure for it. */
  met: boolean | undefined;
  /** For a missed target: how far off this run is. */
  gap?: string;
  /** For a missed target: what it costs, from the profile and this run's figures. */
  cost?: string;
}

export const fmt = (n: number | undefined, d = 1) =>
  n === undefined || Number.isNaN(n) ? "n/a" : n.toFixed(d);
const judged = (n: number, ok: boolean) => (Number.isNaN(n) ? undefined : ok);

/** Every target of the run, in the order of the results' table. */
export function targets(r: Results): Target[] {
  const s = r.summary;
  const ratio = (a?: Row, b?: Row) => (a && b ? a.rps / b.rps : Number.NaN);
  const costOf = (a?: Row, base?: Row) => (a && base ? 1 - a.rps / base.rps : Number.NaN);
  const cpu = (k: string) => s[k]?.cpuUsPerRequest ?? Number.NaN;
  const one = r.oneConnection;
  const added = (k: "p50ms" | "p99ms") =>
    one["relay-to-sdk"] && one["sdk-echo"] ? one["relay-to-sdk"][k] - one["sdk-echo"][k] : Number.NaN;
  const echoVsSdk = ratio(s["relay-echo"], s["sdk-echo"]);
  const toSdk = ratio(s["relay-to-sdk"], s["sdk-echo"]);
  const p50 = added("p50ms");
  const p99 = added("p99ms");
  const auth = costOf(s["relay-budget"], s["relay-echo"]);
  const pgAdded = (s["relay-budget-pg"]?.p50ms ?? Number.NaN) - (s["relay-budget"]?.p50ms ?? Number.NaN);
  const pgCpu =
    cpu("relay-budget-pg") - cpu("relay-budget") + (s["relay-budget-pg"]?.storeCpuUsPerRequest ?? 0);
  const cold = r.coldStartMs.median;
  const rss = Math.max(
    ...["relay-echo", "relay-to-sdk", "relay-jwt", "relay-budget"].map((k) => s[k]?.loadRssMiB ?? 0),
  );
  const echoAt1 = r.growth?.connections.find((p) => p.x === 1)?.p50ms;
  const conns = r.settings.connections;
  return [
    {
      label: "relay echo vs SDK echo (throughput)",
      value: `${fmt(echoVsSdk, 2)}×`,
      target: "≥ 5×",
      met: judged(echoVsSdk, echoVsSdk >= 5),
      gap: `${fmt(5 / echoVsSdk, 1)}× more throughput needed`,
      cost: `The relay spent ${fmt(cpu("relay-echo"), 0)} µs of CPU per echo task in this run against the SDK server's ${fmt(cpu("sdk-echo"), 0)} µs; 5× needs about ${fmt(cpu("sdk-echo") / 5, 0)} µs. Measured on a quiet machine: the A2A request around the task (HTTP, auth, JSON-RPC parse, a SQLite read, the log line) ~80 µs, the durable task (task row, four events, the dispatch key, two group commits) ~110 µs. The rest of the gap is answering before the task is on disk, which the relay does not do`,
    },
    {
      label: `relay→SDK vs direct SDK (throughput, ${conns} conn)`,
      value: `${fmt(toSdk * 100, 0)}%`,
      target: "≥ 90%",
      met: judged(toSdk, toSdk >= 0.9),
      gap: `${fmt((0.9 - toSdk) * 100, 0)} points short`,
      cost: `On two cores the relay's ${fmt(cpu("relay-to-sdk"), 0)} µs of CPU per forwarded task (this run) is taken from the cores the SDK agent (${fmt(cpu("sdk-echo"), 0)} µs per task) and wrk run on, so the ratio measures the relay's CPU per forward more than its latency; of it, the task's durability is what echo costs, and reading every forward as a stream (so a lost connection can re-attach) ~100 µs`,
    },
    {
      label: "relay→SDK added p50 at 1 connection",
      value: `${fmt(p50, 2)} ms`,
      target: "≤ 0.5 ms",
      met: judged(p50, p50 <= 0.5),
      gap: `${fmt(p50 - 0.5, 2)} ms over`,
      cost: `The relay's own echo profile takes ${fmt(echoAt1, 2)} ms p50 at one connection in this run (two commits: the task before its turn, the final state). A forward waits for the same two; the upstream's exchange takes ~0.5 ms longer inside the relay than for a lone client (reading the answer as a stream, so a broken connection can re-attach, ~0.1 ms of it; the rest is the relay, the agent and the waiting client on two cores). The task is committed before the upstream sees the message, so a retried message never runs twice`,
    },
    {
      label: "relay→SDK added p99 at 1 connection",
      value: `${fmt(p99, 2)} ms`,
      target: "≤ 2 ms",
      met: judged(p99, p99 <= 2),
      gap: `${fmt(p99 - 2, 2)} ms over`,
      cost: "WAL appends that wait while the kernel writes dirty pages back for the checkpoint worker's fsync (3-4 ms a write, strace)",
    },
    {
      label: "auth + budget cost vs relay echo",
      value: `${fmt(auth * 100, 0)}%`,
      target: "≤ 20%",
      met: judged(auth, auth <= 0.2),
      gap: `${fmt((auth - 0.2) * 100, 0)} points over`,
      cost: `Every request carries a fresh single-use EdDSA JWT (a replayed one is refused): one verification took ${fmt(r.eddsaVerifyUs, 0)} µs in the bench process, ${fmt(((r.eddsaVerifyUs ?? Number.NaN) / cpu("relay-echo")) * 100, 0)}% of the relay's whole echo request (${fmt(cpu("relay-echo"), 0)} µs) in this run; the replay check's lookup and write and the budget's ledger row are the rest`,
    },
    {
      label: `relay-budget-pg vs relay-budget: added p50 (${conns} conn)`,
      value: `${fmt(pgAdded, 2)} ms`,
      target: "≤ 1 ms",
      met: judged(pgAdded, pgAdded <= 1),
      gap: `${fmt(pgAdded - 1, 2)} ms over`,
      cost: `The shared ledger added ${fmt(pgCpu, 0)} µs of CPU per request in this run (relay and PostgreSQL server, on the same two cores); at ${conns} connections p50 follows CPU per request, and one ledger row written and settled per turn is about half of the server's share`,
    },
    {
      label: "cold start to first completed SendMessage (median of 20)",
      value: `${fmt(cold)} ms`,
      target: "≤ 60 ms",
      met: judged(cold, cold <= 60),
      gap: `${fmt(cold - 60)} ms over`,
      cost: "A compiled hello-world Bun binary takes ~20 ms here; evaluating the serve command's modules ~50 ms (the config schema the most); a fresh database's creation 8 fsyncs (~10 ms); the first request compiles its statements and validators (~11 ms)",
    },
    {
      label: "streamed task, the agent's first event (echo progress; median / p90 of 30)",
      value: `${fmt(r.firstEventMs.median, 2)} / ${fmt(r.firstEventMs.p90, 2)} ms`,
      target: "≤ 5 ms",
      met: judged(r.firstEventMs.median, r.firstEventMs.median <= 5),
    },
    {
      label: "RSS under load (max of the relays)",
      value: `${fmt(rss)} MiB`,
      target: "≤ 100 MiB",
      met: judged(rss, rss <= 100),
      gap: `${fmt(rss - 100)} MiB over`,
      cost: "~39 MiB are the executable's own pages; JavaScriptCore sizes its heap for the machine's RAM (24 GiB here). `BUN_JSC_forceRAMSize=536870912` in the relay's environment measured ~106 MiB at no CPU cost (docs/operations.md); JSC reads it before any of the relay's code runs",
    },
  ];
}
