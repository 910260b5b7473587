import { join } from "node:path";
import type { Usage } from "../types.ts";
import { apiKey } from "./env.ts";
import type { CliAdapter, CliOutcome, CliParser, Invocation } from "./types.ts";
import { addUsage, explain, jsonLine, num, obj, short, str, tailLines } from "./util.ts";

const KEY_VAR = "A2A_RELAY_OPENCODE_API_KEY";
const PROVIDER = "relay";

/**
 * OpenCode: `opencode run --format json [--session ses_…] [-m provider/model] PROMPT`. With
 * `base_url`, an opencode.json (OPENCODE_CONFIG) in the profile's state dir declares an
 * OpenAI-compatible provider `relay`; the key is read by OpenCode from an env var ({env:…}).
 */
export const opencode: CliAdapter = {
  handler: "opencode",
  defaultCommand: "opencode",
  build(ctx): Invocation {
    const { config } = ctx;
    const env: Record<string, string> = {
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_DISABLE_SHARE: "1",
      OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
      OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
      OPENCODE_DISABLE_CLAUDE_CODE: "1",
    };
    const files: Invocation["files"] = [];
    let model = config.model;
    if (config.base_url) {
      const path = join(ctx.stateDir, "opencode", "opencode.json");
      env.OPENCODE_CONFIG = path;
      env.OPENCODE_DISABLE_MODELS_FETCH = "1";
      const key = apiKey(ctx);
      if (key) env[KEY_VAR] = key;
      const id = config.model ?? "default";
      files.push({ path, content: opencodeConfig(config.base_url, id, ctx.config.turn_timeout_s) });
      model = `${PROVIDER}/${id}`;
    }
    const resumed = ctx.session !== undefined;
    const args = [
      "run",
      "--format",
      "json",
      ...(resumed ? ["--session", ctx.session!.sessionId] : []),
      ...(model ? ["-m", model] : []),
      ...config.args,
      ctx.prompt,
    ];
    return { args, env, files, resumed, ...(resumed ? { sessionId: ctx.session!.sessionId } : {}) };
  },
  parser: () => opencodeParser(),
};

function opencodeConfig(baseUrl: string, model: string, turnTimeoutS: number): string {
  return `${JSON.stringify(
    {
      $schema: "https://opencode.ai/config.json",
      autoupdate: false,
      share: "disabled",
      provider: {
        [PROVIDER]: {
          npm: "@ai-sdk/openai-compatible",
          name: "a2a-relay endpoint",
          options: {
            baseURL: baseUrl,
            apiKey: `{env:${KEY_VAR}}`,
            // A silent endpoint must not outlive the turn.
            headerTimeout: Math.max(1000, Math.round(turnTimeoutS * 1000)),
          },
          models: { [model]: { name: model, tool_call: true } },
        },
      },
    },
    null,
    2,
  )}\n`;
}

export function opencodeParser(): CliParser {
  let sessionId: string | undefined;
  let usage: Usage | undefined;
  let step: string[] = [];
  let answer = "";
  let error: { text: string; status?: number } | undefined;
  let events = 0;
  return {
    line(line) {
      const ev = jsonLine(line);
      if (!ev || typeof ev.type !== "string") return undefined;
      events++;
      sessionId = str(ev.sessionID) ?? sessionId;
      const part = obj(ev.part);
      switch (ev.type) {
        case "step_start":
          step = [];
          return undefined;
        case "text": {
          const t = str(part.text) ?? "";
          step.push(t);
          if (t.trim()) answer = step.join("");
          return t.trim() ? { progress: short(t) } : undefined;
        }
        case "tool_use": {
          const state = obj(part.state);
          return { progress: short(`${str(part.tool) ?? "tool"} ${str(state.title) ?? ""}`.trim()) };
        }
        case "step_finish": {
          const tokens = obj(part.tokens);
          const u: Usage = { inputTokens: num(tokens.input) ?? 0, outputTokens: num(tokens.output) ?? 0 };
          const cost = num(part.cost);
          if (cost !== undefined) u.costUsd = cost;
          usage = addUsage(usage, u);
          return undefined;
        }
        case "error": {
          const e = obj(ev.error);
          const data = obj(e.data);
          const text = [str(e.name), str(data.message)].filter(Boolean).join(": ") || "unknown error";
          const status = num(data.statusCode);
          error = { text, ...(status !== undefined ? { status } : {}) };
          return { progress: short(text) };
        }
      }
      return undefined;
    },
    finish(code, stderrTail): CliOutcome {
      const sid = sessionId ? { sessionId } : {};
      const u = usage ? { usage } : {};
      if (error) {
        const msg = `opencode reported an error: ${explain(error.text, error.status)}`;
        return { ok: false, text: msg, error: msg, ...sid, ...u };
      }
      if (code !== 0) {
        const msg = `opencode exited with code ${code ?? "(killed)"}: ${tailLines(stderrTail) || "(no stderr)"}`;
        return { ok: false, text: msg, error: msg, ...sid, ...u };
      }
      if (events === 0) {
        const msg =
          "opencode printed nothing and exited 0: is a provider configured and signed in (opencode auth login)?";
        return { ok: false, text: msg, error: msg };
      }
      return { ok: true, text: answer, ...sid, ...u };
    },
  };
}
