import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { type Config, type Credential, loadConfig, readSecretFile } from "../config/load.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { findLease, isAlive, type Lease, linuxProc, type ProcessIdentity } from "../portlock/index.ts";
import { DEFAULT_RELAY_URL, isLoopback, relayBase } from "./target.ts";

/**
 * Which relay a client command talks to, and with which credential: one rule for every client
 * command (`send`, `tasks`, `card`, `transcript`, `budget`, `peers`), printed by `--verbose`.
 *
 * Relay:      --url URL, else --relay NAME (the live port lease NAME), else the relay of
 *             --config F (server.public_url, else server.host:server.port, else its lease
 *             server.name), else the running relay holding --data-dir D (its relay.lock), else
 *             A2A_RELAY_URL, else http://127.0.0.1:9200.
 * Credential: --token-file F, else A2A_RELAY_TOKEN, else peer `local`'s token of --config F
 *             (its token chain), else <data dir>/tokens/local.token where the data dir is
 *             --data-dir, else the data dir the --relay lease records, else that of --config,
 *             else A2A_RELAY_HOME, else ~/.a2a-relay. A token read from a data dir is sent only to
 *             a relay on this host.
 */

/** parseArgs options every client command accepts. */
export const REACH_OPTIONS = {
  url: { type: "string" },
  relay: { type: "string" },
  config: { type: "string" },
  "data-dir": { type: "string" },
  "token-file": { type: "string" },
  verbose: { type: "boolean" },
} as const;

export const REACH_HELP = `Which relay, which credential (every client command):
  --url URL         the relay's base URL (e.g. http://127.0.0.1:9201)
  --relay NAME      the relay holding port lease NAME on this host (see a2a-relay ports), and
                    its token in the data dir its lease records
  --config F        the relay described by config F (public_url, host:port, or its lease)
  --data-dir D      that relay's data dir: its URL from D/relay.lock, its token D/tokens/local.token
  --token-file F    present the token in F (mode 0600)
  --verbose         print which relay and credential were chosen, and why (stderr)
  Relay: --url, else --relay, else --config, else --data-dir's running relay, else A2A_RELAY_URL,
  else ${DEFAULT_RELAY_URL}. Credential: --token-file, else A2A_RELAY_TOKEN, else peer local's
  token of --config, else <D>/tokens/local.token where D is --data-dir, else the --relay lease's
  data dir, else --config's, else A2A_RELAY_HOME, else ~/.a2a-relay (sent only to a relay on this
  host).`;

export interface ReachFlags {
  url?: string | undefined;
  relay?: string | undefined;
  config?: string | undefined;
  "data-dir"?: string | undefined;
  "token-file"?: string | undefined;
  verbose?: boolean | undefined;
}

export interface Reach {
  /** The relay's base URL, no trailing slash. */
  base: string;
  /** Why that URL (e.g. `--relay hermes-b (lease in /tmp/a2a-relay-0)`). */
  baseFrom: string;
  /** The data dir the local commands read (--data-dir, --relay's lease, config, A2A_RELAY_HOME, ~). */
  dataDir: string;
  /** Where `dataDir` came from (for `--verbose`). */
  dataDirFrom: string;
  /** The loaded --config, when given. */
  config: Config | undefined;
  /** Whether a relay was named explicitly (--url, --relay, --config, --data-dir's relay). */
  explicit: boolean;
  /** The credential for `url` (never printed). */
  credential(url: string): Credential;
}

export function reach(flags: ReachFlags, env: Record<string, string | undefined>): Reach {
  if (flags.url !== undefined && flags.relay !== undefined) {
    throw new UsageError("--url and --relay exclude each other (both name the relay)");
  }
  // A2A_RELAY_CONFIG counts for the data dir and the local credential, not for the relay's URL
  const config =
    flags.config !== undefined || env.A2A_RELAY_CONFIG
      ? loadConfig({ file: flags.config, env, dataDir: flags["data-dir"] })
      : undefined;
  const lockDir = config?.server.lockDir ?? lockDirOf(env);
  const lease = flags.relay === undefined ? undefined : leaseOf(lockDir, flags.relay, "--relay");
  const [dir, dataDirFrom] = dataDirOf(flags, lease, config, env);
  const dataDir = resolve(dir);
  let base: string;
  let baseFrom: string;
  let explicit = true;
  if (flags.url !== undefined) {
    base = relayBase(env, flags.url);
    baseFrom = "--url";
  } else if (lease) {
    base = lease.url.replace(/\/+$/, "");
    baseFrom = `--relay ${flags.relay} (port lease in ${lockDir})`;
  } else if (config && flags.config !== undefined) {
    base = configUrl(config, lockDir);
    baseFrom = `--config ${flags.config}`;
  } else if (flags["data-dir"] !== undefined && runningUrl(dataDir)) {
    base = runningUrl(dataDir)!;
    baseFrom = `--data-dir ${flags["data-dir"]} (the relay holding ${join(dataDir, "relay.lock")})`;
  } else {
    base = relayBase(env);
    baseFrom = env.A2A_RELAY_URL !== undefined ? "A2A_RELAY_URL" : "the default";
    explicit = false;
  }
  return {
    base,
    baseFrom,
    dataDir,
    dataDirFrom,
    config,
    explicit,
    credential: (url) => credentialFor(url, flags, env, config, dataDir, dataDirFrom),
  };
}

