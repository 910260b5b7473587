import type { SessionKey, SessionStore } from "./sessions.ts";

/**
 * The chat history of an `llm` profile, per conversation (profile, peer, context), kept in the
 * `sessions` table (`data_json.messages`) so it survives a restart. Bounded: the oldest exchanges
 * are dropped first once it holds more than `maxMessages` messages or `maxChars` characters.
 */

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

export interface HistoryLimits {
  maxMessages: number;
  maxChars: number;
}

const DEFAULT_HISTORY_LIMITS: HistoryLimits = { maxMessages: 40, maxChars: 100_000 };

export class LlmHistory {
  readonly #store: () => SessionStore | undefined;
  readonly #limits: HistoryLimits;

  constructor(store: () => SessionStore | undefined, limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {
    this.#store = store;
    this.#limits = limits;
  }

  load(key: SessionKey): ChatMessage[] {
    const data = this.#store()?.get(key)?.data;
    const msgs = (data as { messages?: unknown } | undefined)?.messages;
    if (!Array.isArray(msgs)) return [];
    return msgs.filter(
      (m): m is ChatMessage =>
        typeof m === "object" &&
        m !== null &&
        (m.role === "user" || m.role === "assistant") &&
        typeof m.content === "string",
    );
  }

  /** Append one exchange and store the bounded result; resolves after the commit. */
  async append(key: SessionKey, exchange: ChatMessage[]): Promise<void> {
    const store = this.#store();
    if (!store) return;
    const messages = bound([...this.load(key), ...exchange], this.#limits);
    await store.put(key, "llm", { messages });
  }
}

/** Drop the oldest messages (whole user/assistant pairs where possible) until within the limits. */
export function bound(messages: ChatMessage[], limits: HistoryLimits): ChatMessage[] {
  let out = messages;
  let chars = out.reduce((n, m) => n + m.content.length, 0);
  while (out.length > 0 && (out.length > limits.maxMessages || chars > limits.maxChars)) {
    const drop = out.length > 1 && out[0]?.role === "user" && out[1]?.role === "assistant" ? 2 : 1;
    chars -= out.slice(0, drop).reduce((n, m) => n + m.content.length, 0);
    out = out.slice(drop);
  }
  return out;
}
