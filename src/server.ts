import { join } from "node:path";
import type { Logger } from "pino";
import { TokenDirectory } from "./auth/peers.ts";
import type { Config } from "./config/load.ts";
import { ConfigError } from "./errors.ts";
import { createApp } from "./http/app.ts";
import type { RequestInfo } from "./http/types.ts";
import { Metrics } from "./metrics.ts";
import { buildReceiver } from "./receivers/index.ts";
import type { Listener, Runtime } from "./runtime/index.ts";
import { openStore } from "./store/db.ts";
import { Writer } from "./store/writer.ts";
import { Engine, type ProfileTarget } from "./tasks/engine.ts";
import { TaskRepo } from "./tasks/repo.ts";

export interface RunningRelay {
  url: string;
  port: number;
  engine: Engine;
  /** Graceful stop: refuse new work, let turns finish within the grace, close the database. */
  stop(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/;

/** Start a relay: open the store, recover, build receivers, bind the listener. */
export async function startRelay(config: Config, runtime: Runtime, logger: Logger): Promise<RunningRelay> {
  const { server } = config;
  const tokens = new TokenDirectory(Object.values(config.peers));
  const configuredPeers = Object.keys(config.peers).filter((p) => p !== "local" || config.file);
  if (!LOOPBACK.test(server.host) && !config.insecureNoAuth && configuredPeers.length === 0) {
    throw new ConfigError(
      `refusing to listen on ${server.host} with no peer configured: add [peers.NAME] to the config, or pass --insecure-no-auth`,
    );
  }
  for (const p of Object.values(config.peers)) {
    if (!p.credential.resolved)
      logger.warn(
        { peer: p.name, source: p.credential.source, problem: p.credential.error },
        "peer has no usable credential",
      );
  }

  const profiles = new Map<string, ProfileTarget>();
  for (const [name, p] of Object.entries(config.profiles)) {
    profiles.set(name, { name, receiver: buildReceiver(name, p), timeoutMs: p.turn_timeout_s * 1000 });
  }

  const store = openStore(runtime, join(server.dataDir, "relay.db"), { synchronous: server.synchronous });
  const writer = new Writer(store.conn);
  const repo = new TaskRepo(store.db);
  const metrics = new Metrics();
  const engine = new Engine({
    repo,
    writer,
    profiles,
    maxContextQueue: server.max_context_queue,
    hooks: {
      turnStarted: () => metrics.turnsRunning.inc(),
      turnFinished: (profile, state, ms) => {
        metrics.turnsRunning.dec();
        metrics.turnDuration.observe({ profile, state }, ms / 1000);
      },
    },
  });
  const recovered = await engine.recover();
  if (recovered)
    logger.warn({ tasks: recovered }, "marked tasks left running by the previous process as FAILED");
  metrics.collect({
    tasksByState: () => repo.countByState(),
    queueDepth: () => engine.queues.depth,
    subscribers: () => engine.bus.size,
  });

  let ready = true;
  const app = createApp({
    config,
    engine,
    tokens,
    logger,
    metrics,
    ready: () => {
      if (!ready) return false;
      try {
        store.conn.query("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
  });

  const listener = bind(runtime, config, (req, info) => app.fetch(req, info));
  const url = `http://${listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname}:${listener.port}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    port: listener.port,
    engine,
    stop() {
      stopping ??= (async () => {
        ready = false;
        await listener.stop(false);
        await engine.shutdown(server.shutdown_grace_s * 1000);
        writer.close();
        store.close();
      })();
      return stopping;
    },
  };
}

// internal

function bind(
  runtime: Runtime,
  config: Config,
  fetch: (req: Request, info: RequestInfo) => Response | Promise<Response>,
): Listener {
  const { server } = config;
  const ports = server.port === "auto" ? range(config.bands[server.band]!) : [server.port];
  let last: unknown;
  for (const port of ports) {
    try {
      return runtime.serve({ hostname: server.host, port, fetch, idleTimeout: 120 });
    } catch (err) {
      last = err;
      if (!/in use|EADDRINUSE/i.test(String((err as Error).message ?? err))) break;
    }
  }
  const what = server.port === "auto" ? `any port of band ${server.band}` : `port ${server.port}`;
  throw new ConfigError(`cannot listen on ${server.host}, ${what}: ${(last as Error)?.message ?? last}`);
}

function range([a, b]: [number, number]): number[] {
  const out: number[] = [];
  for (let p = a; p <= b; p++) out.push(p);
  return out;
}
