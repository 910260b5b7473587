import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { partsText } from "../a2a/types.ts";
import type { Peer } from "../auth/peers.ts";
import type { BudgetLedger } from "../budgets/index.ts";
import type { Config } from "../config/load.ts";
import { listLeases } from "../portlock/index.ts";
import type { Engine } from "../tasks/engine.ts";
import { VERSION } from "../version.ts";
import type { Activity } from "./activity.ts";
import { layout, loginForm } from "./html.ts";
import type { Sessions } from "./session.ts";

/**
 * `GET /`: the operator's status page, server-rendered (hono/html, no assets from elsewhere):
 * profiles, peers with budget bars, live tasks (refreshed over SSE from `/status/live`), recent
 * failures, leases, version and uptime. Admin only: an admin peer's `Authorization` header, or
 * the login form, which takes whatever credential the relay accepts from that peer (its static
 * token or a JWT it verifies) and trades it for an HttpOnly, SameSite=Strict session cookie signed
 * with the relay's session key (session.ts): the credential itself is never put in a cookie, a URL
 * or a log line. A session that ended (expired, signed out, key changed, peer no longer admin)
 * shows the login form saying so.
 */
export interface StatusDeps {
  config: Config;
  engine: Engine;
  /**
   * The relay's own credential check (http/auth.ts: JWT or static token, its throttle and its
   * failure log): the peer, or why not (a sentence for the login form).
   */
  authenticate(credential: string, addr: string): Promise<{ peer: Peer } | { why: string }>;
  sessions: Sessions;
  budgets?: BudgetLedger | undefined;
  activity: Activity;
  /** Aborted when the relay begins to stop: live streams end so the listener can close. */
  stopping?: AbortSignal | undefined;
  now?: () => number;
}

const SESSION_COOKIE = "a2a_relay_session";

type Who = { peer: string } | { why?: string };

export function statusPage(deps: StatusDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  const { sessions, config } = deps;
  const isAdmin = (name: string) => Object.hasOwn(config.peers, name) && config.peers[name]!.admin === true;

  const admin = async (c: Context): Promise<Who> => {
    const auth = c.req.header("authorization");
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      const r = m ? await deps.authenticate(m[1]!, addrOf(c)) : { why: "not a Bearer credential" };
      if (!("peer" in r)) return { why: r.why };
      return r.peer.admin ? { peer: r.peer.name } : { why: `peer ${r.peer.name} is not an admin peer` };
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (!cookie) return {};
    const s = sessions.check(cookie);
    if (!s.ok) return { why: ENDED[s.why] };
    if (!isAdmin(s.peer)) return { why: `your session ended: peer ${s.peer} is no longer an admin peer` };
    return { peer: s.peer };
  };
  const noStore = { "cache-control": "no-store" };
  const refuse = (c: Context, who: Who) => {
    // a cookie that no longer opens a session goes, so the next visit is a plain sign-in
    if (getCookie(c, SESSION_COOKIE)) deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.html(loginForm(config.server.id, "why" in who ? who.why : undefined), 401, noStore);
  };

  app.get("/", async (c) => {
    const who = await admin(c);
    if (!("peer" in who)) return refuse(c, who);
    return c.html(layout(config.server.id, who.peer, body(deps, now())), 200, noStore);
  });
  app.post("/login", async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const credential = typeof form.token === "string" ? form.token.trim() : "";
    const r = credential
      ? await deps.authenticate(credential, addrOf(c))
      : { why: "enter a token or a JWT of an admin peer" };
    if (!("peer" in r) || !r.peer.admin) {
      const why = "peer" in r ? `peer ${r.peer.name} is not an admin peer` : r.why;
      return c.html(loginForm(config.server.id, why), 401, noStore);
    }
    setCookie(c, SESSION_COOKIE, sessions.issue(r.peer.name), {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: Math.floor(sessions.ttlMs / 1000),
      secure: new URL(c.req.url).protocol === "https:",
    });
    return c.redirect("/", 303);
  });
  app.post("/logout", (c) => {
    const value = getCookie(c, SESSION_COOKIE);
    if (value) sessions.revoke(value);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/", 303);
  });
  // the live part of the page: the tasks and failures sections, re-rendered once a second
  app.get("/status/live", async (c) => {
    // 401 closes the page's EventSource; the page then reloads and shows why (see html.ts)
    if (!("peer" in (await admin(c)))) return c.text("admin only\n", 401, noStore);
    const enc = new TextEncoder();
    let timer: ReturnType<typeof setInterval> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        const push = async () => {
          const fragment = JSON.stringify({
            tasks: String(await tasksSection(deps, now())),
            failures: String(await failuresSection(deps)),
            recent: String(await recentSection(deps)),
          });
          try {
            ctl.enqueue(enc.encode(`data: ${fragment}\n\n`));
          } catch {
            clearInterval(timer);
          }
        };
        void push();
        timer = setInterval(push, 1000);
        // a stopping relay ends the stream (the browser reconnects, to the next process)
        const end = () => {
          clearInterval(timer);
          try {
            ctl.close();
          } catch {
            // the client went away first: nothing left to close
          }
        };
        if (deps.stopping?.aborted) end();
        else deps.stopping?.addEventListener("abort", end, { once: true });
      },
      cancel() {
        clearInterval(timer);
      },
    });
    c.req.raw.signal.addEventListener("abort", () => clearInterval(timer));
    return c.body(stream, 200, { "content-type": "text/event-stream", ...noStore });
  });
  return app;
}

