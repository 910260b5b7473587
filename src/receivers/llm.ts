import { promptText } from "../brief/render.ts";
import { readTextFile } from "../config/load.ts";
import type { ProfileConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { type ChatMessage, LlmHistory } from "../store/llm-history.ts";
import { describe, isConnectionRefused, safeUrl, sseFrames } from "./a2a/http.ts";
import type { RoutingDeps } from "./deps.ts";
import type { Receiver, TurnEmitter, TurnResult, Usage } from "./types.ts";

/**
 * `handler = "llm"`: an OpenAI-compatible chat-completions endpoint. Streams the answer's tokens
 * as progress (coalesced every `flushMs`), keeps each conversation's history in SQLite (bounded),
 * reports token usage.
 */
export function llmReceiver(name: string, p: ProfileConfig, deps: RoutingDeps, flushMs = 50): Receiver {
  if (!p.base_url) throw new ConfigError(`profiles.${name}.base_url: handler "llm" needs base_url`);
  if (!p.model) throw new ConfigError(`profiles.${name}.model: handler "llm" needs model`);
  if (p.system_prompt && p.system_prompt_file) {
    throw new ConfigError(`profiles.${name}: set system_prompt or system_prompt_file, not both`);
  }
  let system = p.system_prompt;
  if (p.system_prompt_file) {
    try {
      system = readTextFile(p.system_prompt_file);
    } catch (err) {
      throw new ConfigError(
        `profiles.${name}.system_prompt_file: cannot read ${p.system_prompt_file} (${(err as Error).message})`,
      );
    }
  }
  const url = `${p.base_url.replace(/\/+$/, "")}/chat/completions`;
  const history = new LlmHistory(deps.sessions);
  return {
    kind: "llm",
    async run(turn, emit, signal): Promise<TurnResult> {
      const key = { profile: name, peer: turn.peer, contextId: turn.contextId };
      const user: ChatMessage = { role: "user", content: promptText(turn) };
      const messages = [...(system ? [{ role: "system", content: system }] : []), ...history.load(key), user];
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "text/event-stream",
      };
      if (p.api_key_env) {
        const k = deps.env[p.api_key_env]?.trim();
        if (!k) return fail(`profiles.${name}.api_key_env: ${p.api_key_env} is not set on this relay`);
        headers.authorization = `Bearer ${k}`;
      }
      const body = {
        model: p.model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(p.max_tokens ? { max_tokens: p.max_tokens } : {}),
        ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      };
      let res: Response;
      try {
        res = await deps.fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const why = isConnectionRefused(err) ? "connection refused" : describe(err);
        return fail(`upstream unavailable: model endpoint ${safeUrl(url)}: ${why}`);
      }
      if (!res.ok) {
        const detail = errorDetail(await res.text().catch(() => ""));
        return fail(`model endpoint answered HTTP ${res.status}${detail ? `: ${detail}` : ""}`);
      }
      let answer: { text: string; usage: Usage };
      try {
        answer = (res.headers.get("content-type") ?? "").includes("text/event-stream")
          ? await readStream(res, emit, signal, flushMs)
          : readJson(await res.json());
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        return fail(`upstream unavailable: bad answer from the model endpoint (${describe(err)})`);
      }
      if (!answer.text) return fail("the model returned an empty answer");
      await history.append(key, [user, { role: "assistant", content: answer.text }]);
      return { state: "TASK_STATE_COMPLETED", parts: [{ text: answer.text }], usage: answer.usage };
    },
  };
}

// internal

interface Chunk {
  choices?: Array<{ delta?: { content?: string | null }; message?: { content?: string | null } }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

async function readStream(res: Response, emit: TurnEmitter, signal: AbortSignal, flushMs: number) {
  let text = "";
  let pending = "";
  let last = 0; // the first tokens go out at once
  const usage: Usage = {};
  const flush = () => {
    if (pending) emit.progress(pending, { delta: true });
    pending = "";
    last = Date.now();
  };
  for await (const frame of sseFrames(res.body ?? new ReadableStream(), signal)) {
    if (frame.data.trim() === "[DONE]") break;
    const c = JSON.parse(frame.data) as Chunk;
    if (c.error) throw new Error(c.error.message ?? "error event in the stream");
    const delta = c.choices?.[0]?.delta?.content ?? "";
    text += delta;
    pending += delta;
    if (c.usage) addUsage(usage, c.usage);
    if (pending && Date.now() - last >= flushMs) flush();
  }
  flush();
  return { text, usage };
}

function readJson(body: unknown): { text: string; usage: Usage } {
  const c = body as Chunk;
  const usage: Usage = {};
  if (c.usage) addUsage(usage, c.usage);
  return { text: c.choices?.[0]?.message?.content ?? "", usage };
}

function addUsage(u: Usage, x: { prompt_tokens?: number; completion_tokens?: number }) {
  if (typeof x.prompt_tokens === "number") u.inputTokens = x.prompt_tokens;
  if (typeof x.completion_tokens === "number") u.outputTokens = x.completion_tokens;
}

function errorDetail(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string };
    const m = typeof j.error === "string" ? j.error : j.error?.message;
    if (typeof m === "string") return m.slice(0, 300);
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

function fail(text: string): TurnResult {
  return { state: "TASK_STATE_FAILED", parts: [{ text }] };
}
