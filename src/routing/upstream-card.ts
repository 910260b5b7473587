import type { CardSkill } from "../a2a/cards.ts";
import type { ProfileConfig } from "../config/schema.ts";
import type { FetchFn } from "../fetch.ts";

/** One interface an upstream card offers (v1.0 `supportedInterfaces`, or v0.3 transports). */
interface CardInterface {
  url: string;
  /** "JSONRPC", "HTTP+JSON", "GRPC", … as the card spells it. */
  binding: string;
  /** Empty when the card does not say. */
  version: string;
}

export interface UpstreamCard {
  skills: CardSkill[] | undefined;
  interfaces: CardInterface[];
}

/**
 * Upstream agent cards of forwarded profiles (`a2a` or `remote`), read within `timeoutMs` and
 * cached for `ttlMs`: their skills (shown on this relay's profile cards: id, name, description,
 * tags only, so every URL a caller sees points here) and their interfaces (`binding = "auto"`).
 * A failed fetch is cached briefly and yields nothing.
 */
export class UpstreamCards {
  readonly #fetch: FetchFn;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; card: UpstreamCard | undefined }>();
  readonly #inflight = new Map<string, Promise<UpstreamCard | undefined>>();

  constructor(o: { fetch: FetchFn; now?: () => number; timeoutMs?: number; ttlMs?: number }) {
    this.#fetch = o.fetch;
    this.#now = o.now ?? Date.now;
    this.#timeoutMs = o.timeoutMs ?? 3000;
    this.#ttlMs = o.ttlMs ?? 5 * 60_000;
  }

  /** The upstream's skills for a profile, or undefined (not forwarded, unreachable, no skills). */
  async skills(name: string, p: ProfileConfig): Promise<CardSkill[] | undefined> {
    const url = cardUrl(name, p);
    return url ? (await this.card(url))?.skills : undefined;
  }

  /**
   * The card at `url` (cached), or undefined when it cannot be read. `signal` stops this caller's
   * wait (rejecting with its reason); the shared fetch goes on, bounded by `timeoutMs`.
   */
  async card(url: string, signal?: AbortSignal): Promise<UpstreamCard | undefined> {
    const hit = this.#cache.get(url);
    const ttl = hit?.card ? this.#ttlMs : Math.min(this.#ttlMs, 30_000);
    if (hit && this.#now() - hit.at < ttl) return hit.card;
    let pending = this.#inflight.get(url);
    if (!pending) {
      pending = this.#read(url).finally(() => this.#inflight.delete(url));
      this.#inflight.set(url, pending);
    }
    const filled = pending.then((card) => {
      this.#cache.set(url, { at: this.#now(), card });
      return card;
    });
    return signal ? untilAborted(filled, signal) : filled;
  }

  async #read(url: string): Promise<UpstreamCard | undefined> {
    try {
      const get = (u: string) =>
        this.#fetch(u, {
          headers: { "A2A-Version": "1.0", accept: "application/json" },
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      let res = await get(url);
      // an agent of A2A before v0.3 (the SDK's 0.2 releases) serves its card as agent.json only
      if (res.status === 404 && url.endsWith(CARD))
        res = await get(`${url.slice(0, -CARD.length)}agent.json`);
      if (!res.ok) return undefined;
      return cardOf(await res.json());
    } catch {
      return undefined;
    }
  }
}

/** What the relay reads of an agent card's JSON; undefined when it is not an object. */
export function cardOf(raw: unknown): UpstreamCard | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const card = raw as Record<string, unknown>;
  return { skills: skillsOf(card.skills), interfaces: interfacesOf(card) };
}

/**
 * The A2A version a card offers when every interface it lists is older than v1.0 (a v0.3 card:
 * `protocolVersion` "0.3.0" and no `supportedInterfaces`, as Mastra's); else undefined.
 */
export function olderOnly(card: UpstreamCard | undefined): string | undefined {
  const versions = card?.interfaces.map((i) => i.version) ?? [];
  return versions.length && versions.every((v) => v.startsWith("0.")) ? versions[0] : undefined;
}

/**
 * Where a forwarded profile's upstream card lives: the relay profile card, the profile's
 * `card_url`, or the agent's origin.
 */
export function cardUrl(name: string, p: ProfileConfig, resolvedUrl?: string): string | undefined {
  try {
    if (p.remote) {
      const base = p.remote.replace(/\/+$/, "");
      return `${base}/a2a/${encodeURIComponent(p.remote_profile ?? name)}/.well-known/agent-card.json`;
    }
    if (p.handler === "a2a" && p.card_url) return p.card_url;
    const url = resolvedUrl ?? p.url;
    if (p.handler === "a2a" && url) return `${new URL(url).origin}/.well-known/agent-card.json`;
  } catch {
    return undefined;
  }
  return undefined;
}

// internal

const CARD = "agent-card.json";

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function skillsOf(raw: unknown): CardSkill[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: CardSkill[] = [];
  for (const s of raw.slice(0, 50)) {
    const o = s as Record<string, unknown>;
    if (typeof o?.id !== "string" || typeof o.name !== "string") continue;
    out.push({
      id: o.id.slice(0, 200),
      name: o.name.slice(0, 200),
      description: typeof o.description === "string" ? o.description.slice(0, 2000) : "",
      tags: Array.isArray(o.tags)
        ? o.tags.filter((t): t is string => typeof t === "string").slice(0, 20)
        : [],
    });
  }
  return out.length ? out : undefined;
}

/** v1.0 `supportedInterfaces`, else the v0.3 `url` + `preferredTransport` + `additionalInterfaces`. */
function interfacesOf(card: Record<string, unknown>): CardInterface[] {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const out: CardInterface[] = [];
  if (Array.isArray(card.supportedInterfaces)) {
    for (const i of card.supportedInterfaces.slice(0, 20) as Record<string, unknown>[]) {
      if (str(i?.protocolBinding)) {
        out.push({ url: str(i.url), binding: str(i.protocolBinding), version: str(i.protocolVersion) });
      }
    }
    return out;
  }
  const version = str(card.protocolVersion);
  if (str(card.url))
    out.push({ url: str(card.url), binding: str(card.preferredTransport) || "JSONRPC", version });
  if (Array.isArray(card.additionalInterfaces)) {
    for (const i of card.additionalInterfaces.slice(0, 20) as Record<string, unknown>[]) {
      if (str(i?.transport)) out.push({ url: str(i.url), binding: str(i.transport), version });
    }
  }
  return out;
}
