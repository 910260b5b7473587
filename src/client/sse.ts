/**
 * An incremental Server-Sent Events reader: yields each event as soon as its blank line arrives,
 * whatever the chunking. Comment lines (`: keepalive`) are skipped.
 */

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buf = "";
  let fields = fresh();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl = buf.search(/\r\n|\r|\n/);
      while (nl >= 0) {
        // a "\r" at the end of a chunk may be the first half of "\r\n": wait for the next chunk
        if (!done && nl === buf.length - 1 && buf.endsWith("\r")) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (fields.data.length) yield toEvent(fields);
          fields = fresh();
        } else {
          addLine(fields, line);
        }
        nl = buf.search(/\r\n|\r|\n/);
      }
      if (done) break;
    }
    if (buf) addLine(fields, buf);
    if (fields.data.length) yield toEvent(fields);
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

// internal

interface Fields {
  event: string;
  data: string[];
  id: string | undefined;
}

function fresh(): Fields {
  return { event: "message", data: [], id: undefined };
}

function addLine(f: Fields, line: string): void {
  if (line.startsWith(":")) return;
  const i = line.indexOf(":");
  const name = i < 0 ? line : line.slice(0, i);
  let value = i < 0 ? "" : line.slice(i + 1);
  if (value.startsWith(" ")) value = value.slice(1);
  if (name === "data") f.data.push(value);
  else if (name === "event") f.event = value;
  else if (name === "id") f.id = value;
}

function toEvent(f: Fields): SseEvent {
  return { event: f.event, data: f.data.join("\n"), ...(f.id !== undefined ? { id: f.id } : {}) };
}
