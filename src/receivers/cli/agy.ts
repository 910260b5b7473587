import type { StoredSession } from "../../store/sessions.ts";
import type { CliAdapter, CliOutcome, CliParser, Invocation } from "./types.ts";
import { short, str, tailLines } from "./util.ts";

/**
 * Antigravity: `agy --conversation <uuid> --print PROMPT --dangerously-skip-permissions --add-dir
 * <workdir> --print-timeout <N>s`. It prints the whole conversation every turn, so the new reply is
 * the output minus the output saved after the previous turn. When that prefix no longer matches
 * ("prefix drift"), the whole output is returned and the drift is flagged.
 */
export const agy: CliAdapter = {
  handler: "agy",
  defaultCommand: "agy",
  build(ctx): Invocation {
    const resumed = ctx.session !== undefined;
    const sessionId = ctx.session?.sessionId ?? ctx.newId();
    const timeout = Math.max(1, Math.floor(ctx.config.turn_timeout_s));
    const args = [
      "--conversation",
      sessionId,
      "--print",
      ctx.prompt,
      "--dangerously-skip-permissions",
      "--add-dir",
      ctx.workdir,
      "--print-timeout",
      `${timeout}s`,
      ...ctx.config.args,
    ];
    return { args, env: {}, files: [], sessionId, resumed };
  },
  parser: ({ session, invocation }) => agyParser(session, invocation.sessionId),
};

export function agyParser(session: StoredSession | undefined, sessionId?: string): CliParser {
  const lines: string[] = [];
  let size = 0;
  return {
    line(line) {
      if (size < 8 * 1024 * 1024) {
        lines.push(line);
        size += line.length + 1;
      }
      return line.trim() ? { progress: short(line) } : undefined;
    },
    finish(code, stderrTail): CliOutcome {
      const output = lines.join("\n").trim();
      // The session (and its saved output) is kept only after a good turn: a failed one would
      // make the next prefix wrong.
      const sid = sessionId ? { sessionId } : {};
      if (code !== 0) {
        const error = `agy exited with code ${code ?? "(killed)"}: ${tailLines(stderrTail) || tailLines(output) || "(no output)"}`;
        return { ok: false, text: error, error };
      }
      if (!output) {
        const error = "agy printed nothing and exited 0: is it signed in? (run agy once interactively)";
        return { ok: false, text: error, error };
      }
      const { reply, drift } = newReply(str(session?.data?.output), output);
      return {
        ok: true,
        text: reply,
        ...sid,
        data: { output },
        ...(drift ? { flags: { prefixDrift: true } } : {}),
      };
    },
  };
}

/** The part of `output` after the previously printed `previous`; drift when it is not a prefix. */
export function newReply(previous: string | undefined, output: string): { reply: string; drift: boolean } {
  if (!previous) return { reply: output, drift: false };
  if (output.startsWith(previous)) return { reply: output.slice(previous.length).trim(), drift: false };
  return { reply: output, drift: true };
}
