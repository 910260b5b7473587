import { describe, expect, test } from "bun:test";
import { readSse } from "../../src/a2a/sse-read.ts";
import { sseFrames, UpstreamError } from "../../src/receivers/a2a/http.ts";

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

describe("sseFrames (the receivers' reader)", () => {
  const frames = async (body: ReadableStream<Uint8Array>) => {
    const out: unknown[] = [];
    for await (const f of sseFrames(body, new AbortController().signal)) out.push(f);
    return out;
  };
  const enc = (s: string) => new TextEncoder().encode(s);

  test('splits a stream whose lines end in a bare "\\r", whatever the chunking', async () => {
    const text = 'data: {"n":1}\r\r: keepalive\r\rdata: a\rdata: b\r\r';
    const bytes = enc(text);
    for (let size = 1; size <= bytes.length; size++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
      expect(await frames(streamOf(chunks))).toEqual([{ data: '{"n":1}' }, { data: "a\nb" }]);
    }
  });

  test("a stream that breaks mid-way is UPSTREAM unavailable, after the frames before it", async () => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ === 0) c.enqueue(enc("data: first\n\n"));
        else c.error(new Error("socket hang up"));
      },
    });
    const got: unknown[] = [];
    const err = await (async () => {
      for await (const f of sseFrames(body, new AbortController().signal)) got.push(f);
    })().catch((e) => e);
    expect(got).toEqual([{ data: "first" }]);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.message).toContain("stream broken (connection reset)");
  });
});
