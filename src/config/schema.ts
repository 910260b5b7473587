import { z } from "zod";
import { int, nonEmpty, num, onFirstUse, someText, someUrl, text } from "./leaves.ts";
import { parseCidr } from "./proxies.ts";

/**
 * The relay's TOML config, validated with zod. Pure: no file or environment access here
 * (config/load.ts is the only reader). Unknown keys are errors so typos never pass silently.
 */

/**
 * Options for every parse of config values. Each is parsed about once per process, so zod's
 * compiled fast path (a `new Function` per object schema, built on its first parse) costs more
 * than it saves: measured, 12 ms of the compiled binary's start.
 */
export const ONE_OFF = { jitless: true } as const;

const Port = z.union([int(0, 65535), z.literal("auto")], {
  error: 'a port number from 0 to 65535, or "auto"',
});
const Band = z.string().regex(/^\d{1,5}-\d{1,5}$/, 'a band is "first-last", e.g. "9200-9209"');

export const DEFAULT_BANDS: Record<string, string> = {
  relay: "9200-9209",
  opencode: "9300-9309",
  claude: "9310-9319",
  codex: "9320-9329",
  agy: "9330-9339",
  hermes: "9340-9349",
};

const Server = z.strictObject({
  id: nonEmpty,
  host: z.string().min(1).default("127.0.0.1"),
  port: Port.default(9200),
  band: z.string().default("relay"),
  name: someText,
  public_url: someUrl,
  data_dir: someText,
  max_body_bytes: int(1024).default(1024 * 1024),
  /** Turns that may wait behind a running one on the same conversation. */
  max_context_queue: int(0, 10_000).default(16),
  /** Seconds SIGTERM waits for running turns before failing them. */
  shutdown_grace_s: num(0, 3600).default(30),
  /** "NORMAL" survives a process crash; "FULL" also survives power loss (slower). */
  synchronous: z.enum(["NORMAL", "FULL"]).default("NORMAL"),
  metrics_public: z.boolean().default(true),
  max_hops: int(1, 32).default(4),
  /**
   * Seconds an upstream (remote relay or A2A agent) has to accept a connection before a turn
   * fails as unavailable; nothing was delivered, so that is safe to report at once.
   */
  connect_timeout_s: num(0.1, 120).default(5),
  /**
   * Seconds between `: keepalive` comments on the event streams this relay serves (announced in
   * the `A2A-Relay-Keepalive` header: a relay forwarding to this one treats 3 x this much silence
   * as a broken connection and re-attaches).
   */
  keepalive_s: num(0.5, 300).default(15),
  log_level: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /** Push delivery: attempts before giving up, and the first retry delay (doubling, capped at 60 s). */
  push_max_attempts: int(1, 100).default(8),
  push_retry_base_s: num(0.01, 600).default(1),
  /** Failed authentications from one address within a minute before it gets 429. */
  auth_max_failures: int(1).default(20),
  /** Seconds an address that failed too often is answered 429. */
  auth_block_s: int(1, 86_400).default(60),
  /** A proxy in front terminates TLS: no warning for plain HTTP off loopback. */
  tls_offloaded: z.boolean().default(false),
  /** Addresses whose X-Forwarded-Proto/Host are believed for card URLs (CIDR blocks). */
  trusted_proxies: z
    .array(z.string().refine((v) => !!parseCidr(v), 'a CIDR block ("10.0.0.0/8") or an address'))
    .default([]),
  /** TLS in the binary (absent: plain HTTP). */
  tls: onFirstUse(() =>
    z.strictObject({
      /** Both, to serve https; neither, for a relay that only needs fleet_ca_file (TLS offloaded). */
      cert_file: nonEmpty,
      key_file: nonEmpty,
      min_version: z.enum(["1.2", "1.3"]).default("1.2"),
      /** Require a client certificate signed by this CA (mutual TLS). */
      client_ca_file: nonEmpty,
      /** Trusted for outbound https (remote and a2a profiles) besides the system roots. */
      fleet_ca_file: nonEmpty,
    }),
  ).optional(),
});

