import type { PgCalls } from "./connect.ts";
import type { BatchResult, Gates, PeerUse, WireOp } from "./wire.ts";

/** The second a counted turn admitted at `ts` is kept in: its last millisecond (leaves windows ≤ 1 s late). */
function secondOf(ts: number): number {
  return Math.floor(ts / 1000) * 1000 + 999;
}

/**
 * One set-based call of a2a_relay_count: the ends of rows (`f`) and of counted turns (`c`), then
 * the admissions (`a`), as arrays. One result per operation, in order: an end `done` or `lost`;
 * an admission `refused`, or `started`/`reserved` with its row id or its counted key.
 */
export async function countCall(
  calls: PgCalls,
  holder: string,
  g: Gates,
  now: number,
  ops: WireOp[],
): Promise<BatchResult[]> {
  const f = { id: [] as number[], refund: [] as boolean[], tokens: [] as number[], cost: [] as number[] };
  const a = { profile: [] as string[], ctx: [] as string[], task: [] as string[], ts: [] as number[] };
  // counted ends, grouped: per lease (its counter), and per lease, second, reset and profile (its usage)
  const leases = new Map<number, number>();
  const groups = new Map<string, Group>();
  for (const op of ops) {
    if (op.k === "f") {
      f.id.push(op.id);
      f.refund.push(op.refund);
      f.tokens.push(op.tokens);
      f.cost.push(op.cost);
    } else if (op.k === "c") {
      leases.set(op.lease, (leases.get(op.lease) ?? 0) + 1);
      const key = `${op.lease}/${op.ts}/${op.gen}/${op.profile}`;
      let g = groups.get(key);
      if (!g) {
        g = {
          lease: op.lease,
          ts: op.ts,
          gen: op.gen,
          profile: op.profile,
          n: 0,
          refunds: 0,
          tokens: 0,
          cost: 0,
          mt: null,
          mc: null,
        };
        groups.set(key, g);
      }
      g.n++;
      if (op.refund) g.refunds++;
      else {
        g.tokens += op.tokens;
        g.cost += op.cost;
        g.mt = Math.max(g.mt ?? 0, op.tokens);
        g.mc = Math.max(g.mc ?? 0, op.cost);
      }
    } else if (op.k === "a") {
      a.profile.push(op.profile);
      a.ctx.push(op.ctx);
      a.task.push(op.task);
      a.ts.push(secondOf(op.ts));
    }
  }
  const gs = [...groups.values()];
  const col = <K extends keyof Group>(k: K) => list(gs.map((g) => g[k]));
  const [row] = (await calls`select * from a2a_relay_count(
      ${g.peer}, ${holder}, ${now}, ${g.wnd}, ${g.since},
      ${g.maxTurns}, ${g.maxTokens}, ${g.maxCost}, ${g.maxInflight}, ${g.maxConcurrent},
      ${list(f.id)}::bigint[], ${list(f.refund)}::boolean[], ${list(f.tokens)}::float8[], ${list(f.cost)}::float8[],
      ${list([...leases.keys()])}::bigint[], ${list([...leases.values()])}::bigint[],
      ${col("lease")}::bigint[], ${col("ts")}::bigint[], ${col("gen")}::bigint[], ${col("profile")}::text[],
      ${col("n")}::bigint[], ${col("refunds")}::bigint[], ${col("tokens")}::float8[], ${col("cost")}::float8[],
      ${col("mt")}::float8[], ${col("mc")}::float8[],
      ${list(a.profile)}::text[], ${list(a.ctx)}::text[], ${list(a.task)}::text[], ${list(a.ts)}::bigint[])`) as CountRow[];
  if (!row) throw new Error("a2a_relay_count returned no row");
  const lost = new Set(arrayOf(row.o_lost).map(Number));
  const lostLeases = new Set(arrayOf(row.o_lost_leases).map(Number));
  const ids = arrayOf(row.o_ids).map(Number);
  const k = Number(row.o_k);
  const m = Number(row.o_m);
  const lease = row.o_lease === null ? undefined : Number(row.o_lease);
  const gen = Number(row.o_gen);
  // the use a refused admission was checked against (all come after the admitted ones)
  const use: PeerUse = {
    turns: Number(row.o_turns),
    tokens: Number(row.o_tokens),
    cost: Number(row.o_cost),
    running: Number(row.o_running),
    inflight: Number(row.o_inflight),
    contextTurns: 0,
  };
  const out: BatchResult[] = [];
  let ai = 0;
  let ri = 0;
  for (const op of ops) {
    if (op.k === "f") out.push({ id: op.id, status: lost.has(op.id) ? "lost" : "done", use });
    else if (op.k === "c")
      out.push({ id: undefined, status: lostLeases.has(op.lease) ? "lost" : "done", use });
    else if (op.k === "a") {
      const i = ++ai;
      if (i > k) out.push({ id: undefined, status: "refused", use });
      else if (lease !== undefined && i <= m)
        out.push({
          id: undefined,
          counted: { lease, ts: secondOf(op.ts), gen, profile: op.profile },
          status: "started",
          use,
        });
      else out.push({ id: ids[ri++], status: i <= m ? "started" : "reserved", use });
    }
  }
  return out;
}

// internal

/** An array literal of PostgreSQL (`{1,2}`, `{"a","b\\"c"}`), sent as text and cast in the query. */
function list(xs: ReadonlyArray<string | number | boolean | null>): string {
  const item = (x: string | number | boolean | null) =>
    x === null ? "NULL" : typeof x === "string" ? `"${x.replace(/[\\"]/g, "\\$&")}"` : String(x);
  return `{${xs.map(item).join(",")}}`;
}

/** An array column as a client returns it: an array (Bun's client, postgres.js) or its text. */
function arrayOf(v: unknown): Array<string | number> {
  if (Array.isArray(v)) return v as Array<string | number>;
  if (typeof v !== "string" || v === "{}" || v === "") return [];
  return v.slice(1, -1).split(",");
}

/** Counted ends of one lease, second, reset and profile: how many, refunded, usage, largest usage of one. */
interface Group {
  lease: number;
  ts: number;
  gen: number;
  profile: string;
  n: number;
  refunds: number;
  tokens: number;
  cost: number;
  mt: number | null;
  mc: number | null;
}

interface CountRow {
  o_lost: unknown;
  o_lost_leases: unknown;
  o_lease: string | number | null;
  o_gen: string | number;
  o_k: number;
  o_m: number;
  o_ids: unknown;
  o_turns: string | number;
  o_tokens: number;
  o_cost: number;
  o_running: number;
  o_inflight: number;
}
