import { ConfigError, UsageError } from "../errors.ts";

/** Where the CLI client sends: the relay's base URL and a TARGET's JSON-RPC endpoint. */

export const DEFAULT_RELAY_URL = "http://127.0.0.1:9200";

/** The relay the CLI talks to: `--url`, else `A2A_RELAY_URL`, else http://127.0.0.1:9200. */
export function relayBase(env: Record<string, string | undefined>, override?: string): string {
  const raw = override ?? env.A2A_RELAY_URL ?? DEFAULT_RELAY_URL;
  const where =
    override !== undefined ? "--url" : env.A2A_RELAY_URL !== undefined ? "A2A_RELAY_URL" : "default";
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${where}: "${raw}" is not a URL (expected e.g. ${DEFAULT_RELAY_URL})`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new ConfigError(`${where}: "${raw}" is not an http(s) URL`);
  }
  return u.href.replace(/\/+$/, "");
}

/**
 * TARGET of `send`: a profile name on the local relay (`<relay>/a2a/PROFILE`), or a full
 * `http(s)://…/a2a/PROFILE` URL used as it is.
 */
export function resolveTarget(
  target: string,
  env: Record<string, string | undefined>,
  base?: string,
): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      throw new UsageError(`TARGET "${target}" is not a valid URL`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new UsageError(`TARGET "${target}" is not an http(s) URL`);
    }
    return u.href.replace(/\/+$/, "");
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(target)) {
    throw new UsageError(`TARGET "${target}" is neither a profile name nor an http(s)://…/a2a/PROFILE URL`);
  }
  return `${relayBase(env, base)}/a2a/${target}`;
}

/** Whether a URL points at this host (the only place the local token file is sent). */
export function isLoopback(url: string): boolean {
  const h = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
