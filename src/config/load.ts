import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir, hostname, userInfo } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { z } from "zod";
import { ConfigError, dataDirUnwritable } from "../errors.ts";
import { type BudgetsSetup, resolveBudgetsSetup } from "./budget-store.ts";
import {
  ConfigSchema,
  DEFAULT_BANDS,
  DEFAULT_PROFILES,
  ONE_OFF,
  type PeerConfig,
  type ProfileConfig,
  parseDuration,
  parsePeer,
  type ServerConfig,
  type StoreConfig,
} from "./schema.ts";
import { caBundle, type OutboundTls, outboundTls, type ServerTls, serverTls } from "./tls.ts";

/**
 * The only module that reads config files, secret files and the environment. Everything after
 * this works on the resolved `Config` value.
 */

export interface Credential {
  /** Where the token came from, for `a2a-relay peers` (never the value). */
  source: string;
  /** Whether a token was found. */
  resolved: boolean;
  token?: string;
  error?: string;
}

export interface ResolvedPeer extends PeerConfig {
  name: string;
  credential: Credential;
  /** The JWT verification key, when `[peers.NAME.jwt]` is set. */
  jwtKey?: JwtKeySource;
  /** The built-in peer `local`, added when the config defines no peer of that name. */
  builtin?: true;
}

/** Where a peer's JWT key comes from (for `a2a-relay peers`) and, once read, the key material. */
export interface JwtKeySource {
  kind: "public_key_file" | "jwks_url" | "secret_env";
  /** `file:PATH`, `jwks:URL` or `env:NAME`: never the key itself. */
  source: string;
  /** Whether the key was found (a JWKS URL is fetched on demand: resolved when configured). */
  resolved: boolean;
  error?: string;
  /** PEM text of public_key_file. */
  pem?: string;
  /** The HMAC secret of secret_env. */
  secret?: string;
  url?: string;
}

export interface Config {
  file: string | undefined;
  server: ServerConfig & { id: string; dataDir: string; lockDir: string; tlsMaterial?: ServerTls };
  /** Per forwarding profile: the CAs it trusts and the client certificate it presents (https). */
  outboundTls: Record<string, OutboundTls>;
  /** `[store]`; `retainMs` undefined: keep forever. */
  store: StoreConfig & { retainMs: number | undefined };
  /** `[budgets]`: a shared Postgres ledger, or undefined `store` for this relay's own. */
  budgets: BudgetsSetup;
  bands: Record<string, [number, number]>;
  peers: Record<string, ResolvedPeer>;
  profiles: Record<string, ProfileConfig>;
  insecureNoAuth: boolean;
}

