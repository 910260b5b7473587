/**
 * A stand-in for the a2a_fleet plugin's managed receivers (oc_receiver.py and friends), run as its
 * own process: `bun test/helpers/queued-receiver.ts` prints `{"url": …}` once listening. It speaks
 * their wire format: `POST /jsonrpc` (fleet dialect) is answered at once with
 * "Message received; executing in repo via opencode. Reply will follow. [queued]", and the real
 * answer is POSTed later to `HERMES_URL` as a fleet `SendMessage` with `role: "agent"` and the same
 * contextId (Bearer `HERMES_TOKEN`; 3 tries, 0.5 s × n apart, any 2xx counts). What it answers
 * depends on the text:
 *   `hold …`      → the post-back waits until `POST /control/release {"contextId"}`
 *   `busy …`      → the post-back is `[busy] this context is processing another turn; retry shortly`
 *   `dup …`       → JSON-RPC -32001 "duplicate dispatch" instead of an acknowledgement
 *   anything else → after `DELAY_MS` (default 50), the post-back `done: TEXT`
 * `GET /control/log` lists what it received and every post-back attempt's HTTP status.
 */

const hermesUrl = process.env.HERMES_URL ?? "";
const token = process.env.HERMES_TOKEN;
const delayMs = Number(process.env.DELAY_MS ?? 50);

interface Log {
  received: Array<{ text: string; contextId: string; auth: string | null }>;
  postbacks: Array<{ contextId: string; text: string; status: number | string }>;
}
const log: Log = { received: [], postbacks: [] };
const held = new Map<string, string>();

async function postBack(contextId: string, text: string): Promise<void> {
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: `oc-${Date.now()}`,
    method: "SendMessage",
    params: { message: { role: "agent", parts: [{ text }], contextId } },
  });
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(hermesUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      await res.text();
      log.postbacks.push({ contextId, text, status: res.status });
      if (res.ok) return;
    } catch (err) {
      log.postbacks.push({ contextId, text, status: err instanceof Error ? err.name : "error" });
    }
    await Bun.sleep(500 * attempt);
  }
}

const listener = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/control/log") return Response.json(log);
    if (url.pathname === "/control/release") {
      const { contextId } = (await req.json()) as { contextId: string };
      const text = held.get(contextId);
      if (text === undefined) return Response.json({ released: false }, { status: 404 });
      held.delete(contextId);
      await postBack(contextId, `done: ${text}`);
      return Response.json({ released: true });
    }
    if (req.method !== "POST" || url.pathname !== "/jsonrpc")
      return new Response("not found", { status: 404 });
    const rpc = (await req.json()) as {
      id: unknown;
      params?: { contextId?: string; message?: { contextId?: string; parts?: Array<{ text?: string }> } };
    };
    if (rpc.params?.contextId !== undefined) {
      return Response.json({
        jsonrpc: "2.0",
        id: rpc.id,
        error: { code: -32602, message: "contextId belongs in message" },
      });
    }
    const m = rpc.params?.message ?? {};
    const contextId = m.contextId ?? `anon-${crypto.randomUUID()}`;
    const text = m.parts?.find((p) => typeof p.text === "string")?.text ?? "";
    log.received.push({ text, contextId, auth: req.headers.get("authorization") });
    if (text.startsWith("dup")) {
      return Response.json({
        jsonrpc: "2.0",
        id: rpc.id,
        error: {
          code: -32001,
          message: "duplicate dispatch: context already has a turn in flight; retry after it completes",
        },
      });
    }
    if (text.startsWith("hold")) held.set(contextId, text);
    else if (text.startsWith("busy")) {
      setTimeout(
        () => void postBack(contextId, "[busy] this context is processing another turn; retry shortly"),
        delayMs,
      );
    } else setTimeout(() => void postBack(contextId, `done: ${text}`), delayMs);
    return Response.json({
      jsonrpc: "2.0",
      id: rpc.id,
      result: {
        kind: "message",
        message: {
          role: "agent",
          parts: [{ text: "Message received; executing in repo via opencode. Reply will follow. [queued]" }],
          contextId,
        },
      },
    });
  },
});

console.log(JSON.stringify({ url: `http://127.0.0.1:${listener.port}` }));

export {};
