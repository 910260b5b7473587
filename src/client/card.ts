import { z } from "zod";
import { invalidAgentCard, UsageError, upstreamUnavailable } from "../errors.ts";
import { fromFetchFailure } from "./errors.ts";
import type { FetchLike } from "./rpc.ts";

/**
 * Fetch an agent card and validate it as A2A v1.0 (`supportedInterfaces`) or v0.3 (`url`,
 * `protocolVersion`). Unknown fields are kept: real cards mix both (Hermes's plugin does).
 */

const Skill = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
});
const Common = {
  name: z.string().min(1),
  description: z.string(),
  version: z.string(),
  defaultInputModes: z.array(z.string()),
  defaultOutputModes: z.array(z.string()),
  skills: z.array(Skill),
  securitySchemes: z.record(z.string(), z.unknown()).optional(),
};

const CardV1Schema = z.looseObject({
  ...Common,
  supportedInterfaces: z
    .array(z.looseObject({ url: z.url(), protocolBinding: z.string(), protocolVersion: z.string() }))
    .min(1),
  capabilities: z.looseObject({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    extendedAgentCard: z.boolean().optional(),
  }),
});

const CardV03Schema = z.looseObject({
  ...Common,
  protocolVersion: z.string(),
  url: z.url(),
  preferredTransport: z.string().optional(),
  additionalInterfaces: z.array(z.looseObject({ url: z.url(), transport: z.string() })).optional(),
  capabilities: z.looseObject({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
  }),
});

interface CardSummary {
  protocol: "1.0" | "0.3";
  name: string;
  description: string;
  version: string;
  interfaces: Array<{ url: string; binding: string; protocolVersion: string }>;
  streaming: boolean;
  skills: Array<{ id: string; name: string; description: string }>;
  security: string[];
}

export interface FetchedCard {
  /** The URL the card was read from. */
  url: string;
  card: Record<string, unknown>;
  summary: CardSummary;
}

/** `URL` if it ends in `.json`, else `URL/.well-known/agent-card.json`. */
function cardUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not a URL; give the agent's base URL or its card's .json URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`"${url}" is not an http(s) URL`);
  if (u.pathname.endsWith(".json")) return u.href;
  return `${u.href.replace(/\/+$/, "")}/.well-known/agent-card.json`;
}

export async function fetchCard(
  url: string,
  opts: { fetch?: FetchLike; protocol?: "1.0" | "0.3"; signal?: AbortSignal } = {},
): Promise<FetchedCard> {
  const target = cardUrl(url);
  const headers: Record<string, string> = { accept: "application/json" };
  headers["a2a-version"] = opts.protocol ?? "1.0";
  let res: Response;
  let text: string;
  try {
    res = await (opts.fetch ?? fetch)(target, { headers, ...(opts.signal ? { signal: opts.signal } : {}) });
    text = await res.text();
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw fromFetchFailure(err, target);
  }
  if (res.status >= 500) throw upstreamUnavailable(`HTTP ${res.status} from ${target}`);
  if (!res.ok) throw invalidAgentCard(target, [`HTTP ${res.status}: no agent card there`]);
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch {
    throw invalidAgentCard(target, ["the response is not JSON"]);
  }
  if (!card || typeof card !== "object" || Array.isArray(card)) {
    throw invalidAgentCard(target, ["the card is not a JSON object"]);
  }
  return { url: target, card: card as Record<string, unknown>, summary: validateCard(card, target) };
}

/** Validate a parsed card; throws INVALID_AGENT_CARD naming every failing field. */
function validateCard(card: object, where: string): CardSummary {
  const c = card as Record<string, unknown>;
  const looksV03 = !("supportedInterfaces" in c) && ("url" in c || "protocolVersion" in c);
  if (looksV03) {
    const r = CardV03Schema.safeParse(c);
    if (!r.success) throw invalidAgentCard(where, problems("v0.3", r.error));
    const v = r.data;
    const interfaces = [
      { url: v.url, binding: v.preferredTransport ?? "JSONRPC", protocolVersion: v.protocolVersion },
      ...(v.additionalInterfaces ?? [])
        .filter((i) => i.url !== v.url || i.transport !== (v.preferredTransport ?? "JSONRPC"))
        .map((i) => ({ url: i.url, binding: i.transport, protocolVersion: v.protocolVersion })),
    ];
    return summary("0.3", v, interfaces, v.capabilities.streaming ?? false);
  }
  const r = CardV1Schema.safeParse(c);
  if (!r.success) {
    const p = problems("v1.0", r.error);
    if (!("supportedInterfaces" in c)) p.push("(nor is it a v0.3 card: no url or protocolVersion)");
    throw invalidAgentCard(where, p);
  }
  const v = r.data;
  const interfaces = v.supportedInterfaces.map((i) => ({
    url: i.url,
    binding: i.protocolBinding,
    protocolVersion: i.protocolVersion,
  }));
  return summary("1.0", v, interfaces, v.capabilities.streaming ?? false);
}

// internal

function summary(
  protocol: "1.0" | "0.3",
  v: z.infer<typeof CardV1Schema> | z.infer<typeof CardV03Schema>,
  interfaces: CardSummary["interfaces"],
  streaming: boolean,
): CardSummary {
  return {
    protocol,
    name: v.name,
    description: v.description,
    version: v.version,
    interfaces,
    streaming,
    skills: v.skills.map((s) => ({ id: s.id, name: s.name, description: s.description })),
    security: Object.entries(v.securitySchemes ?? {}).map(([k, s]) => `${k} (${describeScheme(s)})`),
  };
}

/** v1.0 schemes are keyed by kind (`httpAuthSecurityScheme`); v0.3 ones have `type`. */
function describeScheme(s: unknown): string {
  if (!s || typeof s !== "object") return "unknown";
  const o = s as Record<string, unknown>;
  if (typeof o.type === "string") return [o.type, o.scheme, o.in, o.name].filter(Boolean).join(" ");
  const [kind, body] = Object.entries(o)[0] ?? [];
  if (!kind) return "unknown";
  const b = (body ?? {}) as Record<string, unknown>;
  const name = kind.replace(/SecurityScheme$/, "");
  return [name, b.scheme, b.location, b.name].filter((x) => typeof x === "string" && x).join(" ");
}

function problems(version: string, err: z.ZodError): string[] {
  return err.issues.slice(0, 8).map((i) => {
    const path = i.path.map(String).join(".") || "(top level)";
    const msg = i.code === "invalid_type" && i.message.includes("undefined") ? "missing" : i.message;
    return `${version} ${path}: ${msg}`;
  });
}