// internal

/** Why a session cookie no longer opens the page (the login form says it). */
const ENDED = {
  expired: "your session expired: sign in again",
  "signed out": "you signed out: sign in again",
  invalid:
    "your session is no longer valid (the relay's session key changed, or the cookie is damaged): sign in again",
} as const;

function addrOf(c: Context): string {
  // the runtime's request info (http/types.ts RequestInfo), read without importing http/
  return (c.env as { remoteAddress?: string } | undefined)?.remoteAddress || "unknown";
}

function body(deps: StatusDeps, t: number): HtmlEscapedString | Promise<HtmlEscapedString> {
  const { config } = deps;
  const up = Math.round((t - deps.activity.startedAt) / 1000);
  const live = [...deps.engine.live.values()];
  const budgets = new Map((deps.budgets?.snapshot() ?? []).map((b) => [b.peer, b]));
  const leases = listLeases(config.server.lockDir);
  return html`<p class="meta">a2a-relay ${VERSION} · relay id <b>${config.server.id}</b> · up ${duration(up)}</p>
<section><h2>Profiles</h2><table><tr><th>profile</th><th>handler</th><th>target</th><th>running</th><th>queued</th></tr>
${Object.entries(config.profiles).map(([name, p]) => {
  const mine = live.filter((l) => l.profile === name);
  const running = mine.filter((l) => l.pending.status.state === "TASK_STATE_WORKING").length;
  const target = p.remote ?? p.url ?? p.lease ?? p.base_url ?? p.workdir ?? "";
  return html`<tr><td>${name}</td><td>${p.handler ?? "remote"}</td><td>${target}</td><td>${running}</td><td>${mine.length - running}</td></tr>`;
})}</table></section>
<section><h2>Peers</h2><table><tr><th>peer</th><th>profiles</th><th>budget use</th></tr>
${Object.values(config.peers).map((p) => {
  const b = budgets.get(p.name);
  const used: Record<string, number> = b
    ? { max_turns: b.used.turns, max_tokens: b.used.tokens, max_cost_usd: b.used.cost_usd }
    : {};
  const bars = b
    ? Object.entries(b.limits)
        .filter(([k]) => k in used)
        .map(([k, max]) => bar(k, used[k] ?? 0, max as number))
    : [];
  return html`<tr><td>${p.name}${p.admin ? " (admin)" : ""}</td><td>${p.profiles.join(", ")}</td><td>${bars.length ? bars : html`<span class="dim">no budget</span>`}${b ? html`<div class="dim">window ${b.window}</div>` : ""}</td></tr>`;
})}</table></section>
<section id="tasks">${tasksSection(deps, t)}</section>
<section id="recent">${recentSection(deps)}</section>
<section id="failures">${failuresSection(deps)}</section>
<section><h2>Leases on this host</h2>${
    leases.length
      ? html`<table><tr><th>name</th><th>band</th><th>port</th><th>pid</th><th>url</th></tr>${leases.map(
          (l) =>
            html`<tr><td>${l.name}</td><td>${l.band}</td><td>${l.port}</td><td>${l.pid}</td><td>${l.url}</td></tr>`,
        )}</table>`
      : html`<p class="dim">no live leases in ${config.server.lockDir}</p>`
  }</section>`;
}