/** `"30d"`, `"12h"`, `"1h30m"`, `"90s"`: a duration in milliseconds (units s, m, h, d). */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (!/^(\d+[smhd])+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
  return ms;
}
const DURATION_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const Store = z.strictObject({
  /** Terminal tasks older than this are deleted in the background ("forever": never). */
  retain: z
    .string()
    .default("30d")
    .refine((v) => v === "forever" || (parseDuration(v) ?? 0) >= 60_000, {
      message: 'a duration of at least 1m (e.g. "30d", "12h", "90m"), or "forever"',
    }),
  /** Below this much free disk (MiB) in the data dir, new tasks are refused with -32047. */
  min_free_mb: num(0).default(256),
});

/** `[budgets]`: where the budget ledger lives (default: this relay's SQLite database). */
const BudgetStore = z.strictObject({
  /** `postgres://user@host:5432/db`: one ledger for every relay that names the same store. */
  store: nonEmpty,
  /** The environment variable holding the store's password (never in the config file). */
  password_env: nonEmpty,
  on_store_down: z.enum(["refuse", "local"]).default("refuse"),
  /** A relay silent this long loses its reservations (handed back by another relay). */
  lease_s: num(1, 3600).default(30),
});

const Jwt = () =>
  z.strictObject({
    issuer: someText,
    algorithms: z.array(text).default(["EdDSA"]),
    public_key_file: someText,
    jwks_url: someUrl,
    secret_env: someText,
    max_ttl_s: int(1).default(900),
  });

/** `[peers.X.budget.profiles.P]`: limits of one peer on one profile, on top of the peer's. */
const ProfileBudget = () =>
  z.strictObject({
    window: someText,
    max_turns: int(0).optional(),
    max_tokens: int(0).optional(),
    max_cost_usd: num(0).optional(),
    max_turns_per_context: int(1).optional(),
  });

const Budget = () =>
  z.strictObject({
    window: z.string().default("24h"),
    profiles: z.record(text, ProfileBudget()).optional(),
    max_turns: int(0).optional(),
    max_tokens: int(0).optional(),
    max_cost_usd: num(0).optional(),
    max_concurrent: int(1).optional(),
    max_queued: int(0).default(16),
    max_turns_per_context: int(1).optional(),
  });

const Peer = z.strictObject({
  profiles: z.array(text).default(["*"]),
  default_profile: someText,
  token_env: someText,
  token_file: someText,
  admin: z.boolean().default(false),
  jwt: onFirstUse(Jwt).optional(),
  budget: onFirstUse(Budget).optional(),
  push_hosts: z.array(text).optional(),
  /** Identify this peer by its verified client certificate (mutual TLS), without a credential. */
  tls: onFirstUse(() =>
    z
      .strictObject({ subject: nonEmpty, san: nonEmpty })
      .refine(
        (t) => t.subject !== undefined || t.san !== undefined,
        'set subject ("CN=host-a") or san ("DNS:host-a")',
      ),
  ).optional(),
});

const HANDLERS = ["opencode", "claude", "codex", "gemini", "agy", "a2a", "llm", "echo"] as const;

/** Every key a profile may have; which of them a profile takes depends on its handler (below). */
const FlatProfile = z.strictObject({
  handler: z.enum(HANDLERS).optional(),
  description: someText,
  workdir: someText,
  model: someText,
  turn_timeout_s: num(0.01, 86_400).default(300),
  command: someText,
  args: z.array(text).default([]),
  env: z.record(text, text).default({}),
  // a2a
  url: someUrl,
  lease: someText,
  protocol: z.enum(["1.0", "0.3", "hermes-fleet"]).default("1.0"),
  token_env: someText,
  binding: z.enum(["auto", "jsonrpc", "rest"]).default("auto"),
  /** Where the upstream agent serves its card, when not at its origin's /.well-known/agent-card.json. */
  card_url: someUrl,
  /** hermes-fleet: the peer whose post-backs settle tasks its receiver acked with "[queued]". */
  reply_peer: someText,
  /** https upstreams (a2a and remote): trust this CA too; a client certificate for mTLS upstreams. */
  ca_file: nonEmpty,
  client_cert_file: nonEmpty,
  client_key_file: nonEmpty,
  // remote relay
  remote: someUrl,
  remote_profile: someText,
  /** "cert": no Authorization header; the client certificate (client_cert_file) identifies this relay. */
  auth: z.enum(["jwt", "token", "cert"]).default("jwt"),
  // llm
  base_url: someUrl,
  api_key_env: someText,
  system_prompt: someText,
  system_prompt_file: someText,
  max_tokens: int(1).optional(),
  temperature: num(0, 2).optional(),
  // echo
  delay_ms: int(0, 3_600_000).optional(),
});
/** Every key some profile takes (the "did you mean" of an unknown profile key). */
export const PROFILE_KEYS: readonly string[] = Object.keys(FlatProfile.shape);

