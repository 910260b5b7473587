/**
 * Server-Sent Events. `sseStream` turns an event source into a `text/event-stream` body with
 * keepalive comments, and always runs `cleanup` once: when the source ends, fails, or the client
 * goes away.
 */

export interface SseFrame {
  id?: number | undefined;
  event?: string | undefined;
  data: unknown;
}

export interface SseSource {
  /** Start producing; call `push` per frame and `end` when done. Returns the cleanup. */
  start(push: (f: SseFrame) => void, end: () => void): () => void;
}

export function sseStream(
  source: SseSource,
  opts: { keepaliveMs: number; signal?: AbortSignal },
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let cleanup: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer) clearInterval(timer);
    opts.signal?.removeEventListener("abort", close);
    cleanup?.();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const push = (f: SseFrame) => {
        if (closed) return;
        let s = "";
        if (f.id !== undefined) s += `id: ${f.id}\n`;
        if (f.event) s += `event: ${f.event}\n`;
        s += `data: ${JSON.stringify(f.data)}\n\n`;
        controller.enqueue(enc.encode(s));
      };
      const end = () => {
        if (closed) return;
        close();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      // a comment first: the response's headers go out now, not with the first event (which
      // may wait for an upstream), so a caller knows at once that the connection stands.
      // Comments end with one newline, not a blank line: they become lines of the next event,
      // which SSE ignores, and no block is a comment alone, which some clients' parsers take
      // for an event and fail on (Mastra's client: "Failed to parse A2A stream event")
      controller.enqueue(enc.encode(": stream open\n"));
      timer = setInterval(() => {
        if (!closed) controller.enqueue(enc.encode(": keepalive\n"));
      }, opts.keepaliveMs);
      opts.signal?.addEventListener("abort", close, { once: true });
      cleanup = source.start(push, end);
      if (closed) cleanup();
    },
    cancel() {
      close();
    },
  });
}

const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/**
 * The header announcing the keepalive interval (seconds) of a stream this relay serves: a relay
 * reading the stream treats three intervals without a byte as a broken connection.
 */
export const KEEPALIVE_HEADER = "A2A-Relay-Keepalive";

export function sseHeaders(keepaliveMs: number): Record<string, string> {
  return { ...SSE_HEADERS, [KEEPALIVE_HEADER]: String(keepaliveMs / 1000) };
}
