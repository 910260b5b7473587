import { currentRuntime } from "../../src/runtime/index.ts";

/**
 * A fake older-Hermes fleet node: header-less `SendMessage` (or `message/send`) whose message has no
 * `messageId`, answered after the "turn" with `{"kind":"message","message":{…}}`; HTTP 401
 * `{"error": …}` for a bad token. It numbers the turns of each context, so multi-turn is visible:
 * the answer to "hi" on the 2nd turn of context C is `turn 2 in C: hi`.
 */
export interface FleetAgent {
  url: string;
  received: Array<{ text: string; contextId: string | undefined; headers: Record<string, string> }>;
  stop(): Promise<void>;
}

export function startHermesFleetAgent(opts: { token: string }): FleetAgent {
  const turns = new Map<string, number>();
  const received: FleetAgent["received"] = [];
  const listener = currentRuntime().serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.headers.get("authorization") !== `Bearer ${opts.token}`) {
        return Response.json({ error: "invalid or missing bearer token" }, { status: 401 });
      }
      const body = (await req.json().catch(() => null)) as {
        id?: unknown;
        method?: unknown;
        params?: { message?: { messageId?: unknown; parts?: Array<{ text?: string }>; contextId?: string } };
      } | null;
      const m = body?.params?.message;
      if (!body || (body.method !== "SendMessage" && body.method !== "message/send") || !m || m.messageId) {
        return Response.json({
          jsonrpc: "2.0",
          id: body?.id ?? null,
          error: { code: -32600, message: "not the fleet dialect" },
        });
      }
      const text = m.parts?.find((p) => typeof p.text === "string")?.text ?? "";
      received.push({ text, contextId: m.contextId, headers: Object.fromEntries(req.headers) });
      const ctx = m.contextId ?? `fleet-${crypto.randomUUID()}`;
      const n = (turns.get(ctx) ?? 0) + 1;
      turns.set(ctx, n);
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
    url: `http://127.0.0.1:${listener.port}/jsonrpc`,
    received,
    stop: () => listener.stop(true),
  };
}
