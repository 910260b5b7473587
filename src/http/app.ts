import { createHash, randomBytes } from "node:crypto";
import { type Context, Hono } from "hono";
import { requestId } from "hono/request-id";
import { type CardInput, cardAny, cardV1, cardV03, publicBase } from "../a2a/cards.ts";
import { describePeers } from "../auth/describe.ts";
import type { BudgetLedger } from "../budgets/index.ts";
import type { Config } from "../config/load.ts";
import { proxyMatcher } from "../config/proxies.ts";
import { listLeases } from "../portlock/index.ts";
import { type Activity, Sessions, statusPage } from "../status/index.ts";
import { VERSION } from "../version.ts";
import { budgetRoutes } from "./admin-budgets.ts";
import { transcriptRoutes } from "./admin-transcripts.ts";
import { adminOnly, credentialCheck, peerAuth } from "./auth.ts";
import { renderError } from "./errors.ts";
import { frontDoor } from "./request.ts";
import { restRoutes } from "./rest-route.ts";
import { rpcHandler } from "./rpc-route.ts";
import { sendHandler } from "./send-route.ts";
import type { AppDeps, AppEnv } from "./types.ts";

/** Wire the HTTP surface from its dependencies. Does no I/O of its own. */
/** Admin extras: budgets and transcripts (absent in apps built without them). */
interface AdminDeps {
  budgets?: BudgetLedger;
  /** `<data dir>/transcripts` */
  transcriptRoot?: string;
  /** Recent failures for the status page at `GET /` (served only when given). */
  activity?: Activity;
  /** The status page's signed sessions (key from the data dir, so they outlive a restart). */
  sessions?: Sessions;
  /** Aborted when the relay begins to stop (the status page's live stream ends). */
  stopping?: AbortSignal;
}

