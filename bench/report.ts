// Render bench/results.md from the results object: the table, the ratios, and the targets.
import { growthMarkdown } from "./growth.ts";
import { fmt as f, type Results, type Row, type Target, targets } from "./targets.ts";

export function renderMarkdown(r: Results): string {
  const s = r.summary;
  const ratio = (a?: Row, b?: Row) => (a && b ? a.rps / b.rps : Number.NaN);
  const cost = (a?: Row, base?: Row) => (a && base ? 1 - a.rps / base.rps : Number.NaN);
  const check = (t: Target) => (t.met === undefined ? "n/a" : t.met ? "met" : "**missed**");
  const row = (t: Target) => `| ${t.label} | ${t.value} | ${t.target} | ${check(t)} |`;
  const info = (label: string, value: string) => `| ${label} | ${value} | | |`;
  // the figures that explain a target, each after the target it explains
  const details: Record<string, string[]> = {
    "auth + budget cost vs relay echo": [
      info(
        "… of which JWT auth (relay-jwt vs relay echo)",
        `${f(cost(s["relay-jwt"], s["relay-echo"]) * 100, 0)}%`,
      ),
      info(
        "… of which budgets (relay-budget vs relay-jwt)",
        `${f(cost(s["relay-budget"], s["relay-jwt"]) * 100, 0)}%`,
      ),
    ],
    [`relay-budget-pg vs relay-budget: added p50 (${r.settings.connections} conn)`]: [
      info(
        "… throughput ratio; relay CPU added; PostgreSQL server CPU per request",
        `${f(ratio(s["relay-budget-pg"], s["relay-budget"]), 2)}; ${f((s["relay-budget-pg"]?.cpuUsPerRequest ?? Number.NaN) - (s["relay-budget"]?.cpuUsPerRequest ?? Number.NaN), 0)} µs; ${f(s["relay-budget-pg"]?.storeCpuUsPerRequest, 0)} µs`,
      ),
      info("one EdDSA JWT verification with jose (bench process)", `${f(r.eddsaVerifyUs, 0)} µs`),
      info("relay echo vs ceiling", `${f(ratio(s["relay-echo"], s.ceiling) * 100, 1)}%`),
    ],
    "streamed task, the agent's first event (echo progress; median / p90 of 30)": [
      info(
        "the SDK agent's first event: direct / through the relay (median of 30)",
        `${f(r.firstAgentEventMs?.direct?.median ?? Number.NaN, 2)} / ${f(r.firstAgentEventMs?.viaRelay?.median ?? Number.NaN, 2)} ms`,
      ),
    ],
    "RSS under load (max of the relays)": [info("binary size", `${f(r.binaryBytes / 1024 / 1024)} MiB`)],
  };
  const all = targets(r);
  const missed = all.filter((t) => t.met === false);
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
    ...all.flatMap((t) => [row(t), ...(details[t.label] ?? [])]),
    "",
    ...(r.growth ? [growthMarkdown(r.growth)] : []),
  ];
  if (missed.length > 0) {
    lines.push(
      "## The missed targets: by how much, and what it costs",
      "",
      "This run's figures; the measurements behind each cost, and every lever tried with its before and after, are in [NOTES.md](NOTES.md).",
      "",
      ...missed.map((t) => `- **${t.label}**: ${t.value} against ${t.target}, ${t.gap}. ${t.cost}.`),
      "",
    );
  }
  return lines.join("\n");
}
