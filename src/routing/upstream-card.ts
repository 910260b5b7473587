import type { CardSkill } from "../a2a/cards.ts";
import type { ProfileConfig } from "../config/schema.ts";
import type { FetchFn } from "../receivers/a2a/http.ts";

/**
 * The skills a forwarded profile (`a2a` or `remote`) shows on its card: read from the upstream's
 * own card within `timeoutMs`, cached for `ttlMs`. Only the skills are copied (id, name,
 * description, tags): the card's interfaces stay this relay's, so every URL a caller sees points
 * here. A failed fetch is cached briefly and yields nothing (the relay's generic skill is shown).
 */
export class UpstreamCards {
  readonly #fetch: FetchFn;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; skills: CardSkill[] | undefined }>();
  readonly #inflight = new Map<string, Promise<CardSkill[] | undefined>>();

  constructor(o: { fetch: FetchFn; now?: () => number; timeoutMs?: number; ttlMs?: number }) {
    this.#fetch = o.fetch;
    this.#now = o.now ?? Date.now;
    this.#timeoutMs = o.timeoutMs ?? 3000;
    this.#ttlMs = o.ttlMs ?? 5 * 60_000;
  }

  /** The upstream's skills for a profile, or undefined (not forwarded, unreachable, no skills). */
  async skills(name: string, p: ProfileConfig): Promise<CardSkill[] | undefined> {
    const url = cardUrl(name, p);
    if (!url) return undefined;
    const hit = this.#cache.get(url);
    const fresh = hit && this.#now() - hit.at < (hit.skills ? this.#ttlMs : Math.min(this.#ttlMs, 30_000));
    if (hit && fresh) return hit.skills;
    let p2 = this.#inflight.get(url);
    if (!p2) {
      p2 = this.#read(url).finally(() => this.#inflight.delete(url));
      this.#inflight.set(url, p2);
    }
    const skills = await p2;
    this.#cache.set(url, { at: this.#now(), skills });
    return skills;
  }

  async #read(url: string): Promise<CardSkill[] | undefined> {
    try {
      const res = await this.#fetch(url, {
        headers: { "A2A-Version": "1.0", accept: "application/json" },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (!res.ok) return undefined;
      const card = (await res.json()) as { skills?: unknown };
      return skillsOf(card.skills);
    } catch {
      return undefined;
    }
  }
}

/** Where a forwarded profile's upstream card lives: the relay profile card, or the agent's origin. */
export function cardUrl(name: string, p: ProfileConfig): string | undefined {
  try {
    if (p.remote) {
      const base = p.remote.replace(/\/+$/, "");
      return `${base}/a2a/${encodeURIComponent(p.remote_profile ?? name)}/.well-known/agent-card.json`;
    }
    if (p.handler === "a2a" && p.url) return `${new URL(p.url).origin}/.well-known/agent-card.json`;
  } catch {
    return undefined;
  }
  return undefined;
}

// internal

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
