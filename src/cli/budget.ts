import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BudgetReport, budgetsFromConfig, LedgerStore, reportOf } from "../budgets/index.ts";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { currentRuntime } from "../runtime/index.ts";
import { openStore } from "../store/db.ts";
import type { Command } from "./io.ts";

const USAGE = `a2a-relay budget show [PEER] [--json] [--config F] [--data-dir D]
a2a-relay budget reset PEER [--config F] [--data-dir D]

  show    each budgeted peer's limits ([peers.X.budget] in the config) and its use in the window
  reset   forget PEER's use so far (turns, tokens, cost, turns per conversation)

Works on the data dir's database directly (A2A_RELAY_HOME, --data-dir, or server.data_dir), so it
needs no running relay; a running relay sees a reset at its next dispatch. Turns running or
queued right now are only visible to the relay itself: GET /admin/budgets.`;

export const budget: Command = {
  name: "budget",
  summary: "show or reset per-peer budgets (reads the data dir's database)",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        "data-dir": { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    });
    const [action, peer, ...extra] = positionals;
    if ((action !== "show" && action !== "reset") || extra.length || (action === "reset" && !peer)) {
      throw new UsageError(`usage:\n${USAGE}`);
    }
    const config = loadConfig({ file: values.config, env: io.env, dataDir: values["data-dir"] });
    const budgets = budgetsFromConfig(config.peers);
    if (peer && !Object.hasOwn(config.peers, peer)) {
      throw new UsageError(`no peer named "${peer}" (peers: ${Object.keys(config.peers).join(", ")})`);
    }
    if (peer && !budgets.has(peer)) {
      throw new UsageError(`peer "${peer}" has no budget; add [peers.${peer}.budget] to the config`);
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
  return `${lines.join("\n")}\n`;
}
