// `npm run bench:tls`: what TLS in the binary costs. The relay's echo profile served plain and over
// TLS (same binary, same machine, wrk with keep-alive): throughput at BENCH_CONNECTIONS and p50 at
// one connection. Then p50 at one connection from a keep-alive fetch client for plain, TLS, mutual
// TLS, and mutual TLS with a peer identified by its certificate (the node:tls listener; wrk cannot
// present a client certificate). Writes bench/tls-results.json and bench/tls-results.md.
// Env: BENCH_SECONDS (default 8), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_NO_BUILD.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { makeCerts } from "../test/tls/_certs.ts";
import { clean, ensureWrk, median, type Proc, startProc, type WrkResult, wrk } from "./lib.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const root = join(import.meta.dir, "..");
const bin = join(root, "dist", "a2a-relay");
const work = mkdtempSync(join(tmpdir(), "a2a-relay-bench-tls-"));

ensureWrk();
if (!process.env.BENCH_NO_BUILD && spawnSync(join(root, "compile.sh"), { stdio: "inherit" }).status !== 0)
  throw new Error("compile.sh failed");
const certs = makeCerts();
const TOKEN = "bench-tls-token-0123456789abcdef";

const tlsToml = (mtls: boolean, subject: boolean) =>
  [
    "[server.tls]",
    `cert_file = "${certs.path("server.pem")}"`,
    `key_file = "${certs.path("server.key")}"`,
    ...(mtls ? [`client_ca_file = "${certs.path("fleet-ca.pem")}"`] : []),
    '[profiles.echo]\nhandler = "echo"',
    '[peers.bench]\nprofiles = ["echo"]\ntoken_env = "BENCH_PEER_TOKEN"',
    ...(subject ? ['[peers.host-a]\nprofiles = ["echo"]\n[peers.host-a.tls]\nsubject = "CN=host-a"'] : []),
  ].join("\n");

function relay(name: string, toml: string): Promise<Proc> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.toml"), `${toml}\n`);
  return startProc(
    name,
    bin,
    ["serve", "--port", "0", "--data-dir", join(dir, "data"), "--config", join(dir, "config.toml")],
    { A2A_RELAY_LOCK_DIR: join(work, "locks"), BENCH_PEER_TOKEN: TOKEN },
  );
}

/** p50/p99 of `n` sequential SendMessage calls over one keep-alive connection (fetch). */
async function sequential(
  url: string,
  tls: Record<string, string> | undefined,
  token: string | undefined,
  n: number,
) {
  const ms: number[] = [];
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/a2a/echo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "a2a-version": "1.0",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: i,
        method: "SendMessage",
        params: {
          message: { messageId: `seq-${Date.now()}-${i}`, role: "ROLE_USER", parts: [{ text: "hi" }] },
        },
      }),
      ...(tls ? { tls } : {}),
    } as RequestInit);
    const body = await res.text();
    if (!body.includes("TASK_STATE_COMPLETED")) throw new Error(`not completed: ${body.slice(0, 200)}`);
    if (i >= 50) ms.push(performance.now() - t0); // the first 50 warm up
  }
  ms.sort((a, b) => a - b);
  return { p50ms: ms[Math.floor(ms.length / 2)]!, p99ms: ms[Math.floor(ms.length * 0.99)]! };
}

