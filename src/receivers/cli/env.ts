import type { BuildContext } from "./types.ts";

/** Variables passed from the relay's environment to a coding CLI; everything else is dropped. */
const ENV_ALLOW = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "TERM",
  "TZ",
  "TMPDIR",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "XDG_CACHE_HOME",
  "XDG_STATE_HOME",
  "XDG_RUNTIME_DIR",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
] as const;

/**
 * The child's environment: the allow-listed part of the relay's, then what the adapter needs,
 * then the profile's `env` (which wins: it is the operator's explicit choice).
 */
export function childEnv(
  relayEnv: Record<string, string | undefined>,
  adapterEnv: Record<string, string>,
  profileEnv: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ENV_ALLOW) {
    const v = relayEnv[k];
    if (v !== undefined) out[k] = v;
  }
  return { ...out, ...adapterEnv, ...profileEnv };
}

/** The API key named by the profile's `api_key_env`, looked up in its `env`, then the relay's. */
export function apiKey(ctx: Pick<BuildContext, "config" | "env">): string | undefined {
  const name = ctx.config.api_key_env;
  if (!name) return undefined;
  return ctx.config.env[name] ?? ctx.env[name];
}
