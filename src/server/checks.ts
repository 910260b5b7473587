import type { Config } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../logger.ts";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/;

/**
 * What is wrong with a config only at serve time: refuse to listen off loopback with no peer;
 * warn of clear-text listening, cards that would name the wrong address, peers without a usable
 * credential or JWT key.
 */
export function checkServe(config: Config, logger: Logger): void {
  const { server } = config;
  // the built-in `local` peer does not count: a config file must name a peer of its own
  const configuredPeers = Object.values(config.peers).filter((p) => !p.builtin);
  if (!LOOPBACK.test(server.host) && !config.insecureNoAuth && configuredPeers.length === 0) {
    throw new ConfigError(
      `refusing to listen on ${server.host} with no peer configured: add [peers.NAME] to the config, or pass --insecure-no-auth`,
    );
  }
  if (!LOOPBACK.test(server.host) && !server.tlsMaterial && !server.tls_offloaded) {
    logger.warn(
      { host: server.host },
      "listening off loopback without [server.tls]: bearer tokens, JWTs and task texts cross the network in clear text; set server.tls (cert_file, key_file), or server.tls_offloaded = true if a proxy in front terminates TLS",
    );
  }
  if (server.tls_offloaded && !server.public_url && !server.trusted_proxies.length) {
    logger.warn(
      {},
      "server.tls_offloaded without server.public_url or server.trusted_proxies: cards will name this relay's own http:// address; list the proxy in trusted_proxies (its X-Forwarded-Proto/Host are then believed) or set public_url",
    );
  }
  for (const p of Object.values(config.peers)) {
    if (!p.credential.resolved && !p.jwtKey?.resolved && !p.tls)
      logger.warn(
        { peer: p.name, source: p.credential.source, problem: p.credential.error },
        "peer has no usable credential",
      );
  }
  for (const p of Object.values(config.peers)) {
    if (p.jwtKey && !p.jwtKey.resolved)
      logger.warn(
        { peer: p.name, source: p.jwtKey.source, problem: p.jwtKey.error },
        "peer has no usable JWT key",
      );
  }
}