const COMMON = ["handler", "description", "turn_timeout_s"] as const;
const UPSTREAM_TLS = ["ca_file", "client_cert_file", "client_key_file"] as const;
/** The keys each kind of profile takes: another handler's key is a config error naming it. */
const KEYS: Record<ProfileKind, ReadonlyArray<keyof ProfileConfig>> = {
  cli: [...COMMON, "workdir", "model", "command", "args", "env", "base_url", "api_key_env"],
  a2a: [
    ...COMMON,
    "url",
    "lease",
    "protocol",
    "token_env",
    "binding",
    "card_url",
    "reply_peer",
    "remote_profile",
    ...UPSTREAM_TLS,
  ],
  remote: [
    ...COMMON,
    "remote",
    "remote_profile",
    "auth",
    "token_env",
    "binding",
    "protocol",
    ...UPSTREAM_TLS,
  ],
  llm: [
    ...COMMON,
    "model",
    "base_url",
    "api_key_env",
    "system_prompt",
    "system_prompt_file",
    "max_tokens",
    "temperature",
  ],
  echo: [...COMMON, "delay_ms"],
};
type ProfileKind = "cli" | "a2a" | "remote" | "llm" | "echo";
const CLI_HANDLERS: ReadonlySet<string> = new Set(["opencode", "claude", "codex", "gemini", "agy"]);
const kindOf = (handler: string | undefined): ProfileKind =>
  handler === undefined ? "remote" : CLI_HANDLERS.has(handler) ? "cli" : (handler as ProfileKind);
/** The schema of one kind of profile, picked on first use (a config rarely has every kind). */
const BY_KIND: Partial<Record<ProfileKind, z.ZodType<Partial<ProfileConfig>>>> = {};
const kindSchema = (kind: ProfileKind): z.ZodType<Partial<ProfileConfig>> =>
  (BY_KIND[kind] ??= FlatProfile.pick(
    Object.fromEntries(KEYS[kind].map((k) => [k, true])) as Record<keyof ProfileConfig, true>,
  ) as unknown as z.ZodType<Partial<ProfileConfig>>);
/** What a profile holds for the keys its kind does not take (the shape every receiver reads). */
const DEFAULTS = (({ handler: _, ...d }) => d)(FlatProfile.parse({ handler: "echo" }, ONE_OFF));
/** Keys whose misplacement has a more useful message than "another handler's key". */
const MISPLACED: Record<string, string> = {
  remote: "set handler or remote, not both",
  reply_peer: 'only a handler = "a2a" profile with protocol = "hermes-fleet" takes post-backs',
};

/**
 * A profile, discriminated by `handler` (no handler: a `remote` profile): each kind takes its own
 * keys, so a `workdir` on an `llm` profile is an error naming the key, not silently ignored.
 */
