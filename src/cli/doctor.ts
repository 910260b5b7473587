import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statfsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { type Config, loadConfig, tokenEnvName } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import { findLease, isAlive, linuxProc, listLeases } from "../portlock/index.ts";
import { cardOf, olderOnly } from "../routing/upstream-card.ts";
import { type Check, printChecks, staticChecks } from "./_checks.ts";
import { type Command, onlyFlags } from "./io.ts";

const USAGE = `a2a-relay doctor [--config F] [--data-dir D] [--json]

Checks what would otherwise fail at the first message, one line each (ok / warn / fail, and what to
do): the config; each peer's token source and its file mode; JWT keys; this relay's signing key
for auth = "jwt" profiles; outbound tokens for remote and a2a profiles; each coding CLI handler's
executable and version (against the version the tests pin); upstream agent cards (3 s timeout);
the listening port or band; the data dir's permissions and free space.
Exit 0 when nothing failed (warnings allowed), 2 when something did.

Environment: A2A_RELAY_CONFIG, A2A_RELAY_HOME, A2A_RELAY_LOCK_DIR, and the variables the config
names (token_env, api_key_env, A2A_OC_TOKEN_*), read as the relay would read them.

Example: a2a-relay doctor --config /etc/a2a-relay/relay.toml`;

/** The coding CLI versions the real-CLI suite runs (test/clis/install.sh). */
export const PINNED: Record<string, string> = {
  claude: "2.1.332",
  codex: "0.169.0",
  opencode: "1.18.33",
  gemini: "0.61.0",
};

const CLI_HANDLERS = new Set(["claude", "codex", "opencode", "gemini", "agy"]);

export interface DoctorDeps {
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  timeoutMs?: number;
}

export function doctorCommand(deps: DoctorDeps = {}): Command {
  return {
    name: "doctor",
    summary:
      "check everything that would fail at the first message (tokens, keys, CLIs, upstreams, ports, disk)",
    usage: USAGE,
    async run(argv, io) {
      const { values } = onlyFlags(argv, {
        config: { type: "string" },
        "data-dir": { type: "string" },
        json: { type: "boolean" },
      });
      let config: Config;
      try {
        config = loadConfig({ file: values.config, env: io.env, dataDir: values["data-dir"] });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return report([
          { status: "fail", what: err.message, fix: "fix the config (a2a-relay config check)" },
        ]);
      }
      const checks: Check[] = [
        {
          status: "ok",
          what: `config ${config.file ?? "(embedded defaults)"} parses; relay id ${config.server.id}`,
        },
        ...staticChecks(config, io.env),
        ...handlerChecks(config, io.env),
        ...(await upstreamChecks(config, io.env, deps)),
        ...(await portChecks(config)),
        ...dataDirChecks(config),
        ...(await budgetStoreChecks(config)),
      ];
      return report(checks);

      function report(list: Check[]): number {
        if (values.json) {
          io.out(`${JSON.stringify({ checks: list }, null, 2)}\n`);
          return list.some((k) => k.status === "fail") ? 2 : 0;
        }
        return printChecks(list, io.out);
      }
    },
  };
}

export const doctor = doctorCommand();

// internal

/** `[budgets] store`: the shared ledger's PostgreSQL answers (read only: nothing is created). */
async function budgetStoreChecks(c: Config): Promise<Check[]> {
  const shared = c.budgets.store;
  if (!shared) return [];
  const { probeSharedStore } = await import("../budgets/pg/report.ts");
  const { storeError } = await import("../budgets/pg/errors.ts");
  try {
    const { tables } = await probeSharedStore(shared);
    return [
      {
        status: "ok",
        what: `budget store ${shared.display} answers${tables ? "" : " (its tables are created at the first start)"}`,
      },
    ];
  } catch (err) {
    return [
      {
        status: "fail",
        what: storeError(shared, err).message,
        fix: "see the README: One budget for the whole fleet",
      },
    ];
  }
}

function handlerChecks(c: Config, env: Record<string, string | undefined>): Check[] {
  const out: Check[] = [];
  for (const [name, p] of Object.entries(c.profiles)) {
    if (!p.handler || !CLI_HANDLERS.has(p.handler)) continue;
    const command = p.command ?? p.handler;
    const path = which(command, env.PATH ?? "");
    if (!path) {
      out.push({
        status: "fail",
        what: `profile ${name}: handler ${p.handler}: "${command}" is not installed (not found on PATH)`,
        fix: `install ${p.handler}, or set profiles.${name}.command to its executable`,
      });
      continue;
    }
    const r = spawnSync(path, ["--version"], {
      encoding: "utf8",
      timeout: 5000,
      env: env as NodeJS.ProcessEnv,
    });
    const version = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] ?? "";
    if (r.error || r.status !== 0) {
      out.push({
        status: "fail",
        what: `profile ${name}: ${path} --version failed (${r.error?.message ?? `exit ${r.status}`})`,
        fix: `reinstall ${p.handler}`,
      });
      continue;
    }
    const pin = PINNED[p.handler];
    out.push(
      pin && !version.includes(pin)
        ? {
            status: "warn",
            what: `profile ${name}: ${path} ${version}: not the tested version ${pin}`,
            fix: `npm install -g (the ${p.handler} package)@${pin} if turns misbehave`,
          }
        : { status: "ok", what: `profile ${name}: ${path} ${version}` },
    );
  }
  return out;
}

