import { tokenEnvName } from "../config/load.ts";
import type { ProfileConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { FetchFn } from "../fetch.ts";
import { nextHops } from "../routing/hops.ts";
import { isSelfUrl } from "../routing/self.ts";
import { chooseBinding } from "./a2a/binding.ts";
import { dialectOf } from "./a2a/dialect.ts";
import { forwardingReceiver, TurnFailure } from "./a2a/forward.ts";
import { describe as describeError, isConnectionRefused } from "./a2a/http.ts";
import type { RoutingDeps } from "./deps.ts";
import type { Receiver } from "./types.ts";

/**
 * `remote = URL` (+ `remote_profile`): a profile on another relay. Turns go to
 * `<remote>/a2a/<remote_profile>` in A2A v1.0 with the hop count; the credential is
 * `A2A_OC_TOKEN_<SLUG of the remote's server id>` (`auth = "token"`) or a JWT from the auth module
 * (`auth = "jwt"`). The remote's id is read once from its public card.
 */
export function remoteReceiver(name: string, p: ProfileConfig, deps: RoutingDeps): Receiver {
  const base = (p.remote ?? "").replace(/\/+$/, "");
  if (!base) throw new ConfigError(`profiles.${name}.remote: missing`);
  if (isSelfUrl(base, deps.self))
    throw new ConfigError(`profiles.${name}.remote: ${base} is this relay itself`);
  const url = `${base}/a2a/${encodeURIComponent(p.remote_profile ?? name)}`;
  const fetchFn = deps.tlsFetch?.(name) ?? deps.fetch;
  const remoteId = cachedRemoteId(base, fetchFn);
  return forwardingReceiver("remote", {
    profile: name,
    dialect: dialectOf("1.0"),
    fetch: fetchFn,
    connectTimeoutMs: deps.connectTimeoutMs,
    log: deps.log,
    sessions: deps.sessions,
    async target(turn, signal) {
      if (isSelfUrl(base, deps.self)) {
        throw new TurnFailure(
          `refusing to forward to ${base}: that is this relay itself`,
          -32044,
          "HOP_LIMIT",
        );
      }
      const id = await remoteId(signal);
      if (id === deps.self.id) {
        throw new TurnFailure(
          `refusing to forward to ${base}: its server id "${id}" is this relay's own id`,
          -32044,
          "HOP_LIMIT",
        );
      }
      const chosen = await chooseBinding(name, p, url, deps.cards, signal);
      const auth = await credential(name, p, deps, id);
      const headers = { ...nextHops(turn.hops), ...(auth ? { Authorization: auth } : {}) };
      return { url: chosen.url, headers, binding: chosen.binding };
    },
  });
}

// internal

async function credential(name: string, p: ProfileConfig, deps: RoutingDeps, id: string): Promise<string> {
  if (p.auth === "cert") return ""; // the client certificate of the TLS connection speaks for this relay
  if (deps.outboundCredential) {
    try {
      return await deps.outboundCredential(p, id);
    } catch (err) {
      throw new TurnFailure(
        `profiles.${name}: no outbound credential for relay "${id}": ${err instanceof Error ? err.message : String(err)}`,
        -32045,
        "OUTBOUND_CREDENTIAL_MISSING",
      );
    }
  }
  if (p.auth === "token") {
    const env = p.token_env ?? tokenEnvName(id);
    const token = deps.env[env]?.trim();
    if (!token) {
      throw new TurnFailure(
        `profiles.${name}: auth = "token" needs ${env} (remote relay id "${id}")`,
        -32045,
        "OUTBOUND_CREDENTIAL_MISSING",
      );
    }
    return `Bearer ${token}`;
  }
  throw new TurnFailure(
    `profiles.${name}: auth = "jwt" is not available in this build; set auth = "token" (uses ${tokenEnvName(id)})`,
    -32045,
    "OUTBOUND_CREDENTIAL_MISSING",
  );
}

/** The remote relay's server id (its card's name), fetched once within a few seconds, then cached. */
function cachedRemoteId(base: string, fetchFn: FetchFn) {
  let id: string | undefined;
  return async (signal: AbortSignal): Promise<string> => {
    if (id) return id;
    const bound = AbortSignal.any([signal, AbortSignal.timeout(5000)]);
    let res: Response;
    try {
      res = await fetchFn(`${base}/.well-known/agent-card.json`, {
        headers: { "A2A-Version": "1.0", accept: "application/json" },
        signal: bound,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new TurnFailure(`upstream unavailable: cannot reach remote relay ${base} (${describe(err)})`);
    }
    const card = (await res.json().catch(() => undefined)) as { name?: unknown } | undefined;
    if (!res.ok || typeof card?.name !== "string" || !card.name) {
      throw new TurnFailure(`upstream unavailable: ${base} did not serve a relay card (HTTP ${res.status})`);
    }
    id = card.name;
    return id;
  };
}

function describe(err: unknown): string {
  return isConnectionRefused(err) ? "connection refused" : describeError(err);
}
