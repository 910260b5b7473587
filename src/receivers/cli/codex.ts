import { join } from "node:path";
import type { Usage } from "../types.ts";
import { apiKey } from "./env.ts";
import type { CliAdapter, CliOutcome, CliParser, Invocation } from "./types.ts";
import { explain, jsonLine, num, obj, short, str, tailLines } from "./util.ts";

const KEY_VAR = "A2A_RELAY_CODEX_API_KEY";

/**
 * Codex CLI: `codex exec --json --skip-git-repo-check -s workspace-write [-m M] PROMPT`, resumed
 * with `... resume <thread_id> PROMPT`. With `base_url`, a config.toml in a per-profile CODEX_HOME
 * points it at that Responses endpoint (the key travels in an env var, never in the file).
 */
export const codex: CliAdapter = {
  handler: "codex",
  defaultCommand: "codex",
  build(ctx): Invocation {
    const { config } = ctx;
    const files: Invocation["files"] = [];
    const env: Record<string, string> = {};
    if (config.base_url) {
      const home = join(ctx.stateDir, "codex");
      env.CODEX_HOME = home;
      files.push({ path: join(home, "config.toml"), content: codexConfig(config.base_url) });
      const key = apiKey(ctx);
      if (key) env[KEY_VAR] = key;
    }
    const resumed = ctx.session !== undefined;
    const args = [
      "exec",
      "--json",
      "--skip-git-repo-check",
      "-s",
      "workspace-write",
      ...(config.model ? ["-m", config.model] : []),
      ...config.args,
      ...(resumed ? ["resume", ctx.session!.sessionId] : []),
      ctx.prompt,
    ];
    return { args, env, files, resumed, ...(resumed ? { sessionId: ctx.session!.sessionId } : {}) };
  },
  parser: () => codexParser(),
};

function codexConfig(baseUrl: string): string {
  return [
    'model_provider = "relay"',
    "check_for_update_on_startup = false",
    "",
    "[model_providers.relay]",
    'name = "relay"',
    `base_url = ${JSON.stringify(baseUrl)}`,
    `env_key = "${KEY_VAR}"`,
    'wire_api = "responses"',
    "request_max_retries = 0",
    "stream_max_retries = 0",
    "",
    "[analytics]",
    "enabled = false",
    "",
    "[feedback]",
    "enabled = false",
    "",
  ].join("\n");
}

/** Codex keeps "Reconnecting… waiting for network" forever when the endpoint is down: stop after this many. */
const MAX_RECONNECTS = 3;

export function codexParser(): CliParser {
  let sessionId: string | undefined;
  let text = "";
  let usage: Usage | undefined;
  let failed: string | undefined;
  let completed = false;
  let lastError: string | undefined;
  let offline = 0;
  return {
    line(line) {
      const ev = jsonLine(line);
      if (!ev) return undefined;
      switch (ev.type) {
        case "thread.started":
          sessionId = str(ev.thread_id) ?? sessionId;
          return undefined;
        case "item.started":
        case "item.completed": {
          const item = obj(ev.item);
          if (item.type === "agent_message" && ev.type === "item.completed") {
            text = str(item.text) ?? text;
            return { progress: short(text) };
          }
          if (item.type === "command_execution" && ev.type === "item.started")
            return { progress: short(`run ${str(item.command) ?? ""}`) };
          if (item.type === "file_change" && ev.type === "item.completed") {
            const changes = Array.isArray(item.changes) ? item.changes.map(obj) : [];
            return {
              progress: short(changes.map((c) => `${str(c.kind) ?? "edit"} ${str(c.path) ?? ""}`).join(", ")),
            };
          }
          return undefined;
        }
        case "error": {
          lastError = str(ev.message) ?? lastError;
          if (lastError && /waiting for network|connection failed|connection refused/i.test(lastError)) {
            offline++;
            if (offline >= MAX_RECONNECTS) return { progress: short(lastError), fatal: explain(lastError) };
          }
          return lastError ? { progress: short(lastError) } : undefined;
        }
        case "turn.completed":
          completed = true;
          usage = codexUsage(obj(ev.usage), usage);
          return undefined;
        case "turn.failed":
          failed = str(obj(ev.error).message) ?? lastError ?? "turn failed";
          return undefined;
      }
      return undefined;
    },
    finish(code, stderrTail): CliOutcome {
      const sid = sessionId ? { sessionId } : {};
      const u = usage ? { usage } : {};
      if (failed) {
        const error = `codex reported a failed turn: ${explain(failed)}`;
        return { ok: false, text: error, error, ...sid, ...u };
      }
      if (completed && code === 0) return { ok: true, text, ...sid, ...u };
      if (code === 0 && !sessionId) {
        const error =
          "codex printed nothing and exited 0: is it signed in (codex login) or is the API key set?";
        return { ok: false, text: error, error };
      }
      const why = lastError ? explain(lastError) : tailLines(stderrTail) || "(no stderr)";
      const error = `codex exited with code ${code ?? "(killed)"} without completing the turn: ${why}`;
      return { ok: false, text: error, error, ...sid, ...u };
    },
  };
}

function codexUsage(u: Record<string, unknown>, prev: Usage | undefined): Usage {
  return {
    inputTokens: (prev?.inputTokens ?? 0) + (num(u.input_tokens) ?? 0),
    outputTokens: (prev?.outputTokens ?? 0) + (num(u.output_tokens) ?? 0),
  };
}
