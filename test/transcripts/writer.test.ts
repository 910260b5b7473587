import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  followTranscript,
  pruneTranscripts,
  readTranscript,
  type TranscriptLine,
  TranscriptWriter,
  transcriptFiles,
  transcriptPath,
} from "../../src/transcripts/index.ts";

const root = () => mkdtempSync(join(tmpdir(), "a2a-transcripts-"));

function line(i: number, extra: Partial<TranscriptLine> = {}): TranscriptLine {
  return {
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    origin: "a2a",
    peer: "bot",
    profile: "echo",
    context: "a2a:bot:c1",
    task: "t1",
    message: `m${i}`,
    dir: i % 2 ? "out" : "in",
    role: i % 2 ? "agent" : "user",
    text: `line ${i}\nwith a newline inside`,
    ...extra,
  };
}

describe("transcript writer", () => {
  test("lines of one tick are batched per file, whole, one JSON object a line", () => {
    const dir = root();
    const ticks: Array<() => void> = [];
    const w = new TranscriptWriter({ root: dir, schedule: (fn) => ticks.push(fn) });
    for (let i = 0; i < 5; i++) w.append(line(i));
    w.append(line(9, { profile: "coder" }));
    expect(ticks).toHaveLength(1);
    expect(readTranscript(dir, "bot")).toEqual([]);
    ticks[0]!();
    const raw = readFileSync(transcriptPath(dir, "echo", "bot"), "utf8");
    expect(raw.endsWith("\n")).toBe(true);
    expect(
      raw
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).message),
    ).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(readTranscript(dir, "bot").map((l) => l.message)).toEqual(["m0", "m1", "m2", "m3", "m4", "m9"]);
    expect(readTranscript(dir, "bot", { profile: "coder" }).map((l) => l.message)).toEqual(["m9"]);
    expect(readTranscript(dir, "bot", { limit: 2 }).map((l) => l.message)).toEqual(["m4", "m9"]);
    w.close();
  });

  test("size-based rotation keeps <peer>.jsonl.1 … .N, and the reader reads them oldest first", () => {
    const dir = root();
    const w = new TranscriptWriter({ root: dir, maxBytes: 1000, keep: 2, schedule: () => {} });
    for (let i = 0; i < 30; i++) {
      w.append(line(i));
      w.flush();
    }
    w.close();
    const files = transcriptFiles(dir, "echo", "bot");
    expect(files.map((f) => f.slice(f.lastIndexOf("/") + 1))).toEqual([
      "bot.jsonl.2",
      "bot.jsonl.1",
      "bot.jsonl",
    ]);
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
    const msgs = readTranscript(dir, "bot").map((l) => Number(l.message.slice(1)));
    expect(msgs[msgs.length - 1]).toBe(29);
    expect(msgs).toEqual([...msgs].sort((a, b) => a - b)); // in order, oldest dropped
  });

  test("a new UTC day starts a new file; retention deletes whole old days, oldest first", () => {
    const dir = root();
    let now = Date.UTC(2026, 0, 1, 23, 0, 0);
    const w = new TranscriptWriter({ root: dir, schedule: () => {}, now: () => now });
    for (let day = 0; day < 4; day++) {
      w.append(line(day));
      w.flush();
      // the file's mtime is the day it was written (what retention reads)
      const t = new Date(now);
      utimesSync(transcriptPath(dir, "echo", "bot"), t, t);
      now += 86_400_000;
    }
    w.close();
    expect(transcriptFiles(dir, "echo", "bot").map((f) => f.slice(f.lastIndexOf("/") + 1))).toEqual([
      "bot.jsonl.3",
      "bot.jsonl.2",
      "bot.jsonl.1",
      "bot.jsonl",
    ]);
    for (let i = 1; i <= 3; i++) {
      const t = new Date(Date.UTC(2026, 0, 4 - i, 23, 0, 0));
      utimesSync(`${transcriptPath(dir, "echo", "bot")}.${i}`, t, t);
    }
    // keep two days: the files of Jan 1 and Jan 2 go, Jan 3 and the current file stay
    expect(pruneTranscripts(dir, Date.UTC(2026, 0, 3, 0, 0, 0))).toBe(2);
    expect(readTranscript(dir, "bot").map((l) => l.message)).toEqual(["m2", "m3"]);
  });

  test("a partial last line (a cut write) is skipped by readers and cut when the writer reopens", () => {
    const dir = root();
    const path = transcriptPath(dir, "echo", "bot");
    const w1 = new TranscriptWriter({ root: dir, schedule: () => {} });
    w1.append(line(0));
    w1.flush();
    w1.close();
    appendFileSync(path, '{"ts":"2026-01-01T00:00:01.000Z","orig');
    expect(readTranscript(dir, "bot").map((l) => l.message)).toEqual(["m0"]);
    const w2 = new TranscriptWriter({ root: dir, schedule: () => {} });
    w2.append(line(2));
    w2.flush();
    w2.close();
    const raw = readFileSync(path, "utf8");
    expect(
      raw
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).message),
    ).toEqual(["m0", "m2"]);
  });

  test("a file of only a partial line is emptied on reopen", () => {
    const dir = root();
    const path = transcriptPath(dir, "echo", "bot");
    const w0 = new TranscriptWriter({ root: dir, schedule: () => {} });
    w0.append(line(0));
    w0.flush();
    w0.close();
    writeFileSync(path, '{"partial');
    const w = new TranscriptWriter({ root: dir, schedule: () => {} });
    w.append(line(1));
    w.flush();
    w.close();
    expect(readFileSync(path, "utf8")).toBe(`${JSON.stringify(line(1))}\n`);
  });

  test("follow delivers appended lines, across a rotation", async () => {
    const dir = root();
    const w = new TranscriptWriter({ root: dir, maxBytes: 600, schedule: () => {} });
    w.append(line(0));
    w.flush();
    const seen: string[] = [];
    const stop = new AbortController();
    const following = followTranscript(dir, "bot", { intervalMs: 5, signal: stop.signal }, (l) =>
      seen.push(l.message),
    );
    for (let i = 1; i <= 6; i++) {
      w.append(line(i));
      w.flush();
      if (i % 2) await new Promise((r) => setTimeout(r, 15));
    }
    const end = Date.now() + 2000;
    while (seen.length < 6 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    await following;
    w.close();
    expect(seen).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
  });
});