export interface LoadOptions {
  file?: string | undefined;
  env?: Record<string, string | undefined>;
  host?: string | undefined;
  port?: string | undefined;
  band?: string | undefined;
  name?: string | undefined;
  dataDir?: string | undefined;
  insecureNoAuth?: boolean;
  /** Create the data dir and the local peer's token file when missing (serve does; check does not). */
  prepare?: boolean;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.A2A_RELAY_CONFIG ?? undefined;
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`config error in ${file}: cannot read the file (${(err as Error).message})`);
    }
    try {
      raw = parseToml(text);
    } catch (err) {
      throw new ConfigError(
        `config error in ${file}: not valid TOML: ${(err as Error).message.split("\n")[0]}`,
      );
    }
  }
  const where = file ?? "the embedded defaults";
  const parsed = ConfigSchema.safeParse(raw, ONE_OFF);
  if (!parsed.success) throw new ConfigError(formatIssues(where, parsed.error));
  const c = parsed.data;
  const base = file ? dirname(resolve(file)) : process.cwd();
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(base, p));

  const server = { ...c.server };
  if (env.A2A_RELAY_HOST) server.host = env.A2A_RELAY_HOST;
  if (env.A2A_RELAY_PORT) server.port = parsePort(env.A2A_RELAY_PORT, "A2A_RELAY_PORT");
  if (opts.host) server.host = opts.host;
  if (opts.port) server.port = parsePort(opts.port, "--port");
  if (opts.band) server.band = opts.band;
  if (opts.name) server.name = opts.name;
  const dataDir = resolve(
    opts.dataDir ??
      env.A2A_RELAY_HOME ??
      (server.data_dir ? rel(server.data_dir) : join(homedir(), ".a2a-relay")),
  );
  const tlsKey = `config error in ${where}: server.tls`;
  const tls = server.tls
    ? serverTls(tlsKey, {
        ...server.tls,
        cert_file: rel(server.tls.cert_file),
        key_file: rel(server.tls.key_file),
        ...(server.tls.client_ca_file ? { client_ca_file: rel(server.tls.client_ca_file) } : {}),
      })
    : undefined;
  const fleetCa = server.tls?.fleet_ca_file
    ? caBundle(`${tlsKey}.fleet_ca_file`, rel(server.tls.fleet_ca_file))
    : undefined;
  const uid = safeUid();
  const lockDir = resolve(env.A2A_RELAY_LOCK_DIR ?? join(env.XDG_RUNTIME_DIR ?? "/tmp", `a2a-relay-${uid}`));

  const bands: Record<string, [number, number]> = {};
  for (const [name, spec] of Object.entries({ ...DEFAULT_BANDS, ...c.ports.bands })) {
    const [a, b] = spec.split("-").map(Number) as [number, number];
    if (!(a >= 1 && b <= 65535 && a <= b))
      throw new ConfigError(`config error in ${where}: ports.bands.${name}: "${spec}" is not a valid range`);
    bands[name] = [a, b];
  }
  if (server.port === "auto" && !bands[server.band]) {
    throw new ConfigError(
      `config error in ${where}: server.band: no band named "${server.band}" (known: ${Object.keys(bands).join(", ")})`,
    );
  }

  const profiles: Record<string, ProfileConfig> = {};
  const outbound: Record<string, OutboundTls> = {};
  for (const [name, p] of Object.entries(c.profiles ?? DEFAULT_PROFILES)) {
    const workdir = p.workdir ? rel(p.workdir) : undefined;
    if (workdir && !isDir(workdir)) {
      throw new ConfigError(
        `config error in ${where}: profiles.${name}.workdir: directory ${workdir} does not exist`,
      );
    }
    profiles[name] = { ...p, ...(workdir ? { workdir } : {}) };
    const out = outboundTls(
      `config error in ${where}: profiles.${name}`,
      {
        ...(p.ca_file ? { ca_file: rel(p.ca_file) } : {}),
        ...(p.client_cert_file ? { client_cert_file: rel(p.client_cert_file) } : {}),
        ...(p.client_key_file ? { client_key_file: rel(p.client_key_file) } : {}),
      },
      fleetCa,
    );
    if (out) outbound[name] = out;
  }

  const peers: Record<string, ResolvedPeer> = {};
  const configured = c.peers ?? {};
  const all: Record<string, PeerConfig> = { ...configured };
  if (!all.local) {
    all.local = parsePeer({
      profiles: ["*"],
      admin: true,
      token_file: join(dataDir, "tokens", "local.token"),
    });
  }
  const builtin = !configured.local;
  for (const [name, p] of Object.entries(all)) {
    for (const prof of p.profiles) {
      if (prof !== "*" && !profiles[prof]) {
        throw new ConfigError(`config error in ${where}: peers.${name}.profiles: no profile named "${prof}"`);
      }
    }
    const tokenFile = p.token_file ? rel(p.token_file) : undefined;
    if (opts.prepare && name === "local" && tokenFile && !configured.local) {
      mkdirPrivate(dataDir);
      ensureTokenFile(tokenFile);
    }
    peers[name] = {
      ...p,
      name,
      ...(tokenFile ? { token_file: tokenFile } : {}),
      credential: resolveToken(name, p, tokenFile, env),
      ...(p.jwt ? { jwtKey: resolveJwtKey(where, name, p.jwt, rel, env) } : {}),
      ...(name === "local" && builtin ? { builtin: true as const } : {}),
    };
  }
  rejectSharedTokens(where, peers);
  if (opts.prepare) mkdirPrivate(dataDir);

  return {
    file,
    server: {
      ...server,
      id: server.id ?? hostname(),
      dataDir,
      lockDir,
      ...(tls ? { tlsMaterial: tls } : {}),
    },
    outboundTls: outbound,
    store: { ...c.store, retainMs: c.store.retain === "forever" ? undefined : parseDuration(c.store.retain) },
    budgets: resolveBudgetsSetup(where, c.budgets, env),
    bands,
    peers,
    profiles,
    insecureNoAuth: opts.insecureNoAuth ?? false,
  };
}

/** `A2A_OC_TOKEN_<SLUG>`: the name upper-cased, every character outside A-Z0-9 turned into `_`. */
export function tokenEnvName(name: string): string {
  return `A2A_OC_TOKEN_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The token chain: `token_env` if set, else `A2A_OC_TOKEN_<SLUG>`, else `token_file`. */
export function resolveToken(
  name: string,
  p: Pick<PeerConfig, "token_env">,
  tokenFile: string | undefined,
  env: Record<string, string | undefined>,
): Credential {
  const envName = p.token_env ?? tokenEnvName(name);
  const fromEnv = env[envName]?.trim();
  if (fromEnv) return { source: `env:${envName}`, resolved: true, token: fromEnv };
  if (p.token_env && !tokenFile)
    return { source: `env:${envName}`, resolved: false, error: `${envName} is not set` };
  if (tokenFile) {
    const read = readSecretFile(tokenFile);
    return read.ok
      ? { source: `file:${tokenFile}`, resolved: true, token: read.value }
      : { source: `file:${tokenFile}`, resolved: false, error: read.error };
  }
  return {
    source: `env:${envName}`,
    resolved: false,
    error: `${envName} is not set and no token_file is configured`,
  };
}

/** Read a secret file, refusing one that other users can read. */
export function readSecretFile(path: string): { ok: true; value: string } | { ok: false; error: string } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return { ok: false, error: `${path} does not exist` };
  }
  if ((st.mode & 0o077) !== 0) {
    return {
      ok: false,
      error: `${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    };
  }
  const value = readFileSync(path, "utf8").trim();
  if (!value) return { ok: false, error: `${path} is empty` };
  return { ok: true, value };
}

