import type { Config } from "../config/load.ts";
import type { OutboundTls } from "../config/tls.ts";
import type { FetchFn } from "../fetch.ts";
import type { Runtime } from "../runtime/index.ts";

/**
 * The relay's outbound `fetch`es: https trusts the system roots plus `fleet_ca_file` (JWKS, push
 * deliveries), and per forwarding profile its `ca_file` and client certificate; an upstream's card
 * is read with its profile's TLS settings (matched by origin).
 */
export function outboundFetches(runtime: Runtime, config: Config, outFetch: FetchFn) {
  const fetchWith = (t: OutboundTls | undefined): FetchFn => {
    if (!t) return outFetch;
    const extra = runtime.tlsInit(t);
    return (url, init) => outFetch(url, { ...init, ...extra } as RequestInit);
  };
  const fleet = fetchWith(config.server.fleetCa ? { ca: [config.server.fleetCa] } : undefined);
  const byProfile = new Map<string, FetchFn>();
  const byOrigin = new Map<string, FetchFn>();
  for (const [name, t] of Object.entries(config.outboundTls)) {
    const f = fetchWith(t);
    byProfile.set(name, f);
    const p = config.profiles[name];
    const origin = originOf(p?.remote ?? p?.url);
    if (origin && !byOrigin.has(origin)) byOrigin.set(origin, f);
  }
  const cards: FetchFn = (url, init) => (byOrigin.get(originOf(String(url)) ?? "") ?? fleet)(url, init);
  return { fleet, byProfile, cards };
}

// internal

function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}
