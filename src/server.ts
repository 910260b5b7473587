import { join } from "node:path";
import { CertificatePeers } from "./auth/cert-peers.ts";
import { JwtVerifier } from "./auth/jwt.ts";
import { RelayKeyring, relayKeyPath } from "./auth/keys.ts";
import { AuthThrottle } from "./auth/limiter.ts";
import { outboundCredential } from "./auth/outbound.ts";
import { TokenDirectory } from "./auth/peers.ts";
import { SqliteReplayGuard } from "./auth/replay.ts";
import { budgetsFromConfig, createBudgets, ledgerHorizon } from "./budgets/index.ts";
import { type Config, readSecretFile } from "./config/load.ts";
import type { FetchFn } from "./fetch.ts";
import { createApp } from "./http/app.ts";
import type { Logger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import { bindListener, type Lease, prepareLease } from "./portlock/index.ts";
import { createPush } from "./push/index.ts";
import { replyMessage } from "./push/reply.ts";
import { Postbacks } from "./receivers/a2a/postbacks.ts";
import type { RoutingDeps } from "./receivers/deps.ts";
import { buildReceiver } from "./receivers/index.ts";
import { UpstreamCards } from "./routing/upstream-card.ts";
import type { Runtime, ServeOptions } from "./runtime/index.ts";
import { checkServe } from "./server/checks.ts";
import { openOrExplain } from "./server/open-store.ts";
import { outboundFetches } from "./server/outbound.ts";
import { statusSessions } from "./server/status-sessions.ts";
import { settledTaskLog } from "./server/task-log.ts";
import { Activity } from "./status/index.ts";
import { type Checkpointer, startCheckpointer } from "./store/checkpointer.ts";
import { type DataDirLock, lockDataDir, widerThanPrivate } from "./store/data-dir.ts";
import { StorageHealth } from "./store/health.ts";
import { startRetention } from "./store/retention-loop.ts";
import { SessionRepo } from "./store/sessions.ts";
import { Writer } from "./store/writer.ts";
import { Engine, type ProfileTarget, type TurnMessage } from "./tasks/engine.ts";
import { TaskRepo } from "./tasks/repo.ts";
import { rotateCertificates } from "./tls-rotation.ts";
import { pruneTranscripts, TranscriptWriter, transcriptHook, transcriptRoot } from "./transcripts/index.ts";
import { VERSION } from "./version.ts";

export interface RunningRelay {
  url: string;
  port: number;
  engine: Engine;
  /** The port lease this relay holds (`--port auto` or `--name`), released on stop. */
  lease: Lease | undefined;
  /**
   * Read the TLS certificate, key and client CA files again (SIGHUP), as a change on disk does;
   * resolves once a changed set is served. False: the relay serves no TLS.
   */
  reloadTls(): Promise<boolean>;
  /** Graceful stop: refuse new work, let turns finish within the grace, close the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Environment for outbound credentials (`token_env`, `api_key_env`, A2A_OC_TOKEN_*); default process.env. */
  env?: Record<string, string | undefined>;
  /** fetch used by forwarding receivers (tests inject one). */
  fetch?: FetchFn;
  /** `serve --replace`: stop the live holder of `server.name` first. */
  replace?: boolean;
  /** SSE keepalive comments, and whitespace before a slow fleet-dialect answer (default 15 s). */
  keepaliveMs?: number;
  /** The longest silence before a slow fleet-dialect answer (default 10 s; see http/app.ts). */
  fleetQuietMs?: number;
}

/** How often the worker copies the WAL back into the database (see store/checkpointer.ts). */
const CHECKPOINT_EVERY_MS = 100;

/**
 * Background work starts this long after the listener: the checkpoint worker (a second JS
 * runtime) and the pass resuming push deliveries of a previous process. Neither is needed to
 * answer, and on start they took ~25 ms of CPU from the first requests. The writer's own
 * auto-checkpoint covers the WAL until the worker runs. Then the runtime's JIT goes back to its
 * normal thresholds (see Runtime.started).
 */
const BACKGROUND_AFTER_MS = 250;

/**
 * Distinct bad credentials one address may present per minute, as a multiple of
 * `auth_max_failures` (default 5 × 20 = 100), before its bad credentials get 429.
 */
const AUTH_ADDRESS_FACTOR = 5;

/**
 * Start a relay: lock the data dir, open the store, recover, build receivers, bind the listener.
 * A start that fails lets go of the data dir's lock.
 */
export async function startRelay(
  config: Config,
  runtime: Runtime,
  logger: Logger,
  opts: StartOptions = {},
): Promise<RunningRelay> {
  let lock: DataDirLock | undefined;
  try {
    return await start(config, runtime, logger, opts, (l) => {
      lock = l;
    });
  } catch (err) {
    lock?.release();
    throw err;
  }
}

async function start(
  config: Config,
  runtime: Runtime,
  logger: Logger,
  opts: StartOptions,
  locked: (lock: DataDirLock) => void,
): Promise<RunningRelay> {
  const { server } = config;
  const tokens = new TokenDirectory(Object.values(config.peers));
  const certs = new CertificatePeers(Object.values(config.peers));
  checkServe(config, logger);
  await prepareLease(runtime, config, opts.replace ?? false);
  // one relay per data dir: a second one would mark the first one's running tasks FAILED
  const lock = lockDataDir(server.dataDir);
  locked(lock);
  const wide = widerThanPrivate(server.dataDir);
  if (wide)
    logger.warn(
      { path: server.dataDir, mode: wide },
      "the data dir is open to other users (it holds tokens, keys and every message): chmod 700 it",
    );
  const outFetch = opts.fetch ?? fetch;
  const outbound = outboundFetches(runtime, config, outFetch);
  const fleetFetch = outbound.fleet;
  // Built before the store opens so a bad key fails the start cleanly; jti go to SQLite once open.
  let replayGuard: SqliteReplayGuard | undefined;
  const jwt = new JwtVerifier({
    peers: Object.values(config.peers),
    audience: server.id,
    replay: { remember: (peer, jti, exp) => replayGuard!.remember(peer, jti, exp) },
    fetch: fleetFetch as typeof fetch,
  });

  let sessions: SessionRepo | undefined;
  let boundUrl: string | undefined;
  const postbacks = new Postbacks();
  const routing: RoutingDeps = {
    postbacks,
    tlsFetch: (profile) => outbound.byProfile.get(profile),
    env: opts.env ?? process.env,
    fetch: outFetch,
    cards: new UpstreamCards({ fetch: outbound.cards }),
    sessions: () => sessions,
    lockDir: server.lockDir,
    connectTimeoutMs: server.connect_timeout_s * 1000,
    log: (fields, msg) => logger.warn(fields, msg),
    self: {
      id: server.id,
      origins: () => [boundUrl, server.public_url].filter((u): u is string => !!u),
    },
  };
  const profiles = new Map<string, ProfileTarget>();
  for (const [name, p] of Object.entries(config.profiles)) {
    const cli = { runtime, env: routing.env, dataDir: server.dataDir, sessions: () => sessions };
    const receiver = await buildReceiver(name, p, { routing, cli });
    profiles.set(name, { name, receiver, timeoutMs: p.turn_timeout_s * 1000 });
  }

  const budgetLimits = budgetsFromConfig(config.peers);
  const dbPath = join(server.dataDir, "relay.db");
  const store = openOrExplain(runtime, dbPath, server.synchronous);
  const writer = new Writer(store.conn);
  const repo = new TaskRepo(store.db);
  sessions = new SessionRepo(store.db, writer);
  replayGuard = new SqliteReplayGuard(store.conn, writer);
  const authLimiter = new AuthThrottle({
    perCredential: server.auth_max_failures,
    perAddress: AUTH_ADDRESS_FACTOR * server.auth_max_failures,
    blockMs: server.auth_block_s * 1000,
  });
  const keyring = new RelayKeyring(() => readSecretFile(relayKeyPath(server.dataDir)));
  routing.outboundCredential = async (profile, remoteId) =>
    outboundCredential(profile, server.id, await keyring.current(), routing.env, Date.now(), remoteId);
  const metrics = new Metrics();
  metrics.processInfo(
    VERSION,
    typeof (globalThis as { Deno?: unknown }).Deno === "object" ? "deno" : "bun",
    Date.now() - Math.round(process.uptime() * 1000),
  );
  const activity = new Activity();
  const logins = statusSessions(server.dataDir, logger);
  // one log line per settled turn: turnMessage (dir "out") then turnFinished, back to back
  let settling: TurnMessage | undefined;
  const health = new StorageHealth({ logger });
  writer.onCommit = (ops) => {
    metrics.commits.observe(ops);
    health.committed();
  };
  writer.onFailure = (err) => health.failed(err);
  const stopDiskWatch = health.watchDisk(server.dataDir, config.store.min_free_mb, `${dbPath}-wal`);
  const budgets = await createBudgets({
    setup: config.budgets,
    budgets: budgetLimits,
    store,
    writer,
    runtime,
    logger,
    relay: server.id,
    dataDir: server.dataDir,
    retainMs: config.store.retainMs,
  }).catch((err) => {
    stopDiskWatch();
    writer.close();
    store.close();
    throw err;
  });
  const transcripts = new TranscriptWriter({
    root: transcriptRoot(server.dataDir),
    onError: (err) => logger.error({ err: String(err) }, "transcript write failed"),
  });
  const toTranscript = transcriptHook(transcripts);
  const logSettled = settledTaskLog(config, activity, metrics, logger);
  const push = createPush({
    db: store.db,
    writer,
    peers: config.peers,
    fetch: fleetFetch,
    logger,
    maxAttempts: server.push_max_attempts,
    retryBaseMs: server.push_retry_base_s * 1000,
    local: async (peer, profile, task) => {
      await engine.send({ peer, profile, origin: "local", message: replyMessage(task) });
    },
  });
  const engine = new Engine({
    repo,
    writer,
    profiles,
    events: push.sink,
    maxContextQueue: server.max_context_queue,
    admission: budgets,
    storage: health,
    logger,
    hooks: {
      turnMessage: (m) => {
        toTranscript(m);
        if (m.dir === "out") settling = m;
      },
      turnStarted: () => metrics.turnsRunning.inc(),
      turnFinished: (profile, state, ms, queueMs) => {
        metrics.turnsRunning.dec();
        metrics.turnDuration.observe({ profile, state }, ms / 1000);
        const m = settling;
        settling = undefined;
        if (m) logSettled(m, state, ms, queueMs);
      },
    },
  });
  const ledger = await budgets.recover();
  if (ledger.refunded) logger.warn(ledger, "refunded budget reservations of turns that never started");
  const recovered = await engine.recover();
  if (recovered)
    logger.warn({ tasks: recovered }, "marked tasks left running by the previous process as FAILED");
  metrics.budgets(() => budgets.snapshot());
  if (budgets.stats) metrics.budgetStore(budgets.stats);
  const certExpiry = {
    file: config.server.tlsMaterial?.certFile ?? "",
    notAfter: config.server.tlsMaterial?.notAfter ?? 0,
  };
  if (config.server.tlsMaterial) metrics.tlsCerts([certExpiry]);
  metrics.collect({
    tasksByState: () => repo.countByState(),
    queueDepth: () => engine.queues.depth,
    subscribers: () => engine.bus.size,
    walBytes: () => health.walBytes,
  });

  let ready = true;
  // after a failed write with nothing left to retry, readiness asks for a tiny write of its own
  // (the header's user_version): its commit says the database takes writes again
  const probeWrite = () => {
    // its failure is already noted and logged by writer.onFailure (storage health)
    writer.run(() => store.conn.exec("PRAGMA user_version = 1")).catch(() => {});
  };
  const app = createApp({
    config,
    engine,
    tokens,
    certs,
    jwt,
    authLimiter,
    keyring,
    logger,
    metrics,
    budgets,
    push: push.service,
    upstreamCards: routing.cards,
    keepaliveMs: opts.keepaliveMs ?? server.keepalive_s * 1000,
    ...(opts.fleetQuietMs ? { fleetQuietMs: opts.fleetQuietMs } : {}),
    replies: {
      postbacks,
      replyPeer: (profile) =>
        Object.hasOwn(config.profiles, profile) ? config.profiles[profile]?.reply_peer : undefined,
      log: (fields, msg, warn) => (warn ? logger.warn(fields, msg) : logger.info(fields, msg)),
    },
    transcriptRoot: transcriptRoot(server.dataDir),
    activity,
    sessions: logins,
    stopping: engine.stopping,
    ready: () => {
      if (!ready) return "shutting down";
      try {
        store.conn.query("SELECT 1");
      } catch (err) {
        return `the database cannot be read (${(err as Error).message})`;
      }
      if (health.writeFailing && !health.refusal()) probeWrite();
      return health.problem() ?? true;
    },
    degraded: () => budgets.degraded(),
  });

  const fetchApp: ServeOptions["fetch"] = (req, info) => app.fetch(req, info);
  if (certs.size) await runtime.prepare?.({ peerCertificates: true });
  const { listener, lease, release } = bindListener(runtime, config, fetchApp);
  const tlsServed = config.server.tlsMaterial;
  const rotation = tlsServed
    ? rotateCertificates({
        runtime,
        listener,
        serve: { hostname: server.host, fetch: fetchApp, idleTimeout: 120 },
        tls: tlsServed,
        peerCertificates: certs.size > 0,
        logger,
        onCertificate: (t) => {
          certExpiry.notAfter = t.notAfter;
        },
      })
    : undefined;
  const scheme = server.tlsMaterial ? "https" : "http";
  const url = `${scheme}://${listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname}:${listener.port}`;
  boundUrl = url;
  lock.setUrl(url);
  let checkpointer: Checkpointer | undefined;
  let retention: ReturnType<typeof startRetention> | undefined;
  const background = setTimeout(() => {
    checkpointer = startCheckpointer(runtime.workerSqlite, dbPath, CHECKPOINT_EVERY_MS, (message) =>
      logger.warn({ problem: message }, "background WAL checkpoint failed"),
    );
    void push.deliverer.run(); // resume deliveries left pending by a previous process
    const retainMs = config.store.retainMs;
    if (retainMs !== undefined) {
      retention = startRetention({
        conn: store.conn,
        writer,
        retainMs,
        ledgerCutoff: (peer, now) => ledgerHorizon(budgetLimits.get(peer), now, now - retainMs),
        pruneFiles: (cutoff) => pruneTranscripts(transcriptRoot(server.dataDir), cutoff),
        logger,
      });
    }
    runtime.started?.();
  }, BACKGROUND_AFTER_MS);
  background.unref?.();
  let stopping: Promise<void> | undefined;
  return {
    url,
    port: listener.port,
    engine,
    lease,
    reloadTls: async () => {
      if (!rotation) return false;
      await rotation.reload();
      return true;
    },
    stop() {
      stopping ??= (async () => {
        ready = false;
        clearTimeout(background);
        release();
        rotation?.stop();
        // the listener stops taking connections now, and closes once the open requests end: a
        // turn's blocking caller and stream once the turn settles (within the grace), streams
        // that would outlive the stop when the engine's shutdown says so (http/rpc-stream.ts)
        const closed = (rotation?.current() ?? listener).stop(false);
        await engine.shutdown(server.shutdown_grace_s * 1000);
        await closed;
        await push.deliverer.stop();
        await budgets.close();
        await retention?.stop();
        stopDiskWatch();
        transcripts.close();
        writer.close();
        await checkpointer?.stop();
        store.close();
        lock.release();
      })();
      return stopping;
    },
  };
}
