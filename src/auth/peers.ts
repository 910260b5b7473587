import { createHash, timingSafeEqual } from "node:crypto";
import type { ResolvedPeer } from "../config/load.ts";

/** The identity of a request, taken from its credential alone. */
export interface Peer {
  name: string;
  /** Profiles this peer may use: names, or "*" for all. */
  profiles: readonly string[];
  defaultProfile: string | undefined;
  admin: boolean;
  /** How it authenticated: "token", "jwt", "cert" (its client certificate) or "none" (--insecure-no-auth). */
  via: "token" | "jwt" | "cert" | "none";
}

export function mayUse(peer: Peer, profile: string): boolean {
  return peer.profiles.includes("*") || peer.profiles.includes(profile);
}

/**
 * Static bearer tokens. Only SHA-256 digests are kept; a presented token is compared in constant
 * time against every peer's digest, with no early exit, so timing tells nothing about which
 * peers exist.
 */
export class TokenDirectory {
  readonly #entries: Array<{ digest: Buffer; peer: Peer }> = [];

  constructor(peers: Iterable<ResolvedPeer>) {
    for (const p of peers) {
      if (!p.credential.resolved || !p.credential.token) continue;
      this.#entries.push({ digest: digest(p.credential.token), peer: toPeer(p, "token") });
    }
  }

  authenticate(token: string): Peer | undefined {
    const d = digest(token);
    let found: Peer | undefined;
    for (const e of this.#entries) {
      if (timingSafeEqual(e.digest, d) && !found) found = e.peer;
    }
    return found;
  }

  get size(): number {
    return this.#entries.length;
  }
}

export function toPeer(p: ResolvedPeer, via: Peer["via"]): Peer {
  return { name: p.name, profiles: p.profiles, defaultProfile: p.default_profile, admin: p.admin, via };
}

export const ANONYMOUS: Peer = {
  name: "anonymous",
  profiles: ["*"],
  defaultProfile: undefined,
  admin: false,
  via: "none",
};

// internal

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