export function createApp(deps: AppDeps & AdminDeps): Hono<AppEnv> {
  const { config, engine, logger, metrics } = deps;
  const app = new Hono<AppEnv>();
  const profiles = new Set(Object.keys(config.profiles));
  const keepaliveMs = deps.keepaliveMs ?? 15_000;
  const onInternal = (err: Error) =>
    logger.error({ err: err.message, at: err.stack?.split("\n")[1]?.trim() }, "internal error");
  // the public card speaks for every caller: push is offered when some peer may use it (a peer
  // without `push_hosts` gets -32003 PushNotificationNotSupported)
  const pushOffered =
    deps.push !== undefined && Object.values(config.peers).some((p) => (p.push_hosts?.length ?? 0) > 0);
  // X-Forwarded-Proto/Host are believed only from server.trusted_proxies
  const fromProxy = proxyMatcher(config.server.trusted_proxies ?? []);
  const baseOf = (c: { req: { raw: Request }; env?: { remoteAddress: string } }) =>
    publicBase(
      config.server.public_url,
      c.req.raw.headers,
      c.req.raw.url,
      fromProxy(c.env?.remoteAddress ?? ""),
    );

  app.use(requestId({ limitLength: 128 }));
  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    // again on the final response: a handler's own Response (streams) does not carry it yet
    c.header("x-request-id", c.var.requestId);
    logger.info(
      {
        reqId: c.var.requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - t0) * 100) / 100,
        peer: c.get("peer")?.name,
        profile: c.get("profile"),
        rpc: c.get("rpcMethod"),
        // the task the call created or named (JSON-RPC, REST); the plain-text door's header;
        // REST push-config paths
        task: c.get("task") ?? c.res.headers.get("a2a-task-id") ?? /\/tasks\/([^/:]+)/.exec(c.req.path)?.[1],
      },
      "request",
    );
  });

  // the one place errors become responses, in the shape of the request's binding
  app.onError((err, c) =>
    renderError(c, err, onInternal, (e) => {
      // A2A requests of authenticated peers (as before: a refused credential is not a request)
      if (c.var.binding !== "send" && c.var.peer)
        metrics.countRequest(c.var.rpcMethod ?? "(unparsed)", e.reason);
      if (REFUSALS.has(e.reason)) {
        const fields = {
          event: "refused",
          reason: e.reason,
          reqId: c.var.requestId,
          peer: c.get("peer")?.name,
        };
        logger.warn(
          {
            ...fields,
            profile: c.get("profile"),
            task: c.get("task"),
            rpc: c.get("rpcMethod"),
            detail: e.message,
          },
          "refused",
        );
      }
    }),
  );

  // ---- public ----
  app.get("/healthz", (c) =>
    c.json({ status: "ok", version: VERSION, name: config.server.name ?? config.server.id }),
  );
  app.get("/readyz", (c) => {
    const r = deps.ready();
    if (r !== true) return c.json({ status: "not ready", reason: r }, 503);
    // degraded (the shared budget store is down): still serving, so still ready
    const degraded = deps.degraded?.();
    return degraded ? c.json({ status: "degraded", reason: degraded }) : c.json({ status: "ready" });
  });
  app.get("/metrics", async (c) => {
    if (!config.server.metrics_public) return c.text("metrics are not public on this relay\n", 404);
    return c.text(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });

  const relayCard = (c: Parameters<typeof baseOf>[0]) => {
    const base = baseOf(c);
    return {
      name: config.server.id,
      description: `a2a-relay on ${config.server.id}: profiles ${[...profiles].join(", ")}`,
      version: VERSION,
      url: `${base}/a2a`,
      skills: [...profiles].map((p) =>
        skillOf(p, config.profiles[p]?.description, config.profiles[p]?.handler),
      ),
      streaming: true,
      pushNotifications: pushOffered,
      extendedAgentCard: false,
    };
  };
  const sendCard = (c: Parameters<typeof cardResponse>[0], input: CardInput) => cardResponse(c, input);
  for (const path of [
    "/.well-known/agent-card.json",
    "/.well-known/agent.json",
    "/a2a/.well-known/agent-card.json",
    "/a2a/.well-known/agent.json",
  ]) {
    app.get(path, (c) => sendCard(c, relayCard(c)));
  }
  // agent.json: where clients of A2A before v0.3 (the SDK's 0.2 releases) read a card;
  // /.well-known/{profile}/agent-card.json: where Mastra's client reads an agent's card
  const profileCard = async (c: Context) => {
    const name = c.req.param("profile") ?? "";
    const p = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
    if (!p) return c.json({ error: `unknown profile "${name}"` }, 404);
    const base = baseOf(c);
    const upstream = await upstreamSkills(deps, name, p);
    return sendCard(c, {
      name: `${config.server.id}/${name}`,
      description: p.description ?? `${p.handler ?? "remote"} profile "${name}" on ${config.server.id}`,
      version: VERSION,
      url: `${base}/a2a/${name}`,
      restUrl: `${base}/a2a/${name}`,
      skills: upstream ?? [skillOf(name, p.description, p.handler)],
      streaming: true,
      pushNotifications: pushOffered,
      extendedAgentCard: false,
    });
  };
  app.get("/a2a/:profile/.well-known/:card{agent-card\\.json|agent\\.json}", profileCard);
  app.get("/.well-known/:profile/agent-card.json", profileCard);

  // ---- peers ----
  app.get("/.well-known/jwks.json", async (c) =>
    c.json((await deps.keyring?.jwks()) ?? { keys: [] }, 200, { "cache-control": "public, max-age=300" }),
  );
  const authOptions = {
    tokens: deps.tokens,
    jwt: deps.jwt,
    limiter: deps.authLimiter,
    insecureNoAuth: config.insecureNoAuth,
    certs: deps.certs,
    onFailure: (f: { addr: string; why: string }) => {
      metrics.authFailures.inc({ reason: f.why });
      logger.warn({ event: "refused", reason: "UNAUTHENTICATED", ...f }, "authentication refused");
    },
  };
  const auth = peerAuth(authOptions);
  const door = { profiles, maxHops: config.server.max_hops, maxBodyBytes: config.server.max_body_bytes };
  const countOk = (method: string, outcome: string) => metrics.countRequest(method, outcome);
  const rpc = [
    ...frontDoor("jsonrpc", auth, door),
    rpcHandler({
      engine,
      profiles,
      keepaliveMs,
      // the a2a_fleet client's read timeout is 30 s: its whitespace comes well within, whatever
      // keepalive_s an operator chose for relays (up to 300 s)
      fleetQuietMs: Math.min(keepaliveMs, deps.fleetQuietMs ?? 10_000),
      onOutcome: countOk,
      onInternal,
      push: deps.push,
      replies: deps.replies,
    }),
  ] as const;
  // JSON-RPC wherever clients post it: the bare profile URL, base-URL clients' trailing slash, and
  // the a2a_fleet client's `<url>/jsonrpc`. Registered before the REST binding's catch-all.
  for (const path of ["/a2a", "/a2a/", "/a2a/jsonrpc", "/jsonrpc"]) app.post(path, ...rpc);
  for (const path of ["/a2a/:profile", "/a2a/:profile/", "/a2a/:profile/jsonrpc"]) app.post(path, ...rpc);
  app.route(
    "/a2a/:profile",
    restRoutes({ engine, keepaliveMs, onOutcome: countOk, push: deps.push }, frontDoor("rest", auth, door)),
  );
  app.post("/send/:profile", ...frontDoor("send", auth, door), sendHandler({ engine }));

  // ---- admin ----
  app.use("/admin/*", auth, adminOnly());
  app.get("/admin/tasks", (c) => {
    const peer = c.req.query("peer") ?? c.var.peer.name;
    return c.json(engine.list(peer, { pageSize: 100 }));
  });
  app.get("/admin/peers", (c) => c.json({ peers: describePeers(config) }));
  app.get("/admin/ports", (c) => c.json({ leases: listLeases(config.server.lockDir) }));
  app.get("/admin/push", (c) => c.json({ deliveries: deps.push?.recent(200) ?? [] }));
  if (deps.budgets) app.route("/admin/budgets", budgetRoutes(deps.budgets));
  if (deps.transcriptRoot) app.route("/admin/transcripts", transcriptRoutes(deps.transcriptRoot));

  if (deps.activity) {
    app.route(
      "/",
      statusPage({
        config,
        engine,
        authenticate: credentialCheck(authOptions),
        // without a key from the data dir (in-process tests): sessions last as long as the process
        sessions: deps.sessions ?? new Sessions({ key: randomBytes(32).toString("base64url") }),
        budgets: deps.budgets,
        activity: deps.activity,
        stopping: deps.stopping,
      }),
    );
  }

  return app;
}

