import { existsSync } from "node:fs";
import { join } from "node:path";
import { describePeers, type PeerSummary } from "../auth/describe.ts";
import { type BudgetReport, budgetsFromConfig, LedgerStore, reportOf } from "../budgets/index.ts";
import { adminCall } from "../client/admin.ts";
import { REACH_HELP, REACH_OPTIONS, reach } from "../client/reach.ts";
import { loadConfig } from "../config/load.ts";
import { currentRuntime } from "../runtime/index.ts";
import { openStore } from "../store/db.ts";
import { type Command, onlyFlags } from "./io.ts";

export const peers: Command = {
  name: "peers",
  summary:
    "configured peers: which credential source resolved (never its value), allowed profiles, budget use",
  usage: `a2a-relay peers [--config F] [--data-dir D] [--url URL | --relay NAME] [--json]

  --json   print the peers as JSON

Reads the config (--config, else A2A_RELAY_CONFIG, else the embedded defaults) and the data dir's
budget use. With --url or --relay it asks that running relay instead (GET /admin/peers and
/admin/budgets: an admin peer's credential).

${REACH_HELP}

Example: a2a-relay peers --config b.toml --data-dir data-b`,
  async run(argv, io) {
    const { values } = onlyFlags(argv, { ...REACH_OPTIONS, json: { type: "boolean" } });
    const r = reach(values, io.env);
    let list: Array<PeerSummary & { budget: BudgetReport | null }>;
    if (values.url !== undefined || values.relay !== undefined) {
      const o = { verbose: values.verbose };
      const got = await adminCall<{ peers: PeerSummary[] }>(r, io, "/admin/peers", o);
      const used = await adminCall<{ budgets: BudgetReport[] }>(r, io, "/admin/budgets", {});
      const byPeer = new Map(used.budgets.map((b) => [b.peer, b]));
      list = got.peers.map((p) => ({ ...p, budget: byPeer.get(p.name) ?? null }));
    } else {
      const config = r.config ?? loadConfig({ env: io.env, dataDir: r.dataDir });
      const budgets = config.budgets.store ? await sharedUse(config) : budgetUse(config);
      list = describePeers(config).map((p) => ({ ...p, budget: budgets.get(p.name) ?? null }));
    }
    if (values.json) {
      io.out(`${JSON.stringify({ peers: list }, null, 2)}\n`);
      return 0;
    }
    const lines: string[] = [];
    for (const p of list) {
      const c = p.credential;
      lines.push(`${p.name}${p.admin ? " (admin)" : ""}: profiles ${p.profiles.join(", ")}`);
      lines.push(`  token: ${c.source} ${c.resolved ? "resolved" : `NOT resolved (${c.error})`}`);
      if (p.jwt) {
        const j = p.jwt;
        const state = j.resolved ? "resolved" : `NOT resolved (${j.error})`;
        lines.push(`  jwt:   ${j.kind} ${j.source}, issuer ${j.issuer}, ${j.algorithms.join("/")}: ${state}`);
      }
      if (p.budget) {
        const u = p.budget.used;
        const l = p.budget.limits as Record<string, number | undefined>;
        const of = (n: number, max: number | undefined) => (max === undefined ? `${n}` : `${n}/${max}`);
        lines.push(
          `  budget (${p.budget.window}): turns ${of(u.turns, l.max_turns)}, tokens ${of(u.tokens, l.max_tokens)}, cost $${of(u.cost_usd, l.max_cost_usd)}`,
        );
      }
    }
    io.out(`${lines.join("\n")}\n`);
    return 0;
  },
};

// internal

/** Budget use per budgeted peer from the fleet's shared ledger (`[budgets] store`). */
async function sharedUse(config: ReturnType<typeof loadConfig>): Promise<Map<string, BudgetReport>> {
  const shared = config.budgets.store!;
  const budgets = [...budgetsFromConfig(config.peers).values()];
  const { withSharedLedger } = await import("../budgets/pg/report.ts");
  const { storeError } = await import("../budgets/pg/errors.ts");
  const reports = await withSharedLedger(shared, (l) => Promise.all(budgets.map((b) => l.report(b)))).catch(
    (err) => {
      throw storeError(shared, err);
    },
  );
  return new Map(reports.map((r) => [r.peer, r]));
}

/** Budget use per budgeted peer, read from the data dir's database (none yet: nothing used). */
function budgetUse(config: ReturnType<typeof loadConfig>): Map<string, BudgetReport> {
  const out = new Map<string, BudgetReport>();
  const budgets = budgetsFromConfig(config.peers);
  const dbPath = join(config.server.dataDir, "relay.db");
  if (budgets.size === 0 || !existsSync(dbPath)) return out;
  const store = openStore(currentRuntime(), dbPath);
  try {
    const ledger = new LedgerStore(store.db);
    for (const b of budgets.values()) out.set(b.peer, reportOf(ledger, b, Date.now()));
  } finally {
    store.close();
  }
  return out;
}
