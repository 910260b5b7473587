import type { JwtVerifier } from "../auth/jwt.ts";
import type { RelayKeyring } from "../auth/keys.ts";
import type { AuthThrottle } from "../auth/limiter.ts";
import type { Peer, TokenDirectory } from "../auth/peers.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { PushService } from "../push/service.ts";
import type { Replies } from "../receivers/a2a/postbacks.ts";
import type { UpstreamCards } from "../routing/upstream-card.ts";
import type { RequestInfo } from "../runtime/index.ts";
import type { Engine } from "../tasks/engine.ts";

export type { RequestInfo };

export interface AppDeps {
  config: Config;
  engine: Engine;
  tokens: TokenDirectory;
  /** Peer JWT verification (absent: static tokens only). */
  jwt?: JwtVerifier;
  /** 429 after too many failed authentications of one credential, or from one address. */
  authLimiter?: AuthThrottle;
  /** This relay's signing key, published at /.well-known/jwks.json. */
  keyring?: RelayKeyring;
  logger: Logger;
  metrics: Metrics;
  /** Readiness: true, or why the relay is not ready (database, free disk, failing writes). */
  ready: () => true | string;
  keepaliveMs?: number;
  /** Push notifications (absent: the push methods answer -32003). */
  push?: PushService;
  /** Upstream cards: forwarded profiles' cards show the upstream's skills (absent: the local entry). */
  upstreamCards?: UpstreamCards;
  /** Bound on reading an upstream card for a profile card (default 1000 ms). */
  upstreamCardWaitMs?: number;
  /** Queued receivers' post-backs (profiles with `reply_peer`). */
  replies?: Replies;
}

export type AppEnv = {
  Bindings: RequestInfo;
  Variables: {
    requestId: string;
    peer: Peer;
    rpcMethod: string;
  };
};