async function upstreamChecks(
  c: Config,
  env: Record<string, string | undefined>,
  deps: DoctorDeps,
): Promise<Check[]> {
  const doFetch = deps.fetch ?? fetch;
  const ms = deps.timeoutMs ?? 3000;
  const jobs = Object.entries(c.profiles).map(async ([name, p]): Promise<Check[]> => {
    let base: string | undefined;
    if (p.remote) base = p.remote.replace(/\/+$/, "");
    else if (p.handler === "a2a" && p.url) base = new URL(p.url).origin;
    else if (p.handler === "a2a" && p.lease) {
      const lease = findLease(c.server.lockDir, p.lease);
      if (!lease)
        return [
          {
            status: "warn",
            what: `profile ${name}: no live relay holds lease "${p.lease}" in ${c.server.lockDir} yet`,
            fix: `start it (a2a-relay serve --name ${p.lease} …) before the first message`,
          },
        ];
      base = lease.url.replace(/\/+$/, "");
    }
    if (!base) return [];
    let url = (!p.remote && p.card_url) || `${base}/.well-known/agent-card.json`;
    try {
      const get = (u: string) =>
        doFetch(u, { headers: { "A2A-Version": "1.0" }, signal: AbortSignal.timeout(ms) });
      let res = await get(url);
      if (res.status === 404 && !p.remote && !p.card_url) {
        // an agent of A2A before v0.3 (the SDK's 0.2 releases) serves its card as agent.json only
        const older = await get(`${base}/.well-known/agent.json`);
        if (older.ok) [res, url] = [older, `${base}/.well-known/agent.json`];
      }
      const card = (await res.json().catch(() => undefined)) as { name?: unknown } | undefined;
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const out: Check[] = [
        { status: "ok", what: `profile ${name}: upstream card ${url} (${String(card?.name)})` },
      ];
      const older = p.remote || p.protocol !== "1.0" ? undefined : olderOnly(cardOf(card));
      if (older) {
        out.push({
          status: "warn",
          what: `profile ${name}: the upstream's card offers A2A ${older} only; this profile speaks 1.0`,
          fix: `set protocol = "0.3" on profiles.${name}`,
        });
      }
      if (p.remote && p.auth === "token" && !p.token_env && typeof card?.name === "string") {
        const v = tokenEnvName(card.name);
        out.push(
          env[v]?.trim()
            ? { status: "ok", what: `profile ${name}: outbound token ${v} is set` }
            : {
                status: "fail",
                what: `profile ${name}: auth = "token" to relay "${card.name}" needs ${v}, which is not set`,
                fix: `export ${v}=<the token relay ${card.name} knows this relay by>`,
              },
        );
      }
      return out;
    } catch (err) {
      return [
        {
          status: "fail",
          what: `profile ${name}: upstream card ${url} unreachable (${(err as Error).message})`,
          fix: p.remote
            ? "start the upstream, or fix the profile's remote"
            : "start the upstream, or fix the profile's url; an agent that serves its card elsewhere (Mastra: <prefix>/.well-known/<agentId>/agent-card.json) needs card_url",
        },
      ];
    }
  });
  return (await Promise.all(jobs)).flat();
}

async function portChecks(c: Config): Promise<Check[]> {
  const s = c.server;
  const holder = runningRelay(s.dataDir);
  if (holder) return [{ status: "ok", what: `a relay is running on this data dir at ${holder}` }];
  if (s.port === "auto") {
    const range = c.bands[s.band];
    const held = listLeases(s.lockDir, { band: s.band }).length;
    return [{ status: "ok", what: `port auto in band ${s.band} (${range?.join("-")}): ${held} leased now` }];
  }
  const free = await new Promise<string | undefined>((resolve) => {
    const srv = createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ host: s.host, port: s.port, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
  return free
    ? [
        {
          status: "fail",
          what: `cannot listen on ${s.host}:${s.port} (${free})`,
          fix: `stop what holds it (ss -ltnp 'sport = :${s.port}'), or pick another --port / server.port`,
        },
      ]
    : [{ status: "ok", what: `${s.host}:${s.port} is free to listen on` }];
}

function dataDirChecks(c: Config): Check[] {
  const dir = c.server.dataDir;
  const out: Check[] = [];
  // a data dir not made yet: the free space of the file system it will be on
  let probe = dir;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  if (probe !== dir) {
    out.push({ status: "ok", what: `data dir ${dir} does not exist yet (created 0700 at start)` });
  } else {
    const mode = statSync(dir).mode & 0o777;
    try {
      accessSync(dir, constants.W_OK);
      out.push(
        mode & 0o077
          ? { status: "warn", what: `data dir ${dir} is mode ${mode.toString(8)}`, fix: `chmod 700 ${dir}` }
          : { status: "ok", what: `data dir ${dir} is private and writable` },
      );
    } catch {
      out.push({
        status: "fail",
        what: `data dir ${dir} is not writable`,
        fix: "chown it to the relay's user",
      });
    }
  }
  const fs = statfsSync(probe);
  const freeMb = (fs.bavail * fs.bsize) / 2 ** 20;
  out.push(
    freeMb < c.store.min_free_mb
      ? {
          status: "fail",
          what: `data dir has ${freeMb.toFixed(0)} MiB free, below store.min_free_mb ${c.store.min_free_mb}`,
          fix: "free disk space (a2a-relay store prune) or lower store.min_free_mb",
        }
      : { status: "ok", what: `data dir has ${freeMb.toFixed(0)} MiB free (min ${c.store.min_free_mb})` },
  );
  return out;
}

function which(cmd: string, pathVar: string): string | undefined {
  const runnable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes("/")) return runnable(cmd) ? cmd : undefined;
  for (const d of pathVar.split(delimiter)) if (d && runnable(join(d, cmd))) return join(d, cmd);
  return undefined;
}

function runningRelay(dataDir: string): string | undefined {
  try {
    const h = JSON.parse(readFileSync(join(dataDir, "relay.lock"), "utf8"));
    return isAlive(h, linuxProc) ? (h.url ?? "(starting)") : undefined;
  } catch {
    return undefined;
  }
}
