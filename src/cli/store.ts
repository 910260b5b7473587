import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { budgetsFromConfig, ledgerHorizon } from "../budgets/index.ts";
import { loadConfig } from "../config/load.ts";
import { parseDuration } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { currentRuntime } from "../runtime/index.ts";
import { openStore } from "../store/db.ts";
import { prune, storeStats, transactionWrite } from "../store/retention.ts";
import { pruneTranscripts, transcriptRoot } from "../transcripts/index.ts";
import { type Command, flags } from "./io.ts";

const USAGE = `a2a-relay store stats [--json] [--config F] [--data-dir D]
a2a-relay store prune [--older-than DURATION] [--config F] [--data-dir D]

  stats   the database's size (file, WAL, free pages), rows per table and the oldest task
  prune   delete terminal tasks (with their events and push deliveries), retry records and idle
          sessions older than DURATION (default: [store] retain, e.g. "30d"; "0s" removes every
          terminal task), and budget ledger rows no window counts any more

Works on the data dir's database directly and is safe while the relay runs: it deletes in small
batches, each its own short transaction. The data dir: --data-dir, else --config's
server.data_dir, else A2A_RELAY_HOME, else ~/.a2a-relay.

Examples:
  a2a-relay store stats --data-dir /var/lib/a2a-relay
  a2a-relay store prune --older-than 7d`;

export const store: Command = {
  name: "store",
  summary: "database size and rows; prune old tasks (reads the data dir's database)",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = flags(argv, {
      config: { type: "string" },
      "data-dir": { type: "string" },
      "older-than": { type: "string" },
      json: { type: "boolean" },
    });
    const [action, ...extra] = positionals;
    if ((action !== "stats" && action !== "prune") || extra.length) throw new UsageError(`usage:\n${USAGE}`);
    const config = loadConfig({ file: values.config, env: io.env, dataDir: values["data-dir"] });
    const dbPath = join(config.server.dataDir, "relay.db");
    if (!existsSync(dbPath)) {
      io.out(`no database at ${dbPath} yet\n`);
      return 0;
    }
    const s = openStore(currentRuntime(), dbPath);
    try {
      if (action === "stats") {
        const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
        const stats = {
          file: dbPath,
          bytes: size(dbPath),
          walBytes: size(`${dbPath}-wal`),
          ...storeStats(s.conn),
        };
        if (values.json) io.out(`${JSON.stringify(stats, null, 2)}\n`);
        else for (const [k, v] of Object.entries(stats)) io.out(`${k.padEnd(13)} ${v}\n`);
        return 0;
      }
      const text = values["older-than"] ?? config.store.retain;
      const ms = text === "0" ? 0 : parseDuration(text);
      if (ms === undefined) {
        throw new UsageError(`--older-than: "${text}" is not a duration (e.g. "30d", "12h", "90m", "0s")`);
      }
      const now = Date.now();
      const budgets = budgetsFromConfig(config.peers);
      const counts = await prune(s.conn, {
        cutoff: now - ms,
        ledgerCutoff: (peer) => ledgerHorizon(budgets.get(peer), now, now - ms),
        write: transactionWrite(s.conn),
      });
      const files = pruneTranscripts(transcriptRoot(config.server.dataDir), now - ms);
      io.out(
        `pruned ${counts.tasks} tasks (${counts.events} events, ${counts.pushOutbox} push deliveries), ${counts.dispatches} retry records, ${counts.sessions} sessions, ${counts.ledger} ledger rows, ${files} rotated transcript files older than ${text}\n`,
      );
      return 0;
    } finally {
      s.close();
    }
  },
};
