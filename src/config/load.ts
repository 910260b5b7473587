import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir, hostname, userInfo } from "node:os";
import { dirname } from "node:path";
import { ConfigError } from "../errors.ts";
import { dataDirUnwritable } from "../host-errors.ts";
import type { BudgetsSetup } from "./budget-store.ts";
import { type ParsedConfig, type ParseOptions, parseConfig } from "./parse.ts";
import type { PeerConfig, ProfileConfig, ServerConfig, StoreConfig } from "./schema.ts";
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
interface JwtKeySource {
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
  server: ServerConfig & {
    id: string;
    dataDir: string;
    lockDir: string;
    tlsMaterial?: ServerTls;
    /** `[server.tls] fleet_ca_file`'s certificates: trusted for every outbound https call. */
    fleetCa?: string;
  };
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

interface LoadOptions extends Omit<ParseOptions, "machine"> {
  env?: Record<string, string | undefined>;
  /** Create the data dir and the local peer's token file when missing (serve does; check does not). */
  prepare?: boolean;
}

/**
 * Read the config file, parse it (config/parse.ts, pure), let `serve` create what it needs
 * (`prepare`), then read what the config names: tokens, JWT keys, certificates, workdirs.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.A2A_RELAY_CONFIG ?? undefined;
  let text: string | undefined;
  if (file) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`config error in ${file}: cannot read the file (${(err as Error).message})`);
    }
  }
  // read only when the config leaves them to the defaults (Deno asks a permission for each)
  const machine = {
    get cwd() {
      return process.cwd();
    },
    get home() {
      return homedir();
    },
    get hostname() {
      return hostname();
    },
    get uid() {
      return safeUid();
    },
  };
  const parsed = parseConfig(text, env, { ...opts, file, machine });
  if (opts.prepare) prepareDataDir(parsed);
  return resolveConfig(parsed, env);
}

/**
 * `serve`: the data dir (0700) and, for the built-in `local` peer, its token file (0600, random),
 * when missing. One that cannot be created exits 2 naming it.
 */
function prepareDataDir(c: ParsedConfig): void {
  const local = c.peers.local;
  if (local?.builtin && local.token_file) {
    mkdirPrivate(c.server.dataDir);
    ensureTokenFile(local.token_file);
  }
  mkdirPrivate(c.server.dataDir);
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
 * A secret the relay keeps for itself in its data dir (the status page's session key): created
 * random (0600) when missing, then read as `readSecretFile` does (refused when others can read it).
 */
export function readOrCreateSecret(path: string): { ok: true; value: string } | { ok: false; error: string } {
  ensureTokenFile(path);
  return readSecretFile(path);
}

/** Read a plain file next to the config (system prompts, keys). */
export function readTextFile(path: string): string {
  return readFileSync(path, "utf8");
}

// internal

/** A peer's JWT key: one of `public_key_file` (an absolute path), `jwks_url`, `secret_env` (HS256). */
function resolveJwtKey(
  jwt: NonNullable<PeerConfig["jwt"]>,
  env: Record<string, string | undefined>,
): JwtKeySource {
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
  const path = jwt.public_key_file!;
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

/** Read what a parsed config names: TLS material, workdirs, peers' credentials and JWT keys. */
function resolveConfig(c: ParsedConfig, env: Record<string, string | undefined>): Config {
  const { where } = c;
  const t = c.server.tls;
  const tlsKey = `config error in ${where}: server.tls`;
  if (t && (!t.cert_file || !t.key_file) && (t.cert_file || t.key_file || t.client_ca_file)) {
    throw new ConfigError(
      `${tlsKey}: set cert_file and key_file together${t.client_ca_file ? " (client_ca_file needs them)" : ""}`,
    );
  }
  const tls =
    t?.cert_file && t.key_file
      ? serverTls(tlsKey, { ...t, cert_file: t.cert_file, key_file: t.key_file })
      : undefined;
  const fleetCa = t?.fleet_ca_file ? caBundle(`${tlsKey}.fleet_ca_file`, t.fleet_ca_file) : undefined;
  const outbound: Record<string, OutboundTls> = {};
  for (const [name, p] of Object.entries(c.profiles)) {
    if (p.workdir && !isDir(p.workdir)) {
      throw new ConfigError(
        `config error in ${where}: profiles.${name}.workdir: directory ${p.workdir} does not exist`,
      );
    }
    const out = outboundTls(
      `config error in ${where}: profiles.${name}`,
      {
        ...(p.ca_file ? { ca_file: p.ca_file } : {}),
        ...(p.client_cert_file ? { client_cert_file: p.client_cert_file } : {}),
        ...(p.client_key_file ? { client_key_file: p.client_key_file } : {}),
      },
      fleetCa,
    );
    if (out) outbound[name] = out;
    if (p.remote && p.auth === "cert" && !out?.cert)
      throw new ConfigError(
        `config error in ${where}: profiles.${name}.auth: "cert" presents this relay's client certificate: set client_cert_file and client_key_file`,
      );
  }
  const peers: Record<string, ResolvedPeer> = {};
  for (const [name, p] of Object.entries(c.peers)) {
    peers[name] = {
      ...p,
      credential: resolveToken(name, p, p.token_file, env),
      ...(p.jwt ? { jwtKey: resolveJwtKey(p.jwt, env) } : {}),
    };
  }
  rejectSharedTokens(where, peers);
  for (const p of Object.values(peers)) {
    if (p.tls && !tls?.clientCa)
      throw new ConfigError(
        `config error in ${where}: peers.${p.name}.tls: identifying a peer by its client certificate needs mutual TLS (server.tls.client_ca_file)`,
      );
  }
  const { where: _, ...rest } = c;
  return {
    ...rest,
    server: { ...c.server, ...(tls ? { tlsMaterial: tls } : {}), ...(fleetCa ? { fleetCa } : {}) },
    outboundTls: outbound,
    peers,
  };
}

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
