// The growth run of `npm run bench`: how throughput and p99 of a durable SendMessage change with
// the number of connections (1 to 512) and with the number of tasks already stored (10k to 1M).
// Each level is one wrk run on the compiled relay's echo profile; only completed tasks count.
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Proc, sendEcho, startProc, type WrkResult, wrk } from "./lib.ts";

export interface GrowthPoint {
  /** Connections (the connection sweep) or tasks stored when the run began (the store sweep). */
  x: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  /** Answers that were not a completed task; a point with any is marked in the table. */
  notCompleted: number;
  /** The database file (and its WAL) after the run, MiB (store sweep only). */
  dbMiB?: number;
}

export interface GrowthResult {
  seconds: number;
  connections: GrowthPoint[];
  storedTasks: GrowthPoint[];
  /** Connections of the store sweep. */
  storeConnections: number;
}

export const CONNECTION_LEVELS = [1, 8, 32, 128, 512];
export const STORED_LEVELS = [10_000, 100_000, 1_000_000];

export async function runGrowth(o: {
  bin: string;
  work: string;
  seconds: number;
  log: (line: string) => void;
  connectionLevels?: number[];
  storedLevels?: number[];
}): Promise<GrowthResult> {
  const storeConnections = 32;
  const result: GrowthResult = { seconds: o.seconds, connections: [], storedTasks: [], storeConnections };
  const dir = join(o.work, "growth");
  mkdirSync(dir, { recursive: true });
  const start = (dataDir: string) =>
    startProc("growth", o.bin, ["serve", "--port", "0", "--data-dir", dataDir], {
      A2A_RELAY_LOCK_DIR: join(o.work, "locks"),
    });
  const token = async (dataDir: string) =>
    (await Bun.file(join(dataDir, "tokens", "local.token")).text()).trim();
  const point = (x: number, r: WrkResult, dbMiB?: number): GrowthPoint => ({
    x,
    rps: r.rps,
    p50ms: r.p50ms,
    p99ms: r.p99ms,
    notCompleted: r.errors + r.non2xx + r.failed,
    ...(dbMiB === undefined ? {} : { dbMiB }),
  });
  const say = (what: string, p: GrowthPoint) =>
    o.log(
      `growth ${what.padEnd(22)} ${p.rps.toFixed(0).padStart(7)} completed/s  p50 ${p.p50ms.toFixed(2)} ms  p99 ${p.p99ms.toFixed(2)} ms${p.notCompleted ? `  not completed ${p.notCompleted}` : ""}${p.dbMiB === undefined ? "" : `  db ${p.dbMiB.toFixed(0)} MiB`}`,
    );

  // connections: one relay, a short warm-up, then each level in turn
  let proc: Proc = await start(join(dir, "connections"));
  try {
    const tok = await token(join(dir, "connections"));
    await wrk(proc.url, "/a2a/echo", tok, 32, 2);
    for (const c of o.connectionLevels ?? CONNECTION_LEVELS) {
      const p = point(c, await wrk(proc.url, "/a2a/echo", tok, c, o.seconds));
      result.connections.push(p);
      say(`${c} connections`, p);
    }
  } finally {
    await proc.stop();
  }

  // stored tasks: the store is filled to each level with copies of a task the relay itself
  // wrote (the relay stopped meanwhile), then the relay restarts on it and takes the same load
  const dataDir = join(dir, "stored");
  const db = join(dataDir, "relay.db");
  proc = await start(dataDir);
  await sendEcho(proc.url, await token(dataDir), "hello bench", "growth: the template task");
  await proc.stop();
  for (const level of o.storedLevels ?? STORED_LEVELS) {
    const stored = storedTasks(db);
    if (stored < level) seed(db, level - stored);
    // the seeder skips fsyncs: without this the relay's first checkpoint fsync waited for the
    // seeder's GiBs of unwritten pages (p99 0.7-1.4 s at 1M tasks, an artifact of the bench)
    spawnSync("sync");
    proc = await start(dataDir);
    try {
      const tok = await token(dataDir);
      await wrk(proc.url, "/a2a/echo", tok, storeConnections, 1);
      // counted after the warm-up: the tasks the measured run finds already stored
      const at = storedTasks(db);
      const r = await wrk(proc.url, "/a2a/echo", tok, storeConnections, o.seconds);
      const p = point(at, r, fileMiB(db) + fileMiB(`${db}-wal`));
      result.storedTasks.push(p);
      say(`${at} tasks stored`, p);
    } finally {
      await proc.stop();
    }
  }
  return result;
}

