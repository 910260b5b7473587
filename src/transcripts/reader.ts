import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseLine, safeName, type TranscriptLine } from "./line.ts";
import { transcriptPath } from "./writer.ts";

export interface ReadOptions {
  profile?: string | undefined;
  /** Only this namespaced context (`a2a:<peer>:<id>` or `local:<id>`). */
  context?: string | undefined;
  /** The last N lines (after filtering). */
  limit?: number | undefined;
}

/** The profiles that have a transcript for `peer`. */
function profilesWith(root: string, peer: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, `${safeName(peer)}.jsonl`)))
    .map((d) => d.name)
    .sort();
}

/** A transcript's files, oldest first: `.jsonl.N` … `.jsonl.1`, then `.jsonl`. */
export function transcriptFiles(root: string, profile: string, peer: string): string[] {
  const path = transcriptPath(root, profile, peer);
  const rotated: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) rotated.unshift(`${path}.${i}`);
  return existsSync(path) ? [...rotated, path] : rotated;
}

/**
 * A peer's transcript lines, oldest first, merged across profiles by time. Only whole lines are
 * read: a last line without its newline (being written, or cut by a crash) is skipped.
 */
export function readTranscript(root: string, peer: string, o: ReadOptions = {}): TranscriptLine[] {
  const profiles = o.profile ? [o.profile] : profilesWith(root, peer);
  let out: TranscriptLine[] = [];
  for (const profile of profiles) {
    for (const file of transcriptFiles(root, profile, peer)) {
      out.push(...wholeLines(readFileSync(file, "utf8")).lines);
    }
  }
  if (o.context) out = out.filter((l) => l.context === o.context);
  if (profiles.length > 1) out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return o.limit !== undefined ? out.slice(-o.limit) : out;
}

/** Parse the whole lines of `text`; `rest` is a trailing partial line. */
function wholeLines(text: string): { lines: TranscriptLine[]; rest: string } {
  const end = text.lastIndexOf("\n");
  const lines: TranscriptLine[] = [];
  for (const s of text.slice(0, end + 1).split("\n")) {
    const l = s ? parseLine(s) : undefined;
    if (l) lines.push(l);
  }
  return { lines, rest: text.slice(end + 1) };
}

function readFrom(path: string, offset: number): Buffer {
  const size = statSync(path).size;
  const buf = Buffer.alloc(Math.max(0, size - offset));
  const fd = openSync(path, "r");
  try {
    if (buf.length) readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/**
 * Follow a peer's transcripts: call `onLine` for each whole line appended after the call, until
 * `signal` aborts. Polls file sizes every `intervalMs`; a rotated file is read from its start.
 */
export async function followTranscript(
  root: string,
  peer: string,
  o: { profile?: string | undefined; intervalMs?: number; signal: AbortSignal },
  onLine: (l: TranscriptLine) => void,
): Promise<void> {
  const offsets = new Map<string, { ino: number; offset: number; rest: Buffer }>();
  const scan = (initial: boolean) => {
    const profiles = o.profile ? [o.profile] : profilesWith(root, peer);
    for (const profile of profiles) {
      const path = transcriptPath(root, profile, peer);
      if (!existsSync(path)) continue;
      const st = statSync(path);
      let pos = offsets.get(path);
      if (pos && pos.ino !== st.ino) {
        // rotated: finish the old file (now `.1`) before starting on the new one
        const old = `${path}.1`;
        if (existsSync(old) && statSync(old).ino === pos.ino) emit(pos, readFrom(old, pos.offset));
        pos = undefined;
      }
      if (!pos || st.size < pos.offset) {
        pos = { ino: st.ino, offset: initial ? st.size : 0, rest: Buffer.alloc(0) };
        offsets.set(path, pos);
      }
      if (st.size > pos.offset) emit(pos, readFrom(path, pos.offset));
    }
  };
  const emit = (pos: { offset: number; rest: Buffer }, chunk: Buffer) => {
    pos.offset += chunk.length;
    const all = Buffer.concat([pos.rest, chunk]);
    const end = all.lastIndexOf(0x0a) + 1; // decode whole lines only (no split UTF-8)
    pos.rest = all.subarray(end);
    for (const l of wholeLines(all.subarray(0, end).toString("utf8")).lines) onLine(l);
  };
  scan(true);
  while (!o.signal.aborted) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, o.intervalMs ?? 250);
      o.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          r();
        },
        { once: true },
      );
    });
    if (!o.signal.aborted) scan(false);
  }
}