/**
 * The credential the CLI client (`send`, `tasks`) presents: `A2A_RELAY_TOKEN`, else the local
 * peer's token file `<A2A_RELAY_HOME or ~/.a2a-relay>/tokens/local.token`, which is only offered
 * to a relay on this host (`loopback`) so it never leaks to another machine.
 */
export function clientCredential(env: Record<string, string | undefined>, loopback: boolean): Credential {
  const fromEnv = env.A2A_RELAY_TOKEN?.trim();
  if (fromEnv) return { source: "env:A2A_RELAY_TOKEN", resolved: true, token: fromEnv };
  const file = join(resolve(env.A2A_RELAY_HOME ?? join(homedir(), ".a2a-relay")), "tokens", "local.token");
  if (!loopback) {
    return {
      source: "env:A2A_RELAY_TOKEN",
      resolved: false,
      error: `A2A_RELAY_TOKEN is not set (${file} is only sent to a relay on this host)`,
    };
  }
  const read = readSecretFile(file);
  return read.ok
    ? { source: `file:${file}`, resolved: true, token: read.value }
    : { source: `file:${file}`, resolved: false, error: `A2A_RELAY_TOKEN is not set and ${read.error}` };
}

/** A peer's JWT key: exactly one of `public_key_file`, `jwks_url`, `secret_env` (HS256). */
export function resolveJwtKey(
  where: string,
  name: string,
  jwt: NonNullable<PeerConfig["jwt"]>,
  rel: (p: string) => string,
  env: Record<string, string | undefined>,
): JwtKeySource {
  const set = (["public_key_file", "jwks_url", "secret_env"] as const).filter((k) => jwt[k]);
  if (set.length !== 1) {
    throw new ConfigError(
      `config error in ${where}: peers.${name}.jwt: set exactly one of public_key_file, jwks_url, secret_env (found ${set.join(", ") || "none"})`,
    );
  }
  if (jwt.jwks_url)
    return { kind: "jwks_url", source: `jwks:${jwt.jwks_url}`, resolved: true, url: jwt.jwks_url };
  if (jwt.secret_env) {
    const source = `env:${jwt.secret_env}`;
    const secret = env[jwt.secret_env]?.trim();
    if (!secret)
      return { kind: "secret_env", source, resolved: false, error: `${jwt.secret_env} is not set` };
    if (Buffer.byteLength(secret) < 32)
      return {
        kind: "secret_env",
        source,
        resolved: false,
        error: `${jwt.secret_env} is shorter than 32 bytes`,
      };
    return { kind: "secret_env", source, resolved: true, secret };
  }
  const path = rel(jwt.public_key_file!);
  try {
    return {
      kind: "public_key_file",
      source: `file:${path}`,
      resolved: true,
      pem: readFileSync(path, "utf8"),
    };
  } catch (err) {
    const error = `${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`;
    return { kind: "public_key_file", source: `file:${path}`, resolved: false, error };
  }
}

/** Read a plain file next to the config (system prompts, keys). */
export function readTextFile(path: string): string {
  return readFileSync(path, "utf8");
}

// internal

/** The data dir (and missing parents) 0700; one that cannot be created exits 2 naming it. */
function mkdirPrivate(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw dataDirUnwritable(dir, err);
  }
}

function ensureTokenFile(path: string): void {
  if (existsSync(path)) return;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // "wx": exclusive create, so two relays starting at once never overwrite each other's token
    writeFileSync(path, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw dataDirUnwritable(path, err);
  }
}

/**
 * Two peers with the same token cannot be told apart (every request would count as the first):
 * a config error naming both, never the token.
 */
function rejectSharedTokens(where: string, peers: Record<string, ResolvedPeer>): void {
  const owner = new Map<string, string>();
  for (const p of Object.values(peers)) {
    const token = p.credential.token;
    if (!token) continue;
    const first = owner.get(token);
    if (first !== undefined) {
      throw new ConfigError(
        `config error in ${where}: peers.${first} and peers.${p.name} have the same token (${peers[first]?.credential.source} and ${p.credential.source}); give each peer its own`,
      );
    }
    owner.set(token, p.name);
  }
}

function parsePort(v: string, where: string): number | "auto" {
  if (v === "auto") return "auto";
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${where}: "${v}" is not a port number or "auto"`);
  return n;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function safeUid(): number | string {
  try {
    return userInfo().uid;
  } catch {
    return "user";
  }
}

function formatIssues(where: string, err: z.ZodError): string {
  const lines = err.issues.map((i) => {
    const key = i.path.map(String).join(".") || "(top level)";
    let msg = i.message;
    if (i.code === "unrecognized_keys") msg = `unknown key(s): ${i.keys.join(", ")}`;
    return `  ${key}: ${msg}`;
  });
  return `config error in ${where}:\n${lines.join("\n")}`;
}
