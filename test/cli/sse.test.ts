import { describe, expect, test } from "bun:test";
import { readSse } from "../../src/client/sse.ts";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(ch);
      c.close();
    },
  });
}

async function collect(chunks: Uint8Array[]) {
  const out = [];
  for await (const e of readSse(streamOf(chunks))) out.push(e);
  return out;
}

const TEXT =
  ': keepalive\n\nid: 1\ndata: {"a":"héllo"}\n\r\nevent: error\r\ndata: line1\r\ndata: line2\r\n\r\n: done\n\ndata:tail';
const BYTES = new TextEncoder().encode(TEXT);
const EXPECTED = [
  { event: "message", data: '{"a":"héllo"}', id: "1" },
  { event: "error", data: "line1\nline2" },
  { event: "message", data: "tail" },
];

describe("readSse", () => {
  test("parses events, skips comments, handles \\r\\n and a last event with no blank line", async () => {
    expect(await collect([BYTES])).toEqual(EXPECTED);
  });

  test("gives the same events whatever the chunking, even inside a UTF-8 character or a \\r\\n", async () => {
    for (let size = 1; size <= 7; size++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < BYTES.length; i += size) chunks.push(BYTES.slice(i, i + size));
      expect(await collect(chunks)).toEqual(EXPECTED);
    }
  });

  test("yields an event as soon as its blank line arrives, before the stream ends", async () => {
    let push: (s: string) => void = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        push = (s) => c.enqueue(new TextEncoder().encode(s));
      },
    });
    const it = readSse(body);
    push("data: first\n\n");
    const first = await it.next();
    expect(first.value).toEqual({ event: "message", data: "first" });
    await it.return(undefined);
  });
});