/** The `--verbose` lines: the relay and the credential's source (never its value). */
export function describeReach(r: Reach, url: string): string {
  const c = r.credential(url);
  return [
    `relay: ${r.base} (from ${r.baseFrom})`,
    `credential: ${c.resolved ? c.source : `none (${c.error})`}`,
    "",
  ].join("\n");
}

// internal

function credentialFor(
  url: string,
  flags: ReachFlags,
  env: Record<string, string | undefined>,
  config: Config | undefined,
  dataDir: string,
  dataDirFrom: string,
): Credential {
  const file = flags["token-file"];
  if (file !== undefined) {
    const path = resolve(file);
    const read = readSecretFile(path);
    if (!read.ok) throw new ConfigError(`--token-file: ${read.error}`);
    return { source: `--token-file ${path}`, resolved: true, token: read.value };
  }
  const fromEnv = env.A2A_RELAY_TOKEN?.trim();
  if (fromEnv) return { source: "env:A2A_RELAY_TOKEN", resolved: true, token: fromEnv };
  const local = config?.peers.local;
  const source = local && !local.builtin ? local.credential : undefined;
  const path = join(dataDir, "tokens", "local.token");
  if (!isLoopback(url)) {
    const what = source ? `peer local's token (${source.source})` : path;
    return {
      source: "env:A2A_RELAY_TOKEN",
      resolved: false,
      error: `A2A_RELAY_TOKEN is not set and --token-file was not given (${what} is only sent to a relay on this host)`,
    };
  }
  if (source) {
    return source.resolved
      ? { ...source, source: `peer local of --config (${source.source})` }
      : { ...source, error: `A2A_RELAY_TOKEN is not set and peer local of --config: ${source.error}` };
  }
  const read = readSecretFile(path);
  const from = `file:${path} (data dir from ${dataDirFrom})`;
  return read.ok
    ? { source: from, resolved: true, token: read.value }
    : { source: from, resolved: false, error: `A2A_RELAY_TOKEN is not set and ${read.error}` };
}

/** The data dir a client command reads its token (and local files) from, and why that one. */
function dataDirOf(
  flags: ReachFlags,
  lease: Lease | undefined,
  config: Config | undefined,
  env: Record<string, string | undefined>,
): [string, string] {
  if (flags["data-dir"] !== undefined) return [flags["data-dir"], "--data-dir"];
  if (lease?.dataDir) return [lease.dataDir, `the lease ${lease.name}`];
  if (config) return [config.server.dataDir, `config ${config.file ?? "(embedded)"}`];
  if (env.A2A_RELAY_HOME) return [env.A2A_RELAY_HOME, "A2A_RELAY_HOME"];
  return [join(homedir(), ".a2a-relay"), "the default"];
}

function lockDirOf(env: Record<string, string | undefined>): string {
  let uid: number | string = "user";
  try {
    uid = process.getuid?.() ?? "user";
  } catch {}
  return resolve(env.A2A_RELAY_LOCK_DIR ?? join(env.XDG_RUNTIME_DIR ?? "/tmp", `a2a-relay-${uid}`));
}

function leaseOf(lockDir: string, name: string, flag: string): Lease {
  const lease = findLease(lockDir, name);
  if (!lease) {
    throw new ConfigError(
      `${flag}: no live relay holds the lease "${name}" in ${lockDir} (see a2a-relay ports; set A2A_RELAY_LOCK_DIR if it uses another lock dir)`,
    );
  }
  return lease;
}

function configUrl(c: Config, lockDir: string): string {
  const s = c.server;
  if (s.public_url) return s.public_url.replace(/\/+$/, "");
  if (s.name) {
    const lease = findLease(lockDir, s.name);
    if (lease) return lease.url.replace(/\/+$/, "");
  }
  if (s.port === "auto") {
    throw new ConfigError(
      `--config ${c.file}: server.port is "auto" and no live lease names it; use --relay NAME or --url`,
    );
  }
  const host = s.host === "0.0.0.0" ? "127.0.0.1" : s.host === "::" ? "::1" : s.host;
  const h = host.includes(":") ? `[${host}]` : host;
  return `${s.tls ? "https" : "http"}://${h}:${s.port}`;
}

/** The URL recorded in `<dataDir>/relay.lock` by the relay running on it, if any. */
function runningUrl(dataDir: string): string | undefined {
  try {
    const holder = JSON.parse(readFileSync(join(dataDir, "relay.lock"), "utf8")) as ProcessIdentity & {
      url?: unknown;
    };
    if (typeof holder.url !== "string" || !isAlive(holder, linuxProc)) return undefined;
    return holder.url.replace(/\/+$/, "");
  } catch {
    return undefined;
  }
}

/** The reach flags as given, to repeat in the hint lines a command prints (` --relay b …`). */
export function reachArgs(flags: ReachFlags): string {
  const out: string[] = [];
  for (const k of ["url", "relay", "config", "data-dir", "token-file"] as const) {
    const v = flags[k];
    if (v !== undefined)
      out.push(`--${k} ${/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`}`);
  }
  return out.length ? ` ${out.join(" ")}` : "";
}