export function growthMarkdown(g: GrowthResult): string {
  const mark = (p: GrowthPoint) => (p.notCompleted ? ` (${p.notCompleted} not completed)` : "");
  return [
    "## Growth",
    "",
    `Blocking SendMessage on the echo profile, one wrk run of ${g.seconds} s per level; only completed tasks count. Plot: [growth.svg](growth.svg).`,
    "",
    "| connections | completed/s | p50 ms | p99 ms |",
    "|---|---|---|---|",
    ...g.connections.map(
      (p) => `| ${p.x} | ${p.rps.toFixed(0)}${mark(p)} | ${p.p50ms.toFixed(2)} | ${p.p99ms.toFixed(2)} |`,
    ),
    "",
    `| tasks stored at the start | completed/s (${g.storeConnections} conn) | p50 ms | p99 ms | database MiB after |`,
    "|---|---|---|---|---|",
    ...g.storedTasks.map(
      (p) =>
        `| ${p.x.toLocaleString("en-US")} | ${p.rps.toFixed(0)}${mark(p)} | ${p.p50ms.toFixed(2)} | ${p.p99ms.toFixed(2)} | ${(p.dbMiB ?? 0).toFixed(0)} |`,
    ),
    "",
  ].join("\n");
}

/** Two rows of two panels: completed/s and p99 against connections, then against stored tasks. */
export function growthSvg(g: GrowthResult): string {
  const W = 360;
  const H = 220;
  const panels = [
    {
      title: "completed/s by connections",
      pts: g.connections,
      y: (p: GrowthPoint) => p.rps,
      xl: "connections",
    },
    { title: "p99 ms by connections", pts: g.connections, y: (p: GrowthPoint) => p.p99ms, xl: "connections" },
    {
      title: `completed/s by tasks stored (${g.storeConnections} conn)`,
      pts: g.storedTasks,
      y: (p: GrowthPoint) => p.rps,
      xl: "tasks stored",
    },
    {
      title: `p99 ms by tasks stored (${g.storeConnections} conn)`,
      pts: g.storedTasks,
      y: (p: GrowthPoint) => p.p99ms,
      xl: "tasks stored",
    },
  ];
  const body = panels.map((panel, i) => {
    const ox = (i % 2) * W;
    const oy = Math.floor(i / 2) * H;
    const pts = panel.pts.filter((p) => p.x > 0 && Number.isFinite(panel.y(p)));
    const left = 50;
    const right = W - 30;
    const top = 30;
    const bottom = H - 40;
    const lx = pts.map((p) => Math.log10(p.x));
    const [x0, x1] = [Math.min(...lx), Math.max(...lx)];
    const ymax = Math.max(...pts.map(panel.y), 1e-9) * 1.1;
    const sx = (p: GrowthPoint) => left + ((Math.log10(p.x) - x0) / (x1 - x0 || 1)) * (right - left);
    const sy = (v: number) => bottom - (v / ymax) * (bottom - top);
    const line = pts.map((p) => `${sx(p).toFixed(1)},${sy(panel.y(p)).toFixed(1)}`).join(" ");
    const label = (n: number) =>
      n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
    return [
      `<g transform="translate(${ox},${oy})">`,
      `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${panel.title}</text>`,
      `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#888"/>`,
      `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#888"/>`,
      `<text x="${left - 6}" y="${top + 4}" text-anchor="end" font-size="10">${ymax.toFixed(ymax < 10 ? 1 : 0)}</text>`,
      `<text x="${left - 6}" y="${bottom}" text-anchor="end" font-size="10">0</text>`,
      `<text x="${(left + right) / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${panel.xl} (log scale)</text>`,
      `<polyline fill="none" stroke="#2563eb" stroke-width="2" points="${line}"/>`,
      ...pts.map(
        (p) =>
          `<circle cx="${sx(p).toFixed(1)}" cy="${sy(panel.y(p)).toFixed(1)}" r="3" fill="${p.notCompleted ? "#dc2626" : "#2563eb"}"/>` +
          `<text x="${sx(p).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="10">${label(p.x)}</text>` +
          `<text x="${sx(p).toFixed(1)}" y="${(sy(panel.y(p)) - 7).toFixed(1)}" text-anchor="middle" font-size="9">${panel.y(p).toFixed(panel.y(p) < 10 ? 1 : 0)}</text>`,
      ),
      "</g>",
    ].join("\n");
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${2 * H}" font-family="sans-serif">`,
    "<title>a2a-relay growth: completed/s and p99 by connections and by tasks stored</title>",
    `<rect width="100%" height="100%" fill="white"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

export const growthClean = (g: GrowthResult) =>
  [...g.connections, ...g.storedTasks].every((p) => p.notCompleted === 0);

// internal

function storedTasks(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.query("select count(*) as n from tasks").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function fileMiB(file: string): number {
  try {
    return statSync(file).size / 1024 / 1024;
  } catch {
    return 0;
  }
}

/**
 * Add `n` tasks, each a copy of the newest task the relay wrote (its snapshot, its events and its
 * dispatch row) under a new id, context and messageId, older than any real one and well inside
 * the retention, in batches of 50k per transaction.
 */
function seed(file: string, n: number): void {
  const db = new Database(file);
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF");
    const tpl = db.query("select * from tasks order by created_at desc limit 1").get() as
      | { id: string; created_at: number }
      | undefined;
    if (!tpl) throw new Error(`growth: ${file} has no task to copy`);
    const base = (db.query("select count(*) as n from tasks where id like 'seed-%'").get() as { n: number })
      .n;
    const batch = 50_000;
    for (let done = 0; done < n; done += batch) {
      const from = base + done + 1;
      const to = base + Math.min(n, done + batch);
      db.transaction(() => {
        const range = `with recursive s(i) as (select ${from} union all select i + 1 from s where i < ${to})`;
        const newId = "printf('seed-%09d', s.i)";
        const age = "(s.i * 10)"; // 10 ms apart, the oldest ~3 h before the template at 1M
        db.run(
          `${range} insert into tasks (id, peer, profile, context_id, origin, state, task_json, seq, created_at, updated_at)
           select ${newId}, t.peer, t.profile, printf('seed-ctx-%09d', s.i), t.origin, t.state,
                  replace(replace(t.task_json, t.id, ${newId}), t.context_id, printf('seed-ctx-%09d', s.i)),
                  t.seq, t.created_at - ${age}, t.updated_at - ${age}
           from s, tasks t where t.id = ?`,
          [tpl.id],
        );
        db.run(
          `${range} insert into task_events (task_id, seq, ts, event_json)
           select ${newId}, e.seq, e.ts - ${age}, replace(e.event_json, e.task_id, ${newId})
           from s, task_events e where e.task_id = ?`,
          [tpl.id],
        );
        db.run(
          `${range} insert into dispatches (peer, message_id, task_id, created_at)
           select d.peer, printf('seed-msg-%09d', s.i), ${newId}, d.created_at - ${age}
           from s, dispatches d where d.task_id = ?`,
          [tpl.id],
        );
      })();
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}
