import { join } from "node:path";
import type { Usage } from "../types.ts";
import { apiKey } from "./env.ts";
import type { CliAdapter, CliOutcome, CliParser, Invocation } from "./types.ts";
import { explain, jsonLine, num, obj, sessionArgs, short, str, tailLines } from "./util.ts";

/**
 * Gemini CLI: `gemini -p PROMPT --output-format stream-json --approval-mode auto_edit`, with
 * `--session-id <uuid>` on the first turn and `--resume <uuid>` after. With `base_url` or
 * `api_key_env`, GEMINI_CLI_HOME is a per-profile dir whose settings select API-key auth. Errors:
 * a JSON object on stderr and a non-zero exit code.
 */
export const gemini: CliAdapter = {
  handler: "gemini",
  defaultCommand: "gemini",
  build(ctx): Invocation {
    const { config } = ctx;
    const env: Record<string, string> = { GEMINI_CLI_TRUST_WORKSPACE: "true" };
    const files: Invocation["files"] = [];
    if (config.base_url) env.GOOGLE_GEMINI_BASE_URL = config.base_url;
    const key = apiKey(ctx);
    if (key) env.GEMINI_API_KEY = key;
    if (config.base_url || config.api_key_env) {
      // Its own home (settings and sessions) under the relay's data dir: the system settings
      // path is refused when any parent directory is world-writable (/tmp).
      const home = join(ctx.stateDir, "gemini");
      env.GEMINI_CLI_HOME = home;
      files.push({ path: join(home, ".gemini", "settings.json"), content: geminiSettings() });
    }
    const { args, sessionId, resumed } = sessionArgs(ctx, ["--approval-mode", "auto_edit"], "-m");
    return { args, env, files, sessionId, resumed };
  },
  parser: () => geminiParser(),
};

function geminiSettings(): string {
  return `${JSON.stringify(
    {
      security: { auth: { selectedType: "gemini-api-key" } },
      general: { disableAutoUpdate: true, disableUpdateNag: true },
      telemetry: { enabled: false },
      privacy: { usageStatisticsEnabled: false },
    },
    null,
    2,
  )}\n`;
}

/** Parses stream-json lines; also the pretty-printed single object of `--output-format json`. */
export function geminiParser(): CliParser {
  let sessionId: string | undefined;
  let text = "";
  let result: Record<string, unknown> | undefined;
  let raw = "";
  return {
    line(line) {
      if (raw.length < 4 * 1024 * 1024) raw += `${line}\n`;
      const ev = jsonLine(line);
      if (!ev) return undefined;
      sessionId = str(ev.session_id) ?? sessionId;
      switch (ev.type) {
        case "message":
          if (ev.role !== "assistant") return undefined;
          text = ev.delta === true ? text + (str(ev.content) ?? "") : (str(ev.content) ?? "");
          return { progress: short(text) };
        case "tool_use": {
          const p = obj(ev.parameters);
          const what = str(p.file_path) ?? str(p.path) ?? str(p.command) ?? "";
          return { progress: short(`${str(ev.tool_name) ?? "tool"} ${what}`.trim()) };
        }
        case "tool_result":
          return ev.status === "success"
            ? undefined
            : { progress: short(`tool failed: ${JSON.stringify(ev.error ?? ev.status)}`) };
        case "error":
          return { progress: short(str(ev.message) ?? "error") };
        case "result":
          result = ev;
          return undefined;
      }
      return undefined;
    },
    finish(code, stderrTail): CliOutcome {
      let usage: Usage | undefined;
      let errorObj: Record<string, unknown> | undefined;
      if (result) {
        const s = obj(result.stats);
        usage = { inputTokens: num(s.input_tokens) ?? 0, outputTokens: num(s.output_tokens) ?? 0 };
        if (result.status !== "success") errorObj = obj(result.error);
      } else {
        const whole = jsonLine(raw.replace(/\n/g, " "));
        if (whole) {
          sessionId = str(whole.session_id) ?? sessionId;
          if (str(whole.response) !== undefined) text = str(whole.response)!;
          usage = statsUsage(obj(whole.stats));
          if (whole.error) errorObj = obj(whole.error);
        }
      }
      errorObj ??= code === 0 ? undefined : stderrError(stderrTail);
      const sid = sessionId ? { sessionId } : {};
      const u = usage ? { usage } : {};
      if (errorObj || code !== 0) {
        const message = str(errorObj?.message) ?? "";
        const status = num(errorObj?.code) ?? innerStatus(message);
        const why = message ? explain(innerMessage(message), status) : tailLines(stderrTail) || "(no stderr)";
        const error = `gemini failed (exit code ${code ?? "(killed)"}): ${why}`;
        return { ok: false, text: error, error, ...sid, ...u };
      }
      if (!result && !text && !sessionId) {
        const error = "gemini printed nothing and exited 0: is it signed in, or GEMINI_API_KEY set?";
        return { ok: false, text: error, error };
      }
      return { ok: true, text, ...sid, ...u };
    },
  };
}

function statsUsage(stats: Record<string, unknown>): Usage {
  let inputTokens = 0;
  let outputTokens = 0;
  for (const m of Object.values(obj(stats.models))) {
    const t = obj(obj(m).tokens);
    inputTokens += num(t.input) ?? num(t.prompt) ?? 0;
    outputTokens += num(t.candidates) ?? 0;
  }
  return { inputTokens, outputTokens };
}

/** The last JSON object on stderr with an `error` field (Gemini prints it after its stack traces). */
function stderrError(stderr: string): Record<string, unknown> | undefined {
  for (let i = stderr.lastIndexOf("{"); i >= 0; i = stderr.lastIndexOf("{", i - 1)) {
    const v = jsonLine(stderr.slice(i).replace(/\n/g, " "));
    if (v?.error && typeof v.error === "object") return obj(v.error);
    if (i === 0) break;
  }
  return undefined;
}

/** Gemini wraps the API's JSON error in the message string. */
function innerMessage(message: string): string {
  return str(obj(innerJson(message)?.error).message) ?? message;
}

function innerStatus(message: string): number | undefined {
  return num(obj(innerJson(message)?.error).code);
}

/** `[API Error: {"error":{…}}]` → the object. */
function innerJson(message: string): Record<string, unknown> | undefined {
  const a = message.indexOf("{");
  const b = message.lastIndexOf("}");
  return a >= 0 && b > a ? jsonLine(message.slice(a, b + 1)) : undefined;
}