function tasksSection(deps: StatusDeps, t: number) {
  const live = [...deps.engine.live.values()].sort((a, b) => a.createdAt - b.createdAt);
  return html`<h2>Live tasks (${live.length})</h2>${
    live.length
      ? html`<table><tr><th>task</th><th>peer</th><th>profile</th><th>state</th><th>elapsed</th><th>latest</th></tr>${live.map(
          (l) =>
            html`<tr class="task" data-task="${l.id}"><td>${l.id}</td><td>${l.peer}</td><td>${l.profile}</td><td>${stateName(l.pending.status.state)}</td><td>${duration(Math.round((t - l.createdAt) / 1000))}</td><td>${clip(partsText(l.pending.status.message?.parts), 80)}</td></tr>`,
        )}</table>`
      : html`<p class="dim">nothing running or queued</p>`
  }`;
}

function failuresSection(deps: StatusDeps) {
  const f = deps.activity.failures();
  return html`<h2>Recent failures</h2>${
    f.length
      ? html`<table><tr><th>when</th><th>task</th><th>peer</th><th>profile</th><th>state</th><th>reason</th></tr>${f.map(
          (x) =>
            html`<tr class="failure" data-task="${x.taskId}"><td>${new Date(x.at).toISOString().slice(0, 19)}Z</td><td>${x.taskId}</td><td>${x.peer}</td><td>${x.profile}</td><td>${stateName(x.state)}</td><td>${clip(x.reason ?? "", 160)}</td></tr>`,
        )}</table>`
      : html`<p class="dim">none since the start</p>`
  }`;
}

function recentSection(deps: StatusDeps) {
  const r = deps.activity.recent().slice(0, 10);
  return html`<h2>Recently settled</h2>${
    r.length
      ? html`<table><tr><th>when</th><th>task</th><th>peer</th><th>profile</th><th>state</th><th>took</th><th>tokens</th></tr>${r.map(
          (x) =>
            html`<tr class="settled" data-task="${x.taskId}"><td>${new Date(x.at).toISOString().slice(11, 19)}Z</td><td>${x.taskId}</td><td>${x.peer}</td><td>${x.profile}</td><td>${stateName(x.state)}</td><td>${(x.ms / 1000).toFixed(1)}s</td><td>${x.tokens ?? ""}</td></tr>`,
        )}</table>`
      : html`<p class="dim">no task settled since the start</p>`
  }`;
}

function bar(limit: string, used: number, max: number) {
  const pct = max > 0 ? Math.min(100, Math.round((used / max) * 100)) : 0;
  const cls = pct >= 100 ? "full" : pct >= 80 ? "high" : "";
  return html`<div class="bar ${cls}" title="${limit}: ${used} of ${max}"><span style="width:${pct}%"></span><em>${limit.replace("max_", "")} ${used} / ${max}</em></div>`;
}

function stateName(s: string): string {
  return s
    .replace(/^TASK_STATE_/, "")
    .toLowerCase()
    .replace(/_/g, "-");
}

function duration(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
