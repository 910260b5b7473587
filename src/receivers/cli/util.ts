import type { Usage } from "../types.ts";
import type { BuildContext } from "./types.ts";

/**
 * The command line of a CLI that takes a session id of ours (claude, gemini): `-p PROMPT
 * --output-format stream-json`, its own `flags`, `--session-id <uuid>` on a conversation's first
 * turn and `--resume <uuid>` after, the model (after `modelFlag`) and the profile's `args`.
 */
export function sessionArgs(
  ctx: BuildContext,
  flags: string[],
  modelFlag: string,
): { args: string[]; sessionId: string; resumed: boolean } {
  const { config } = ctx;
  const resumed = ctx.session !== undefined;
  const sessionId = ctx.session?.sessionId ?? ctx.newId();
  const args = [
    "-p",
    ctx.prompt,
    "--output-format",
    "stream-json",
    ...flags,
    ...(resumed ? ["--resume", sessionId] : ["--session-id", sessionId]),
    ...(config.model ? [modelFlag, config.model] : []),
    ...config.args,
  ];
  return { args, sessionId, resumed };
}

/** Parse a JSON object line; undefined for anything else (banners, blank lines). */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  const t = line.trim();
  if (!t.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** One line, at most `max` characters: for progress messages. */
export function short(text: string, max = 160): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The last lines of a stderr tail, for an error message. */
export function tailLines(text: string, lines = 8, max = 1500): string {
  const t = text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-lines)
    .join("\n");
  return t.length > max ? `…${t.slice(-max)}` : t;
}

export function addUsage(a: Usage | undefined, b: Usage): Usage {
  const out: Usage = {
    inputTokens: (a?.inputTokens ?? 0) + (b.inputTokens ?? 0),
    outputTokens: (a?.outputTokens ?? 0) + (b.outputTokens ?? 0),
  };
  if (a?.costUsd !== undefined || b.costUsd !== undefined) out.costUsd = (a?.costUsd ?? 0) + (b.costUsd ?? 0);
  return out;
}

/**
 * Turn a CLI's error text into a message a person can act on: what kind of failure it is and what
 * to check. The CLI's own words are kept after the hint.
 */
export function explain(raw: string, status?: number): string {
  const text = short(raw, 400);
  if (
    status === 401 ||
    status === 403 ||
    /\b40[13]\b|unauthori[sz]ed|invalid api key|api key not valid|authentication_error|incorrect api key/i.test(
      raw,
    )
  )
    return `the model endpoint refused the credential: check the API key (profile env / api_key_env): ${text}`;
  if (
    /ECONNREFUSED|connection refused|cannot connect|unable to connect|connection failed|error sending request|ENOTFOUND|waiting for network/i.test(
      raw,
    )
  )
    return `the model endpoint is unreachable: check base_url / the endpoint env and that the server runs: ${text}`;
  if (/timed? ?out/i.test(raw)) return `the model endpoint did not answer in time: ${text}`;
  if (status === 429 || /\b429\b|rate limit|quota/i.test(raw))
    return `the model endpoint is rate limiting or out of quota: ${text}`;
  if ((status !== undefined && status >= 500) || /\b50\d\b|internal server error/i.test(raw))
    return `the model endpoint failed (server error): ${text}`;
  return text;
}
