import type { Config } from "../config/load.ts";
import { effectiveAlgorithms } from "./jwt.ts";

export interface PeerSummary {
  name: string;
  profiles: string[];
  default_profile: string | null;
  admin: boolean;
  credential: { source: string; resolved: boolean; error: string | null };
  jwt: {
    kind: string;
    source: string;
    issuer: string;
    algorithms: string[];
    resolved: boolean;
    error: string | null;
  } | null;
}

/** Each peer's credential sources and whether they resolved: never a token, secret or key. */
export function describePeers(config: Pick<Config, "peers">): PeerSummary[] {
  return Object.values(config.peers).map((p) => ({
    name: p.name,
    profiles: [...p.profiles],
    default_profile: p.default_profile ?? null,
    admin: p.admin,
    credential: {
      source: p.credential.source,
      resolved: p.credential.resolved,
      error: p.credential.error ?? null,
    },
    jwt:
      p.jwt && p.jwtKey
        ? {
            kind: p.jwtKey.kind,
            source: p.jwtKey.source,
            issuer: p.jwt.issuer ?? p.name,
            algorithms: effectiveAlgorithms(p.jwtKey.kind, p.jwt.algorithms),
            resolved: p.jwtKey.resolved,
            error: p.jwtKey.error ?? null,
          }
        : null,
  }));
}
