// `npm run bench:pg-ledger`: the shared budget ledger alone, in process (no HTTP, no JWT): 32
// turns of one peer at a time loop admit → start → (1 ms) → settle on a throwaway PostgreSQL
// cluster, with the bench's budget (max_turns, max_tokens, max_concurrent = 64). Prints turns/s,
// the p50 of admit + start, and CPU per turn of this process and of the PostgreSQL server
// (postmaster and its children, from /proc). PROFILE=1 also prints the top statements
// (pg_stat_statements, nested ones included) and functions. Env: SECONDS (default 5), CONNS (32).
import { appendFileSync } from "node:fs";
import { pgLedger } from "../test/budgets/_fleet.ts";
import { startPg } from "../test/budgets/_pg.ts";

const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNS = Number(process.env.CONNS ?? 32);
const PROFILE = Boolean(process.env.PROFILE);

const pg = await startPg();
if (!pg) process.exit(0);
if (PROFILE) {
  appendFileSync(
    `${pg.dir}/pg.conf`,
    "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\ntrack_functions = all\n",
  );
  pg.stop();
  pg.start();
  pg.psql("create extension pg_stat_statements");
}
const budget = { window: "24h", max_turns: 1e8, max_tokens: 1e9, max_concurrent: 64, max_queued: 1024 };
const { ledger } = await pgLedger(pg.url, budget);

let n = 0;
let stop = false;
const lat: number[] = [];
const signal = new AbortController().signal;
async function loop() {
  while (!stop) {
    const t0 = performance.now();
    const t = await ledger.admit({
      peer: "bot",
      profile: "echo",
      contextId: `c${n}`,
      taskId: `t${n++}`,
      origin: "a2a",
    });
    await t!.acquire(signal);
    lat.push(performance.now() - t0);
    await Bun.sleep(1); // the turn
    t!.settle(undefined);
  }
}
const loops = Array.from({ length: CONNS }, loop);
await Bun.sleep(1000); // warm-up
lat.length = 0;
const n0 = n;
const cpu0 = process.cpuUsage();
const pg0 = pg.cpuMs();
const t0 = performance.now();
await Bun.sleep(SECONDS * 1000);
const turns = n - n0;
const cpu = process.cpuUsage(cpu0);
const pgMs = pg.cpuMs() - pg0;
const secs = (performance.now() - t0) / 1000;
stop = true;
await Promise.all(loops);
lat.sort((a, b) => a - b);
console.log(
  `${(turns / secs).toFixed(0)} turns/s, admit+start p50 ${lat[lat.length >> 1]?.toFixed(2)} ms, ` +
    `this process ${((cpu.user + cpu.system) / turns).toFixed(0)} µs/turn, PostgreSQL ${((pgMs * 1000) / turns).toFixed(0)} µs/turn`,
);
if (PROFILE) {
  console.log("total ms | calls | µs/call | statement");
  console.log(
    pg.psql(`select round(total_exec_time::numeric, 1), calls, round((total_exec_time / calls * 1000)::numeric, 1),
      left(regexp_replace(query, '\\s+', ' ', 'g'), 100) from pg_stat_statements
      where query not ilike '%create%' order by total_exec_time desc limit 15`),
  );
  console.log("function | calls | total ms | self ms");
  console.log(
    pg.psql(`select funcname, calls, round(total_time::numeric, 1), round(self_time::numeric, 1)
      from pg_stat_user_functions order by total_time desc`),
  );
}
await ledger.close();
pg.destroy();
