import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { type BudgetsSetup, resolveBudgetsSetup } from "./budget-store.ts";
import { didYouMean, keysAt } from "./hints.ts";
import {
  ConfigSchema,
  DEFAULT_BANDS,
  DEFAULT_PROFILES,
  ONE_OFF,
  type PeerConfig,
  PROFILE_KEYS,
  type ProfileConfig,
  parseDuration,
  parsePeer,
  type ServerConfig,
  type StoreConfig,
} from "./schema.ts";

/**
 * Config parsing as a pure function of the file's text, the environment and the command line:
 * nothing is read or written here. Paths come out absolute (relative to the config file);
 * config/load.ts reads what they name (tokens, keys, certificates) and `serve` creates the data
 * dir and the local peer's token file.
 */

export interface ParseOptions {
  /** The config file's path (for messages and relative paths); undefined: the embedded defaults. */
  file?: string | undefined;
  host?: string | undefined;
  port?: string | undefined;
  band?: string | undefined;
  name?: string | undefined;
  dataDir?: string | undefined;
  insecureNoAuth?: boolean | undefined;
  /** Facts of the machine the defaults depend on (config/load.ts fills them in; read only when needed). */
  machine: { cwd: string; home: string; hostname: string; uid: number | string };
}

/** A peer as configured, its paths absolute; `builtin`: the `local` peer added by default. */
type ParsedPeer = PeerConfig & { name: string; builtin?: true };

export interface ParsedConfig {
  file: string | undefined;
  /** "in <file>" or "the embedded defaults", for messages. */
  where: string;
  server: ServerConfig & { id: string; dataDir: string; lockDir: string };
  store: StoreConfig & { retainMs: number | undefined };
  /** `[budgets]`: a shared Postgres ledger, or undefined `store` for this relay's own. */
  budgets: BudgetsSetup;
  bands: Record<string, [number, number]>;
  peers: Record<string, ParsedPeer>;
  profiles: Record<string, ProfileConfig>;
  insecureNoAuth: boolean;
}

/** Parse a config (`text` undefined: the embedded defaults). Throws ConfigError naming the key. */
export function parseConfig(
  text: string | undefined,
  env: Record<string, string | undefined>,
  opts: ParseOptions,
): ParsedConfig {
  const { file, machine } = opts;
  const where = file ?? "the embedded defaults";
  let raw: unknown = {};
  if (text !== undefined) {
    try {
      raw = parseToml(text);
    } catch (err) {
      const e = err as Error & { line?: number; column?: number };
      const at = e.line ? ` at line ${e.line}, column ${e.column}` : "";
      const msg = e.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "");
      throw new ConfigError(`config error in ${where}: not valid TOML${at}: ${msg}`);
    }
  }
  const parsed = ConfigSchema.safeParse(raw, ONE_OFF);
  if (!parsed.success) throw new ConfigError(formatIssues(where, parsed.error));
  const c = parsed.data;
  // the working directory is read only for a relative path (Deno asks a permission for it)
  const abs = (p: string) => (isAbsolute(p) ? resolve(p) : resolve(machine.cwd, p));
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(file ? dirname(abs(file)) : machine.cwd, p));

  const server = { ...c.server };
  if (env.A2A_RELAY_HOST) server.host = env.A2A_RELAY_HOST;
  if (env.A2A_RELAY_PORT) server.port = parsePort(env.A2A_RELAY_PORT, "A2A_RELAY_PORT");
  if (opts.host) server.host = opts.host;
  if (opts.port) server.port = parsePort(opts.port, "--port");
  if (opts.band) server.band = opts.band;
  if (opts.name) server.name = opts.name;
  if (server.tls) {
    const t = server.tls;
    server.tls = {
      ...t,
      ...(t.cert_file ? { cert_file: rel(t.cert_file) } : {}),
      ...(t.key_file ? { key_file: rel(t.key_file) } : {}),
      ...(t.client_ca_file ? { client_ca_file: rel(t.client_ca_file) } : {}),
      ...(t.fleet_ca_file ? { fleet_ca_file: rel(t.fleet_ca_file) } : {}),
    };
  }
  const dataDir = abs(
    opts.dataDir ??
      env.A2A_RELAY_HOME ??
      (server.data_dir ? rel(server.data_dir) : join(machine.home, ".a2a-relay")),
  );
  const lockDir = abs(
    env.A2A_RELAY_LOCK_DIR ?? join(env.XDG_RUNTIME_DIR ?? "/tmp", `a2a-relay-${machine.uid}`),
  );

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
  for (const [name, p] of Object.entries(c.profiles ?? DEFAULT_PROFILES)) {
    profiles[name] = { ...p };
    for (const key of PROFILE_PATHS) {
      const v = p[key];
      if (v) profiles[name][key] = rel(v);
    }
  }

  const configured = c.peers ?? {};
  const all: Record<string, PeerConfig> = { ...configured };
  if (!all.local) {
    all.local = parsePeer({
      profiles: ["*"],
      admin: true,
      token_file: join(dataDir, "tokens", "local.token"),
    });
  }
  const peers: Record<string, ParsedPeer> = {};
  for (const [name, p] of Object.entries(all)) {
    for (const prof of p.profiles) {
      if (prof !== "*" && !profiles[prof]) {
        throw new ConfigError(`config error in ${where}: peers.${name}.profiles: no profile named "${prof}"`);
      }
    }
    if (p.jwt) {
      const set = (["public_key_file", "jwks_url", "secret_env"] as const).filter((k) => p.jwt?.[k]);
      if (set.length !== 1) {
        throw new ConfigError(
          `config error in ${where}: peers.${name}.jwt: set exactly one of public_key_file, jwks_url, secret_env (found ${set.join(", ") || "none"})`,
        );
      }
    }
    peers[name] = {
      ...p,
      name,
      ...(p.token_file ? { token_file: rel(p.token_file) } : {}),
      ...(p.jwt?.public_key_file ? { jwt: { ...p.jwt, public_key_file: rel(p.jwt.public_key_file) } } : {}),
      ...(name === "local" && !configured.local ? { builtin: true as const } : {}),
    };
  }

  return {
    file,
    where,
    server: { ...server, id: server.id ?? machine.hostname, dataDir, lockDir },
    store: { ...c.store, retainMs: c.store.retain === "forever" ? undefined : parseDuration(c.store.retain) },
    budgets: resolveBudgetsSetup(where, c.budgets, env),
    bands,
    peers,
    profiles,
    insecureNoAuth: opts.insecureNoAuth ?? false,
  };
}

// internal

/** Profile keys that name files or directories (relative to the config file). */
const PROFILE_PATHS = ["workdir", "ca_file", "client_cert_file", "client_key_file"] as const;

function parsePort(v: string, where: string): number | "auto" {
  if (v === "auto") return "auto";
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${where}: "${v}" is not a port number or "auto"`);
  return n;
}

function formatIssues(where: string, err: z.ZodError): string {
  const lines = err.issues.map((i) => {
    const key = i.path.map(String).join(".") || "(top level)";
    let msg = i.message;
    if (i.code === "unrecognized_keys") {
      const known =
        i.path[0] === "profiles" && i.path.length === 2 ? PROFILE_KEYS : keysAt(ConfigSchema, i.path);
      msg = `unknown key(s): ${i.keys
        .map((k) => {
          const hint = didYouMean(k, known);
          return hint ? `${k} (did you mean ${hint}?)` : k;
        })
        .join(", ")}`;
    }
    return `  ${key}: ${msg}`;
  });
  return `config error in ${where}:\n${lines.join("\n")}`;
}
