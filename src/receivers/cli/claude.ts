import type { Usage } from "../types.ts";
import { apiKey } from "./env.ts";
import type { CliAdapter, CliOutcome, CliParser, Invocation } from "./types.ts";
import { explain, jsonLine, num, obj, sessionArgs, short, str, tailLines } from "./util.ts";

/**
 * Claude Code: `claude -p PROMPT --output-format stream-json --verbose`, `--session-id <uuid>` on
 * the first turn of a conversation and `--resume <uuid>` after. Errors are `is_error` on the
 * result object (its `subtype` may still say "success").
 */
export const claude: CliAdapter = {
  handler: "claude",
  defaultCommand: "claude",
  build(ctx): Invocation {
    const { config } = ctx;
    const { args, sessionId, resumed } = sessionArgs(
      ctx,
      ["--verbose", "--permission-mode", "acceptEdits"],
      "--model",
    );
    const env: Record<string, string> = {
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      // Fail fast instead of retrying for minutes; the relay reports the error.
      CLAUDE_CODE_MAX_RETRIES: "0",
      API_TIMEOUT_MS: "60000",
    };
    if (config.base_url) env.ANTHROPIC_BASE_URL = config.base_url;
    const key = apiKey(ctx);
    if (key) env.ANTHROPIC_API_KEY = key;
    return { args, env, files: [], sessionId, resumed };
  },
  parser: () => claudeParser(),
};

/** Parses stream-json lines, and also the single object of `--output-format json`. */
export function claudeParser(): CliParser {
  let sessionId: string | undefined;
  let result: Record<string, unknown> | undefined;
  let lastText = "";
  return {
    line(line) {
      const ev = jsonLine(line);
      if (!ev) return undefined;
      sessionId = str(ev.session_id) ?? sessionId;
      if (ev.type === "result") {
        result = ev;
        return undefined;
      }
      if (ev.type !== "assistant") return undefined;
      const content = obj(ev.message).content;
      const notes: string[] = [];
      for (const b of Array.isArray(content) ? content : []) {
        const block = obj(b);
        if (block.type === "tool_use") notes.push(toolNote(str(block.name) ?? "tool", obj(block.input)));
        if (block.type === "text" && str(block.text)) {
          lastText = str(block.text)!;
          notes.push(short(lastText));
        }
      }
      return notes.length ? { progress: notes.join("; ") } : undefined;
    },
    finish(code, stderrTail): CliOutcome {
      if (!result) {
        if (code === 0 && !lastText) {
          return fail(
            "claude printed nothing and exited 0: is it signed in (claude login) or is ANTHROPIC_API_KEY set?",
            sessionId,
          );
        }
        return fail(
          `claude exited with code ${code ?? "(killed)"} without a result: ${tailLines(stderrTail) || "(no stderr)"}`,
          sessionId,
        );
      }
      const text = str(result.result) ?? "";
      const usage = claudeUsage(result);
      const sid = str(result.session_id) ?? sessionId;
      if (result.is_error === true || (str(result.subtype) ?? "success") !== "success") {
        const errors = Array.isArray(result.errors) ? result.errors.filter((e) => typeof e === "string") : [];
        const why =
          result.subtype === "error_max_turns"
            ? `claude reached its maximum number of turns (${errors.join("; ") || "--max-turns"}): raise it in profile args or split the task`
            : `claude reported an error: ${explain(text || errors.join("; ") || tailLines(stderrTail, 3) || str(result.subtype) || "unknown error", num(result.api_error_status))}`;
        return { ...fail(why, sid), text: text || why, usage };
      }
      return { ok: true, text, usage, ...(sid ? { sessionId: sid } : {}) };
    },
  };
}

function claudeUsage(r: Record<string, unknown>): Usage {
  const u = obj(r.usage);
  const usage: Usage = {
    inputTokens:
      (num(u.input_tokens) ?? 0) +
      (num(u.cache_creation_input_tokens) ?? 0) +
      (num(u.cache_read_input_tokens) ?? 0),
    outputTokens: num(u.output_tokens) ?? 0,
  };
  const cost = num(r.total_cost_usd);
  if (cost !== undefined) usage.costUsd = cost;
  return usage;
}

function toolNote(name: string, input: Record<string, unknown>): string {
  const what = str(input.file_path) ?? str(input.path) ?? str(input.command) ?? str(input.pattern) ?? "";
  return short(`${name} ${what}`.trim());
}

function fail(error: string, sessionId: string | undefined): CliOutcome {
  return { ok: false, text: error, error, ...(sessionId ? { sessionId } : {}) };
}