// internal

/** Refusals the log names (one warn line each): budget, hops, profile rights, auth. */
const REFUSALS = new Set([
  "BUDGET_EXCEEDED",
  "HOP_LIMIT",
  "PROFILE_FORBIDDEN",
  "PROFILE_NOT_FOUND",
  "FORBIDDEN",
  "TOO_MANY_AUTH_FAILURES",
  "CONTEXT_BUSY",
]);

/** Cards change only with the config (a restart): they are as new as this process. */
const CARDS_SINCE = new Date().toUTCString();

/** A forwarded profile's upstream skills, within a bound (the fetch goes on and fills the cache). */
async function upstreamSkills(deps: AppDeps, name: string, p: Config["profiles"][string]) {
  if (!deps.upstreamCards || (!p.remote && p.handler !== "a2a")) return undefined;
  let stop = () => {};
  const bound = new Promise<undefined>((resolve) => {
    const t = setTimeout(() => resolve(undefined), deps.upstreamCardWaitMs ?? 1000);
    stop = () => clearTimeout(t);
  });
  try {
    return await Promise.race([deps.upstreamCards.skills(name, p), bound]);
  } finally {
    stop();
  }
}

function skillOf(name: string, description: string | undefined, handler: string | undefined) {
  return {
    id: name,
    name,
    description: description ?? `${handler ?? "remote"} profile`,
    tags: [handler ?? "remote"],
  };
}

async function cardResponse(
  c: {
    req: { header: (n: string) => string | undefined };
    body: (b: string | null, s: 200 | 304, h: Record<string, string>) => Response;
  },
  input: Parameters<typeof cardV1>[0],
): Promise<Response> {
  // no header: one card that a v1.0 reader (supportedInterfaces) and a v0.3 reader (url,
  // preferredTransport) both understand; v1.0 tooling, the TCK among it, sends no header
  const version = (c.req.header("a2a-version") ?? "").trim();
  const card = version.startsWith("1")
    ? cardV1(input)
    : version.startsWith("0")
      ? cardV03(input)
      : cardAny(input);
  const body = JSON.stringify(card);
  const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
  const headers = {
    "content-type": "application/json",
    etag,
    "last-modified": CARDS_SINCE,
    "cache-control": "public, max-age=60",
    vary: "A2A-Version, Host, X-Forwarded-Host, X-Forwarded-Proto",
  };
  if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
  return c.body(body, 200, headers);
}
