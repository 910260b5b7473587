import type { Logger } from "pino";
import type { Peer, TokenDirectory } from "../auth/peers.ts";
import type { Config } from "../config/load.ts";
import type { Metrics } from "../metrics.ts";
import type { RequestInfo } from "../runtime/index.ts";
import type { Engine } from "../tasks/engine.ts";

export type { RequestInfo };

export interface AppDeps {
  config: Config;
  engine: Engine;
  tokens: TokenDirectory;
  logger: Logger;
  metrics: Metrics;
  /** Whether the database accepts writes (readiness). */
  ready: () => boolean;
  keepaliveMs?: number;
}

export type AppEnv = {
  Bindings: RequestInfo;
  Variables: {
    requestId: string;
    peer: Peer;
    rpcMethod: string;
  };
};
