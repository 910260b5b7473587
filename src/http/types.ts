import type { Dialect, JsonRpcId } from "../a2a/jsonrpc.ts";
import type { SseFrame } from "../a2a/sse.ts";
import type { CertificatePeers } from "../auth/cert-peers.ts";
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

export interface AppDeps {
  config: Config;
  engine: Engine;
  tokens: TokenDirectory;
  /** Peers identified by their client certificate (`[peers.X.tls]`). */
  certs?: CertificatePeers;
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
  /** Ready but degraded (the shared budget store is down): why. */
  degraded?: () => string | undefined;
  keepaliveMs?: number;
  /** The longest silence before a slow fleet-dialect answer (default 10 s; see server.ts). */
  fleetQuietMs?: number;
  /** Push notifications (absent: the push methods answer -32003). */
  push?: PushService;
  /** Upstream cards: forwarded profiles' cards show the upstream's skills (absent: the local entry). */
  upstreamCards?: UpstreamCards;
  /** Bound on reading an upstream card for a profile card (default 1000 ms). */
  upstreamCardWaitMs?: number;
  /** Queued receivers' post-backs (profiles with `reply_peer`). */
  replies?: Replies;
}

/** Which front door a request came in by: it decides how an error is rendered (http/errors.ts). */
export type Binding = "jsonrpc" | "rest" | "send";

export type AppEnv = {
  Bindings: RequestInfo;
  Variables: {
    requestId: string;
    peer: Peer;
    rpcMethod: string;
    /** Set by the front door's preamble (http/preamble.ts); absent on cards, health and admin. */
    binding: Binding;
    /** The request's dialect (JSON-RPC: decided from the header, then the body). */
    dialect: Dialect;
    /** The JSON-RPC request id, once the body is parsed (errors echo it). */
    rpcId: JsonRpcId;
    /** `X-A2A-Hops` of the request (routing/hops.ts), checked against `max_hops`. */
    hops: number;
    /** The profile named in the path, checked against the peer's rights (REST and /send). */
    profile: string;
    /** The task the request created or names, once known (request log lines carry it). */
    task: string;
  };
};

/** One A2A call, whichever front door and dialect it came by (http/rpc-methods.ts). */
export interface RpcCall {
  peer: Peer;
  /** The profile the request addresses (already checked against the peer's rights). */
  profile: string;
  /** Whether the URL named the profile (then task lookups are scoped to it). */
  scoped: boolean;
  dialect: Dialect;
  params: unknown;
  signal: AbortSignal;
  /** Ask the server not to time out this connection (long blocking calls, streams). */
  keepOpen: () => void;
  /** `A2A-Relay-Hops` of the request (relay forwards so far). */
  hops?: number;
  /** Push notifications (undefined: not offered). */
  push?: PushService | undefined;
  /** Queued receivers' post-backs (profiles with `reply_peer`). */
  replies?: Replies | undefined;
  /** Told the task the call created or names, and its profile where known (for the request log). */
  named?: ((taskId: string, profile?: string) => void) | undefined;
}

export type RpcOutcome =
  | { kind: "result"; result: unknown }
  | { kind: "stream"; start: (push: (f: SseFrame) => void, end: () => void) => () => void };
