import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type BudgetReport,
  budgetsFromConfig,
  LedgerStore,
  type PeerBudget,
  reportOf,
} from "../budgets/index.ts";
import { adminCall } from "../client/admin.ts";
import { REACH_HELP, REACH_OPTIONS, type Reach, reach } from "../client/reach.ts";
import { loadConfig } from "../config/load.ts";
import type { BudgetConfig } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { currentRuntime } from "../runtime/index.ts";
import { openStore } from "../store/db.ts";
import { type CliIO, type Command, flags } from "./io.ts";

const USAGE = `a2a-relay budget show [PEER] [--json] [--config F] [--data-dir D] [--url URL | --relay NAME]
a2a-relay budget reset PEER [--config F] [--data-dir D] [--url URL | --relay NAME]

  show    each budgeted peer's limits ([peers.X.budget] in the config) and its use in the window
  reset   forget PEER's use so far (turns, tokens, cost, turns per conversation)
  --json  print the reports as JSON

Works on the data dir's database directly (--data-dir, else --config's server.data_dir, else
A2A_RELAY_HOME, else ~/.a2a-relay), so it needs no running relay; a running relay sees a reset at
its next dispatch. Without a config naming PEER, reset and show work on the ledger's rows by peer
name (show then has no limits to compare with). With --url or --relay it asks that running relay
instead (GET /admin/budgets, POST /admin/budgets/PEER/reset: an admin peer's credential), which
also counts the turns running or queued right now.
With [budgets] store (or A2A_RELAY_BUDGET_STORE), show and reset read and write the fleet's
shared ledger on PostgreSQL instead, turns running and queued across the fleet included.

${REACH_HELP}

Examples:
  a2a-relay budget show --data-dir data-b
  a2a-relay budget reset host-a --data-dir data-b
  a2a-relay budget show hermes-main --relay hermes-b`;

export const budget: Command = {
  name: "budget",
  summary: "show or reset per-peer budgets (reads the data dir's database)",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = flags(argv, { ...REACH_OPTIONS, json: { type: "boolean" } });
    const [action, peer, ...extra] = positionals;
    if ((action !== "show" && action !== "reset") || extra.length || (action === "reset" && !peer)) {
      throw new UsageError(`usage:\n${USAGE}`);
    }
    const r = reach(values, io.env);
    if (values.url !== undefined || values.relay !== undefined) {
      return overHttp(r, io, action, peer, { json: values.json, verbose: values.verbose });
    }
    const config = r.config ?? loadConfig({ env: io.env, dataDir: r.dataDir });
    const budgets = budgetsFromConfig(config.peers);
    // no config file names the peer: work on its ledger rows by name (the README's
    // `budget reset host-a --data-dir data-b`)
    const byName = !config.file && peer !== undefined && !budgets.has(peer);
    if (byName) budgets.set(peer, unlimited(peer));
    if (peer && !Object.hasOwn(config.peers, peer) && !byName) {
      throw new UsageError(
        `no peer named "${peer}" in ${config.file} (peers: ${Object.keys(config.peers).join(", ")})`,
      );
    }
    if (peer && !budgets.has(peer)) {
      throw new UsageError(`peer "${peer}" has no budget; add [peers.${peer}.budget] to ${config.file}`);
    }
    const shared = config.budgets.store;
    if (shared) {
      const { withSharedLedger } = await import("../budgets/pg/report.ts");
      const { storeError } = await import("../budgets/pg/errors.ts");
      const chosen = [...budgets.values()].filter((b) => !peer || b.peer === peer);
      const reports = await withSharedLedger(shared, async (ledger) => {
        if (action === "reset") {
          await ledger.reset(peer!);
          return [];
        }
        return Promise.all(chosen.map((b) => ledger.report(b)));
      }).catch((err) => {
        throw storeError(shared, err);
      });
      if (action === "reset")
        io.out(`budget of peer ${peer} reset in ${shared.display} (use so far no longer counts)\n`);
      else if (values.json) io.out(`${JSON.stringify({ budgets: reports }, null, 2)}\n`);
      else io.out(reports.length ? reports.map(format).join("\n") : "no peer has a budget\n");
      return 0;
    }
    const dbPath = join(config.server.dataDir, "relay.db");
    if (!existsSync(dbPath) && action === "show") {
      io.out(`no database at ${dbPath} yet: nothing has been used\n`);
    }
    const store = existsSync(dbPath) || action === "reset" ? openStore(currentRuntime(), dbPath) : undefined;
    try {
      const ledger = store ? new LedgerStore(store.db) : undefined;
      const now = Date.now();
      if (action === "reset") {
        ledger!.resetPeer(peer!, now);
        io.out(`budget of peer ${peer} reset (use so far no longer counts)\n`);
        return 0;
      }
      if (!config.file && !peer && ledger && store) {
        for (const row of store.conn.query<{ peer: string }>("SELECT DISTINCT peer FROM budget_ledger")) {
          if (!budgets.has(row.peer)) budgets.set(row.peer, unlimited(row.peer));
        }
      }
      const chosen = [...budgets.values()].filter((b) => !peer || b.peer === peer);
      const reports = chosen.map((b) =>
        ledger ? reportOf(ledger, b, now) : { ...emptyReport(b.peer, b.window.text) },
      );
      if (values.json) io.out(`${JSON.stringify({ budgets: reports }, null, 2)}\n`);
      else io.out(reports.length ? reports.map(format).join("\n") : "no peer has a budget\n");
      return 0;
    } finally {
      store?.close();
    }
  },
};

