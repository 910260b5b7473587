import { realTimers, type Timers } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { SqliteConnection } from "../runtime/index.ts";
import { type PruneCounts, prune } from "./retention.ts";
import type { Writer } from "./writer.ts";

/**
 * The relay's retention pass, every `everyMs` while it runs: prune what `retainMs` lets go through
 * the group-commit writer (so a batch is one short transaction among the requests' own).
 */
export function startRetention(o: {
  conn: SqliteConnection;
  writer: Writer;
  retainMs: number;
  ledgerCutoff: (peer: string, now: number) => number;
  logger: Logger;
  /** Also delete rotated transcript files older than the retention (`<data dir>/transcripts`). */
  pruneFiles?: (cutoff: number) => number;
  now?: () => number;
  timers?: Timers;
  everyMs?: number;
}): { stop(): Promise<void>; runOnce(): Promise<PruneCounts> } {
  const now = o.now ?? Date.now;
  // often enough that a short retention keeps the file flat; at most every 10 minutes
  const every = o.everyMs ?? Math.min(Math.max(o.retainMs / 10, 10_000), 600_000);
  let running: Promise<PruneCounts> | undefined;
  let stopped = false;
  const runOnce = () => {
    running ??= (async () => {
      const t = now();
      try {
        const counts = await prune(o.conn, {
          cutoff: t - o.retainMs,
          ledgerCutoff: (peer) => o.ledgerCutoff(peer, t),
          write: (fn) => o.writer.run(fn),
        });
        const transcripts = o.pruneFiles?.(t - o.retainMs) ?? 0;
        if (counts.tasks || counts.ledger || counts.dispatches || transcripts) {
          o.logger.info({ ...counts, transcriptFiles: transcripts }, "retention: pruned");
        }
        return counts;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timers = o.timers ?? realTimers;
  let timer: unknown;
  // the next pass is armed when this one ends: a slow pass never overlaps the next
  const arm = () => {
    timer = timers.setTimeout(() => {
      if (stopped) return;
      runOnce()
        .catch((err) => o.logger.warn({ err: String(err) }, "retention pass failed"))
        .finally(() => {
          if (!stopped) arm();
        });
    }, every);
    (timer as { unref?: () => void }).unref?.();
  };
  arm();
  return {
    runOnce,
    async stop() {
      stopped = true;
      timers.clearTimeout(timer);
      // a failed pass was logged where it ran (the timer above, or runOnce's caller)
      await running?.catch(() => {});
    },
  };
}
