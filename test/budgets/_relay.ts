import type { Receiver } from "../../src/receivers/types.ts";
import { startTestRelay, type TestRelay } from "../helpers/relay.ts";

export const BOT_TOKEN = "bot-token-0123456789abcdef";

/** A relay with an `echo` profile and a peer `bot` whose `[peers.bot.budget]` is `budget` (TOML). */
export async function budgetRelay(budget: string, extraToml = ""): Promise<TestRelay> {
  const toml = `
[profiles.echo]
handler = "echo"

[peers.bot]
profiles = ["echo"]
token_env = "BOT_TOKEN"

[peers.bot.budget]
${budget}
${extraToml}
`;
  return startTestRelay({ toml, env: { BOT_TOKEN } });
}

/** Count turns running at once on a profile's receiver (wraps the real receiver in place). */
export function watchConcurrency(r: TestRelay, profile = "echo") {
  const target = r.relay.engine.deps.profiles.get(profile)!;
  const inner: Receiver = target.receiver;
  const stats = { running: 0, max: 0, runs: 0 };
  target.receiver = {
    kind: inner.kind,
    async run(turn, emit, signal) {
      stats.running++;
      stats.runs++;
      stats.max = Math.max(stats.max, stats.running);
      try {
        return await inner.run(turn, emit, signal);
      } finally {
        stats.running--;
      }
    },
  };
  return stats;
}

/** One blocking v1.0 SendMessage as `bot`; returns HTTP status, Retry-After and the JSON body. */
export function botSend(r: TestRelay, text: string, extra: Record<string, unknown> = {}) {
  return sendAsBot(r.url, text, { message: extra });
}

/**
 * One v1.0 SendMessage as `bot` to the relay at `url` (in process, the binary or on Deno):
 * `message` adds message fields, `params` params fields (`configuration`). HTTP status,
 * Retry-After and the JSON body.
 */
export async function sendAsBot(
  url: string,
  text: string,
  more: { message?: Record<string, unknown>; params?: Record<string, unknown> } = {},
) {
  const res = await fetch(`${url}/a2a/echo`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "a2a-version": "1.0",
      authorization: `Bearer ${BOT_TOKEN}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "SendMessage",
      params: {
        message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }], ...more.message },
        ...more.params,
      },
    }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers are checked field by field
  const body = (await res.json()) as any;
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
}

/** Tally SendMessage outcomes: final task states, and JSON-RPC error codes. */
export function tally(results: Array<Awaited<ReturnType<typeof botSend>>>) {
  const out: Record<string, number> = {};
  for (const r of results) {
    const k = r.body.error ? `error ${r.body.error.code} ${r.status}` : r.body.result.task.status.state;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