const Profile = z.unknown().transform((v, ctx): ProfileConfig => {
  const handler = (v as { handler?: unknown } | null)?.handler;
  const isObject = typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject || (handler !== undefined && !(HANDLERS as readonly unknown[]).includes(handler))) {
    // not an object, or an unknown handler: the full schema says what is wrong with it
    const r = FlatProfile.safeParse(v, ONE_OFF);
    for (const issue of r.error?.issues ?? []) ctx.addIssue({ ...issue });
    return r.success ? r.data : z.NEVER;
  }
  const kind = kindOf(handler as string | undefined);
  const allowed = new Set<string>(KEYS[kind]);
  const input = { ...(v as Record<string, unknown>) };
  const who = handler === undefined ? "a remote profile" : `a handler = "${handler}" profile`;
  for (const key of Object.keys(input)) {
    if (allowed.has(key) || !Object.hasOwn(FlatProfile.shape, key)) continue;
    const owners = Object.entries(KEYS)
      .filter(([, keys]) => (keys as readonly string[]).includes(key))
      .map(([k]) => (k === "cli" ? [...CLI_HANDLERS].join("/") : k));
    ctx.addIssue({
      code: "custom",
      path: [key],
      message: MISPLACED[key] ?? `${who} does not take this key (it is for ${owners.join(", ")} profiles)`,
    });
    delete input[key];
  }
  const r = kindSchema(kind).safeParse(input, ONE_OFF);
  for (const issue of r.error?.issues ?? []) ctx.addIssue({ ...issue });
  if (!r.success || Object.keys(input).length !== Object.keys(v as object).length) return z.NEVER;
  return { ...DEFAULTS, ...r.data } as ProfileConfig;
});

export const ConfigSchema = z
  .strictObject({
    server: Server.default(Server.parse({}, ONE_OFF)),
    store: Store.default(Store.parse({}, ONE_OFF)),
    budgets: BudgetStore.default(BudgetStore.parse({}, ONE_OFF)),
    ports: z.strictObject({ bands: z.record(text, Band).default({}) }).default({ bands: {} }),
    peers: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "peer names use A-Z a-z 0-9 . _ -"), Peer)
      .optional(),
    profiles: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "profile names use A-Z a-z 0-9 . _ -"),
        Profile,
      )
      .optional(),
  })
  .superRefine((c, ctx) => {
    for (const [name, p] of Object.entries(c.profiles ?? {})) {
      if (!p.handler && !p.remote) {
        ctx.addIssue({
          code: "custom",
          path: ["profiles", name, "handler"],
          message: "set handler or remote",
        });
      }
      if (p.handler && p.remote) {
        ctx.addIssue({
          code: "custom",
          path: ["profiles", name, "remote"],
          message: "set handler or remote, not both",
        });
      }
    }
    for (const [name, p] of Object.entries(c.profiles ?? {})) {
      if (p.reply_peer === undefined) continue;
      if (p.handler !== "a2a" || p.protocol !== "hermes-fleet") {
        ctx.addIssue({
          code: "custom",
          path: ["profiles", name, "reply_peer"],
          message: 'only a handler = "a2a" profile with protocol = "hermes-fleet" takes post-backs',
        });
      } else if (!c.peers?.[p.reply_peer]) {
        ctx.addIssue({
          code: "custom",
          path: ["profiles", name, "reply_peer"],
          message: `no peer named "${p.reply_peer}" (add [peers.${p.reply_peer}] with its token)`,
        });
      }
    }
    for (const [name, peer] of Object.entries(c.peers ?? {})) {
      if (peer.default_profile && c.profiles && !c.profiles[peer.default_profile]) {
        ctx.addIssue({
          code: "custom",
          path: ["peers", name, "default_profile"],
          message: `no profile named "${peer.default_profile}"`,
        });
      }
    }
  });

export type ServerConfig = z.infer<typeof Server>;
export type StoreConfig = z.infer<typeof Store>;
export type PeerConfig = z.infer<typeof Peer>;
export type ProfileConfig = z.infer<typeof FlatProfile>;
export type BudgetConfig = z.infer<ReturnType<typeof Budget>>;
export type BudgetStoreConfig = z.infer<typeof BudgetStore>;

/** Embedded defaults: one `echo` profile. The `local` peer is added by load.ts. */
export const DEFAULT_PROFILES: Record<string, ProfileConfig> = {
  echo: Profile.parse({ handler: "echo", description: "Answers with the text it was sent." }, ONE_OFF),
};

export const parseProfile = (v: unknown): ProfileConfig => Profile.parse(v, ONE_OFF);
export const parsePeer = (v: unknown): PeerConfig => Peer.parse(v, ONE_OFF);