const procs: Proc[] = [];
try {
  const plain = await relay(
    "plain",
    '[profiles.echo]\nhandler = "echo"\n[peers.bench]\nprofiles = ["echo"]\ntoken_env = "BENCH_PEER_TOKEN"',
  );
  const tls = await relay("tls", tlsToml(false, false));
  const mtls = await relay("mtls", tlsToml(true, false));
  const subject = await relay("mtls-subject", tlsToml(true, true));
  procs.push(plain, tls, mtls, subject);
  const wrkTargets = [plain, tls];
  for (const t of wrkTargets) await wrk(t.url, "/a2a/echo", TOKEN, CONNS, 2); // warm-up
  const runs: Record<string, WrkResult[]> = { plain: [], tls: [] };
  const one: Record<string, WrkResult[]> = { plain: [], tls: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of round % 2 ? [...wrkTargets].reverse() : wrkTargets) {
      const r = await wrk(t.url, "/a2a/echo", TOKEN, CONNS, SECONDS);
      runs[t.name]!.push(r);
      const r1 = await wrk(t.url, "/a2a/echo", TOKEN, 1, SECONDS);
      one[t.name]!.push(r1);
      console.log(
        `round ${round + 1} ${t.name.padEnd(6)} ${r.rps.toFixed(0).padStart(6)}/s at ${CONNS} conns; 1 conn p50 ${r1.p50ms.toFixed(3)} ms${clean(r) && clean(r1) ? "" : " (errors: kept out)"}`,
      );
    }
  }
  const med = (rs: WrkResult[], f: (r: WrkResult) => number) => median(rs.filter(clean).map(f));
  const ca = certs.pem("fleet-ca.pem");
  const client = { ca, cert: certs.pem("client.pem"), key: certs.pem("client.key") };
  const N = 1000;
  const seq = {
    plain: await sequential(plain.url, undefined, TOKEN, N),
    tls: await sequential(tls.url, { ca }, TOKEN, N),
    mtls: await sequential(mtls.url, client, TOKEN, N),
    "mtls-subject (node:tls listener, no token)": await sequential(subject.url, client, undefined, N),
  };
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, bun: Bun.version, loadavg: loadavg() },
    settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNS, sequentialCalls: N },
    wrk: {
      plain: { rps: med(runs.plain!, (r) => r.rps), p50ms1: med(one.plain!, (r) => r.p50ms) },
      tls: { rps: med(runs.tls!, (r) => r.rps), p50ms1: med(one.tls!, (r) => r.p50ms) },
    },
    sequentialFetch: seq,
    runs,
    oneConnection: one,
  };
  const ratio = results.wrk.tls.rps / results.wrk.plain.rps;
  const added = results.wrk.tls.p50ms1 - results.wrk.plain.p50ms1;
  writeFileSync(
    join(import.meta.dir, "tls-results.json"),
    `${JSON.stringify({ ...results, ratio, addedP50ms: added }, null, 2)}\n`,
  );
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
  const md = [
    "# TLS in the binary: echo over TLS vs plain",
    "",
    `${results.date}, ${results.machine.cpus} × ${results.machine.model}, Bun ${results.machine.bun}; load average at the end ${results.machine.loadavg.map((x) => x.toFixed(1)).join(" ")}.`,
    "The CPU is shared with other work (other agents' test runs): absolute numbers move from run to run; the",
    "ratio and the difference, measured in alternating rounds, are what to read.",
    "",
    `wrk, keep-alive, blocking SendMessage to the echo profile with a bearer token (${ROUNDS} rounds × ${SECONDS} s, medians):`,
    "",
    `| target | completed/s at ${CONNS} connections | p50 at 1 connection |`,
    "|---|---|---|",
    `| plain http | ${f(results.wrk.plain.rps, 0)} | ${f(results.wrk.plain.p50ms1, 3)} ms |`,
    `| TLS 1.3 (EC P-256) | ${f(results.wrk.tls.rps, 0)} | ${f(results.wrk.tls.p50ms1, 3)} ms |`,
    "",
    `**TLS/plain throughput: ${f(ratio * 100, 0)}%; added p50 at one connection: ${f(added * 1000, 0)} µs.**`,
    "",
    `One keep-alive connection from Bun's fetch, ${N} sequential calls (client and server on the same cores):`,
    "",
    "| target | p50 | p99 |",
    "|---|---|---|",
    ...Object.entries(seq).map(([k, v]) => `| ${k} | ${f(v.p50ms, 3)} ms | ${f(v.p99ms, 3)} ms |`),
    "",
  ].join("\n");
  writeFileSync(join(import.meta.dir, "tls-results.md"), md);
  console.log(md);
} finally {
  await Promise.all(procs.map((p) => p.stop()));
}
