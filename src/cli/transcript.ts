import { adminCall } from "../client/admin.ts";
import { REACH_HELP, REACH_OPTIONS, reach } from "../client/reach.ts";
import { UsageError } from "../errors.ts";
import {
  followTranscript,
  readTranscript,
  type TranscriptLine,
  transcriptRoot,
} from "../transcripts/index.ts";
import { type Command, flags } from "./io.ts";

const USAGE = `a2a-relay transcript PEER [--profile P] [--context C] [--limit N] [--follow] [--json]
                    [--config F] [--data-dir D] [--url URL | --relay NAME]

  --profile P   only that profile (default: every profile, merged by time)
  --context C   only that conversation, namespaced: a2a:<peer>:<contextId> or local:<contextId>
  --limit N     the last N lines (default: all)
  --follow      keep printing lines as they are appended (Ctrl-C to stop)
  --json        one JSON object a line, as stored

Reads <data dir>/transcripts/<profile>/<peer>.jsonl (and its rotated .1, .2, …) directly; the data
dir is --data-dir, else --config's server.data_dir, else A2A_RELAY_HOME, else ~/.a2a-relay. With
--url or --relay it asks that running relay (GET /admin/transcripts/PEER; no --follow).

${REACH_HELP}

Example: a2a-relay transcript host-a --data-dir data-b --limit 20`;

export interface TranscriptDeps {
  /** Poll interval of --follow (tests make it short). */
  intervalMs?: number;
}

export function transcriptCommand(deps: TranscriptDeps = {}): Command {
  return {
    name: "transcript",
    summary: "read a peer's transcripts (from the data dir)",
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = flags(argv, {
        profile: { type: "string" },
        context: { type: "string" },
        limit: { type: "string" },
        follow: { type: "boolean" },
        json: { type: "boolean" },
        ...REACH_OPTIONS,
      });
      const [peer, ...extra] = positionals;
      if (!peer || extra.length) throw new UsageError(`usage:\n${USAGE}`);
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
        throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`);
      }
      const r = reach(values, io.env);
      const print = (l: TranscriptLine) => io.out(values.json ? `${JSON.stringify(l)}\n` : human(l));
      if (values.url !== undefined || values.relay !== undefined) {
        if (values.follow)
          throw new UsageError("--follow reads the data dir: use --data-dir, not --url/--relay");
        const q = new URLSearchParams({ limit: String(limit ?? 100_000) });
        if (values.profile) q.set("profile", values.profile);
        if (values.context) q.set("context", values.context);
        const got = await adminCall<{ lines: TranscriptLine[] }>(
          r,
          io,
          `/admin/transcripts/${encodeURIComponent(peer)}?${q}`,
          { verbose: values.verbose },
        );
        for (const l of got.lines) print(l);
        if (!got.lines.length && !values.json) io.err(`no transcript lines for peer ${peer} on ${r.base}\n`);
        return 0;
      }
      const root = transcriptRoot(r.dataDir);
      const lines = readTranscript(root, peer, { profile: values.profile, context: values.context, limit });
      for (const l of lines) print(l);
      if (!values.follow) {
        if (!lines.length && !values.json) io.err(`no transcript lines for peer ${peer} in ${root}\n`);
        return 0;
      }
      const stop = new AbortController();
      void io.stopSignal.then(() => stop.abort());
      await followTranscript(
        root,
        peer,
        { profile: values.profile, intervalMs: deps.intervalMs, signal: stop.signal },
        (l) => {
          if (!values.context || l.context === values.context) print(l);
        },
      );
      return 0;
    },
  };
}

export const transcript = transcriptCommand();

// internal

function human(l: TranscriptLine): string {
  const arrow = l.dir === "in" ? "→" : "←";
  const usage = l.usage ? ` (${(l.usage.inputTokens ?? 0) + (l.usage.outputTokens ?? 0)} tokens)` : "";
  const state =
    l.state && l.state !== "TASK_STATE_COMPLETED" ? ` [${l.state.replace("TASK_STATE_", "")}]` : "";
  const text = l.text.replace(/\n/g, "\n    ");
  return `${l.ts} ${l.profile} ${l.context} ${arrow} ${l.role}${state}${usage}: ${text}\n`;
}
