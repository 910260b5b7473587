import type { ProfileConfig } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";
import { nextHops } from "../../routing/hops.ts";
import { isSelfUrl } from "../../routing/self.ts";
import type { RoutingDeps } from "../deps.ts";
import type { Receiver } from "../types.ts";
import { checkBinding, chooseBinding } from "./binding.ts";
import { dialectOf } from "./dialect.ts";
import { forwardingReceiver, TurnFailure } from "./forward.ts";
import { resolveLeaseUrl } from "./lease.ts";

export { type Dialect, dialectOf, type Protocol } from "./dialect.ts";
export { forwardingReceiver, TurnFailure } from "./forward.ts";

/**
 * `handler = "a2a"`: forward each turn to an A2A agent at `url` (or `lease`), speaking `protocol`
 * ("1.0", "0.3" or "hermes-fleet") over `binding` (JSON-RPC or, v1.0 only, HTTP+JSON), with
 * `Authorization: Bearer $token_env` when set.
 */
export function a2aReceiver(name: string, p: ProfileConfig, deps: RoutingDeps): Receiver {
  if (!p.url && !p.lease) throw new ConfigError(`profiles.${name}: handler "a2a" needs url or lease`);
  if (p.url && p.lease) throw new ConfigError(`profiles.${name}: set url or lease, not both`);
  if (p.url && isSelfUrl(p.url, deps.self)) {
    throw new ConfigError(`profiles.${name}.url: ${p.url} is this relay itself`);
  }
  checkBinding(name, p);
  const tokenEnv = p.token_env;
  return forwardingReceiver("a2a", {
    profile: name,
    dialect: dialectOf(p.protocol),
    fetch: deps.tlsFetch?.(name) ?? deps.fetch,
    connectTimeoutMs: deps.connectTimeoutMs,
    log: deps.log,
    sessions: deps.sessions,
    postbacks: p.reply_peer && p.protocol === "hermes-fleet" ? deps.postbacks : undefined,
    async target(turn, signal) {
      const configured = p.url ?? resolveLeaseUrl(deps.lockDir, p.lease ?? "", p.remote_profile);
      const { binding, url, hint } = await chooseBinding(name, p, configured, deps.cards, signal);
      if (isSelfUrl(url, deps.self)) {
        throw new TurnFailure(
          `refusing to forward to ${url}: that is this relay itself`,
          -32044,
          "HOP_LIMIT",
        );
      }
      const headers: Record<string, string> = { ...nextHops(turn.hops) };
      if (tokenEnv) {
        const token = deps.env[tokenEnv]?.trim();
        if (!token) throw new TurnFailure(`profiles.${name}.token_env: ${tokenEnv} is not set on this relay`);
        headers.Authorization = `Bearer ${token}`;
      }
      return { url, headers, binding, ...(hint ? { hint } : {}) };
    },
  });
}