// internal

/** A peer known only by its ledger rows: use since its last reset, no limits. */
function unlimited(peer: string): PeerBudget {
  return budgetsFromConfig({ [peer]: { budget: { window: "total" } as BudgetConfig } }).get(peer)!;
}

async function overHttp(
  r: Reach,
  io: CliIO,
  action: "show" | "reset",
  peer: string | undefined,
  o: { json?: boolean | undefined; verbose?: boolean | undefined },
): Promise<number> {
  const at = peer ? `/${encodeURIComponent(peer)}` : "";
  if (action === "reset") {
    await adminCall(r, io, `/admin/budgets${at}/reset`, { method: "POST", verbose: o.verbose });
    io.out(`budget of peer ${peer} reset on ${r.base} (use so far no longer counts)\n`);
    return 0;
  }
  const got = await adminCall<{ budgets: BudgetReport[] } | BudgetReport>(r, io, `/admin/budgets${at}`, {
    verbose: o.verbose,
  });
  const reports = "budgets" in got ? got.budgets : [got];
  if (o.json) io.out(`${JSON.stringify({ budgets: reports }, null, 2)}\n`);
  else io.out(reports.length ? reports.map(format).join("\n") : "no peer has a budget\n");
  return 0;
}

function emptyReport(peer: string, window: string): BudgetReport {
  return { peer, window, limits: {}, used: { turns: 0, tokens: 0, cost_usd: 0 }, exceeded: {} };
}

function format(r: BudgetReport): string {
  const lines = [`peer ${r.peer}: window ${r.window}${r.resetAt ? `, reset at ${r.resetAt}` : ""}`];
  const used: Record<string, number> = {
    max_turns: r.used.turns,
    max_tokens: r.used.tokens,
    max_cost_usd: r.used.cost_usd,
  };
  for (const [limit, max] of Object.entries(r.limits)) {
    const u = used[limit];
    const state =
      limit in r.exceeded
        ? `  EXCEEDED, ${r.exceeded[limit] ? `frees up at ${r.exceeded[limit]}` : "until reset"}`
        : "";
    lines.push(`  ${limit.padEnd(22)} ${u === undefined ? `${max}` : `${u} of ${max}`}${state}`);
  }
  if (Object.keys(r.limits).length === 0)
    lines.push(`  used: ${r.used.turns} turns, ${r.used.tokens} tokens`);
  if (r.running !== undefined) lines.push(`  running ${r.running}, queued ${r.queued ?? 0} (fleet-wide)`);
  return `${lines.join("\n")}\n`;
}
