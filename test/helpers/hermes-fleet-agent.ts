import { currentRuntime } from "../../src/runtime/index.ts";

/**
 * A fake older-Hermes fleet node, on the wire as the a2a_fleet plugin's `server.py` is: `SendMessage`
 * (or `message/send`) answered after the "turn" with `{"kind":"message","message":{…}}` (no
 * `messageId`), whatever the request's message carries; -32601 for `SendStreamingMessage` and every
 * other method; HTTP 401 `{"error": …}` for a bad token; its public card at
 * `/.well-known/agent-card.json`. It numbers the turns of each context, so multi-turn is visible:
 * the answer to "hi" on the 2nd turn of context C is `turn 2 in C: hi`.
 *
 * It can also *call out*, as a Hermes profile does: `fleetSend` speaks the same dialect to a relay,
 * and `forward` makes the node, after answering, send a follow-up of its own (the model of two
 * agents that keep answering each other).
 */
export interface FleetAgent {
  url: string;
  received: Array<{
    text: string;
    contextId: string | undefined;
    messageId: unknown;
    headers: Record<string, string>;
  }>;
  /** The texts this node received per context, in order (its view of each conversation). */
  history(contextId: string): string[];
  /** Follow-ups sent by `forward` and what became of each. */
  sent: FleetSendResult[];
  /** Set (or clear) the follow-up behaviour at any time, e.g. once the relay's URL is known. */
  forward: FleetForward | undefined;
  stop(): Promise<void>;
}

export interface FleetForward {
  /** A relay's `…/a2a/<profile>` URL this node calls. */
  url: string;
  token: string;
  /** The conversation it continues there (fixed), else the context it was called in. */
  contextId?: string;
  /** The follow-up text for a received text; undefined sends nothing. */
  next(text: string): string | undefined;
  /** Bound on one follow-up request. */
  timeoutMs?: number;
}

export interface FleetSendResult {
  text: string;
  status: number;
  answer?: { text: string; contextId: string | undefined };
  error?: { code: number; message: string; data?: unknown };
}

export function startHermesFleetAgent(opts: {
  token: string;
  hostname?: string;
  /** 0 (default): a free port. */
  port?: number;
  forward?: FleetForward;
}): FleetAgent {
  const turns = new Map<string, number>();
  const histories = new Map<string, string[]>();
  const received: FleetAgent["received"] = [];
  const sent: FleetSendResult[] = [];
  const pending = new Set<Promise<void>>();
  let forward = opts.forward;
  const listener = currentRuntime().serve({
    hostname: opts.hostname ?? "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req) {
      if (req.method === "GET" && new URL(req.url).pathname === "/.well-known/agent-card.json") {
        return Response.json(fleetCard(new URL(req.url).origin));
      }
      if (req.headers.get("authorization") !== `Bearer ${opts.token}`) {
        return Response.json({ error: "invalid or missing bearer token" }, { status: 401 });
      }
      const body = (await req.json().catch(() => null)) as {
        id?: unknown;
        method?: unknown;
        params?: { message?: { messageId?: unknown; parts?: Array<{ text?: string }>; contextId?: string } };
      } | null;
      if (!body)
        return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
      if (body.method !== "SendMessage" && body.method !== "message/send") {
        return Response.json({
          jsonrpc: "2.0",
          id: body.id ?? null,
          error: { code: -32601, message: `Method ${JSON.stringify(body.method)} not implemented in v0.1` },
        });
      }
      const m = body.params?.message ?? {};
      const text = m.parts?.find((p) => typeof p.text === "string")?.text ?? "";
      received.push({
        text,
        contextId: m.contextId,
        messageId: m.messageId,
        headers: Object.fromEntries(req.headers),
      });
      const ctx = m.contextId ?? `fleet-${crypto.randomUUID()}`;
      const n = (turns.get(ctx) ?? 0) + 1;
      turns.set(ctx, n);
      histories.set(ctx, [...(histories.get(ctx) ?? []), text]);
      const f = forward;
      const follow = f?.next(text);
      if (f && follow !== undefined) {
        // after this answer is on its way: the node's own next message, like an agent replying
        const p = new Promise<void>((r) => setTimeout(r, 5))
          .then(() => fleetSend(f.url, f.token, follow, f.contextId ?? ctx, f.timeoutMs))
          .then((r) => {
            sent.push(r);
          })
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      return Response.json({
        jsonrpc: "2.0",
        id: body.id,
        result: {
          kind: "message",
          message: { role: "agent", parts: [{ text: `turn ${n} in ${ctx}: ${text}` }], contextId: ctx },
        },
      });
    },
  });
  return {
    url: `http://${opts.hostname ?? "127.0.0.1"}:${listener.port}/jsonrpc`,
    received,
    history: (ctx) => histories.get(ctx) ?? [],
    sent,
    get forward() {
      return forward;
    },
    set forward(f) {
      forward = f;
    },
    async stop() {
      await Promise.allSettled([...pending]);
      await listener.stop(true);
    },
  };
}

/** The card `server.py` serves: v0.3-style (`url`, no `supportedInterfaces`), no streaming. */
function fleetCard(base: string) {
  return {
    name: "fleet-node",
    description: "Hermes Agent profile exposed as an A2A v0.1 fleet member.",
    url: `${base}/jsonrpc`,
    version: "0.1.0",
    protocolVersion: "1.0",
    capabilities: { streaming: false, pushNotifications: false, stateTransitionHistory: false },
    defaultInputModes: ["text", "text/plain"],
    defaultOutputModes: ["text", "text/plain"],
    securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } },
    security: [{ bearerAuth: [] }],
    skills: [{ id: "echo", name: "Echo", description: "echoes", tags: ["v0.1"], examples: ["ping"] }],
  };
}

/** One message as an older Hermes node sends it: no `A2A-Version`, no `messageId`; bounded. */
export async function fleetSend(
  url: string,
  token: string,
  text: string,
  contextId?: string,
  timeoutMs = 20_000,
): Promise<FleetSendResult> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: crypto.randomUUID(),
      method: "SendMessage",
      params: { message: { role: "user", parts: [{ text }], ...(contextId ? { contextId } : {}) } },
    }),
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((err: unknown) => err as Error);
  if (res instanceof Error) return { text, status: 0, error: { code: 0, message: res.message } };
  const body = (await res.json().catch(() => ({}))) as {
    result?: { message?: { parts?: Array<{ text?: string }>; contextId?: string } };
    error?: { code: number; message: string; data?: unknown } | string;
  };
  if (typeof body.error === "string")
    return { text, status: res.status, error: { code: 0, message: body.error } };
  if (body.error) return { text, status: res.status, error: body.error };
  const msg = body.result?.message;
  const answer = (msg?.parts ?? []).map((p) => p.text ?? "").join("\n");
  return { text, status: res.status, answer: { text: answer, contextId: msg?.contextId } };
}
