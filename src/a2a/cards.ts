/**
 * Agent cards: v1.0 shape, and the v0.3 shape for callers that send no `A2A-Version`.
 * URLs come from the configured public URL or the request's forwarded host, never a bind address.
 */

export interface CardSkill {
  id: string;
  name: string;
  description: string;
  tags: string[];
}

export interface CardInput {
  name: string;
  description: string;
  version: string;
  /** The JSON-RPC endpoint (`…/a2a/{profile}` or `…/a2a`). */
  url: string;
  /** The HTTP+JSON endpoint, when there is one (profiles only). */
  restUrl?: string;
  skills: CardSkill[];
  streaming: boolean;
  pushNotifications: boolean;
  extendedAgentCard: boolean;
}

export function cardV1(c: CardInput): Record<string, unknown> {
  return {
    name: c.name,
    description: c.description,
    version: c.version,
    supportedInterfaces: [
      { url: c.url, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
      ...(c.restUrl ? [{ url: c.restUrl, protocolBinding: "HTTP+JSON", protocolVersion: "1.0" }] : []),
    ],
    provider: { organization: "a2a-relay", url: "https://github.com/a2a-relay/a2a-relay" },
    capabilities: {
      streaming: c.streaming,
      pushNotifications: c.pushNotifications,
      extendedAgentCard: c.extendedAgentCard,
    },
    securitySchemes: {
      bearer: { httpAuthSecurityScheme: { scheme: "Bearer", description: "per-peer token or JWT" } },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ["text/plain", "application/json"],
    defaultOutputModes: ["text/plain", "application/json"],
    skills: c.skills,
  };
}

export function cardV03(c: CardInput): Record<string, unknown> {
  return {
    protocolVersion: "0.3.0",
    name: c.name,
    description: c.description,
    version: c.version,
    url: c.url,
    preferredTransport: "JSONRPC",
    additionalInterfaces: [{ url: c.url, transport: "JSONRPC" }],
    provider: { organization: "a2a-relay", url: "https://github.com/a2a-relay/a2a-relay" },
    capabilities: { streaming: c.streaming, pushNotifications: c.pushNotifications },
    securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "per-peer token or JWT" } },
    security: [{ bearer: [] }],
    defaultInputModes: ["text/plain", "application/json"],
    defaultOutputModes: ["text/plain", "application/json"],
    skills: c.skills,
    supportsAuthenticatedExtendedCard: c.extendedAgentCard,
  };
}

/**
 * The card for a caller that sent no `A2A-Version`: the v1.0 card plus the v0.3 fields, so a v1.0
 * reader finds `supportedInterfaces` (readers treat a card with them as v1.0) and a v0.3 reader its
 * `url`, `preferredTransport` and `additionalInterfaces`. The bearer scheme carries both forms.
 */
export function cardAny(c: CardInput): Record<string, unknown> {
  const v03 = cardV03(c);
  const v1 = cardV1(c);
  const scheme = (card: Record<string, unknown>) =>
    (card.securitySchemes as Record<string, Record<string, unknown>>).bearer;
  return {
    ...v03,
    ...v1,
    capabilities: { ...(v03.capabilities as object), ...(v1.capabilities as object) },
    securitySchemes: { bearer: { ...scheme(v03), ...scheme(v1) } },
  };
}

/**
 * The public base URL of this relay for one request: `server.public_url`, else the forwarded
 * proto/host when the request came from a trusted proxy (`forwarded`), else the Host header. A
 * bind address like 0.0.0.0 is never used.
 */
export function publicBase(
  publicUrl: string | undefined,
  headers: Headers,
  requestUrl: string,
  forwarded = false,
): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  const u = new URL(requestUrl);
  const fwdProto = forwarded ? first(headers.get("x-forwarded-proto")) : undefined;
  const fwdHost = forwarded ? first(headers.get("x-forwarded-host")) : undefined;
  const host = fwdHost ?? headers.get("host") ?? u.host;
  const proto = fwdProto ?? u.protocol.replace(":", "");
  const safeHost = /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? host : u.host;
  return `${proto === "https" ? "https" : "http"}://${safeHost}`;
}

// internal

function first(v: string | null): string | undefined {
  const s = v?.split(",")[0]?.trim();
  return s || undefined;
}
