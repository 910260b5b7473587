import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * The one Server-Sent Events reader for every stream the relay reads (upstream agents, model
 * servers, the CLI client): eventsource-parser, fed incrementally, so each event is yielded as
 * soon as its blank line arrives, whatever the chunking and whichever line ending (`\n`, `\r\n`
 * or a bare `\r`). Comment lines (`: keepalive`) are skipped; a last event with no blank line
 * after it is still yielded when the stream ends.
 */

interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * `onReadError` turns a failed read (the connection broke mid-stream) into the error to throw;
 * without it the read error itself is thrown.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  onReadError?: (err: unknown) => unknown,
): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  const ready: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => ready.push(toEvent(e)) });
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw onReadError ? onReadError(err) : err;
      }
      // at the end, blank lines complete a last line and event the stream left unterminated
      parser.feed(chunk.done ? `${decoder.decode()}\n\n` : decoder.decode(chunk.value, { stream: true }));
      while (ready.length) yield ready.shift()!;
      if (chunk.done) break;
    }
  } finally {
    reader.releaseLock();
    // a body whose connection already broke rejects its cancel: there is nothing left to release
    await body.cancel().catch(() => {});
  }
}

// internal

function toEvent(e: EventSourceMessage): SseEvent {
  return { event: e.event ?? "message", data: e.data, ...(e.id !== undefined ? { id: e.id } : {}) };
}
