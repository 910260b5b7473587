import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { safeName, type TranscriptLine } from "./line.ts";

export interface TranscriptWriterOptions {
  /** `<data dir>/transcripts`. */
  root: string;
  /** Rotate a file before it grows past this many bytes (default 16 MiB). */
  maxBytes?: number;
  /**
   * Rotated files kept per transcript: `<peer>.jsonl.1` (newest) … `.N` (default 1000). A file is
   * also rotated when the UTC day changes, so retention can delete whole days (pruneTranscripts).
   */
  keep?: number;
  now?: () => number;
  /** How a flush is scheduled (default: the next event-loop turn). */
  schedule?: (fn: () => void) => void;
  onError?: (err: unknown) => void;
}

/** The transcript file of one peer on one profile. */
export function transcriptPath(root: string, profile: string, peer: string): string {
  return join(root, safeName(profile), `${safeName(peer)}.jsonl`);
}

/**
 * Appends transcript lines. Lines queued within one event-loop turn are written per file with a
 * single `write` on an O_APPEND descriptor, each ending in a newline. A write cut short (crash,
 * full disk) can only leave a partial last line: it is truncated away when the file is next
 * opened, and on a short write right away, so a file only ever holds whole lines. A crash loses
 * at most the lines not yet written (one tick's worth).
 */
export class TranscriptWriter {
  readonly #o: Required<Omit<TranscriptWriterOptions, "onError">> & Pick<TranscriptWriterOptions, "onError">;
  readonly #queue = new Map<string, string[]>();
  readonly #files = new Map<string, { fd: number; size: number; day: string }>();
  #scheduled = false;
  #closed = false;

  constructor(o: TranscriptWriterOptions) {
    this.#o = {
      maxBytes: 16 * 1024 * 1024,
      keep: 1000,
      schedule: (fn) => setImmediate(fn),
      now: Date.now,
      ...o,
    };
  }

  append(line: TranscriptLine): void {
    if (this.#closed) return;
    const path = transcriptPath(this.#o.root, line.profile, line.peer);
    let q = this.#queue.get(path);
    if (!q) {
      q = [];
      this.#queue.set(path, q);
    }
    q.push(`${JSON.stringify(line)}\n`);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#o.schedule(() => this.flush());
    }
  }

  /** Write everything queued now (synchronously). */
  flush(): void {
    this.#scheduled = false;
    const batch = [...this.#queue];
    this.#queue.clear();
    for (const [path, lines] of batch) {
      try {
        this.#write(path, Buffer.from(lines.join(""), "utf8"));
      } catch (err) {
        this.#o.onError?.(err);
      }
    }
  }

  close(): void {
    this.flush();
    this.#closed = true;
    for (const f of this.#files.values()) closeSync(f.fd);
    this.#files.clear();
  }

  // internal

  #write(path: string, buf: Buffer): void {
    let f = this.#open(path);
    if (f.size > 0 && (f.size + buf.length > this.#o.maxBytes || f.day !== utcDay(this.#o.now()))) {
      this.#rotate(path);
      f = this.#open(path);
    }
    const n = writeSync(f.fd, buf);
    if (n !== buf.length) {
      ftruncateSync(f.fd, f.size);
      throw new Error(`transcript ${path}: short write (${n} of ${buf.length} bytes); lines dropped`);
    }
    f.size += n;
  }

  #open(path: string): { fd: number; size: number; day: string } {
    const known = this.#files.get(path);
    if (known) return known;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(path, "a+", 0o600);
    const size = repairTail(fd);
    // the day of its last line (its last write), or today for a new file
    const f = { fd, size, day: utcDay(size > 0 ? fstatSync(fd).mtimeMs : this.#o.now()) };
    this.#files.set(path, f);
    return f;
  }

  #rotate(path: string): void {
    const f = this.#files.get(path);
    if (f) closeSync(f.fd);
    this.#files.delete(path);
    for (let i = this.#o.keep - 1; i >= 1; i--) {
      if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    }
    if (this.#o.keep >= 1) renameSync(path, `${path}.1`);
  }
}

/** Cut a partial last line (a write a crash cut short). Returns the file's size after. */
function repairTail(fd: number): number {
  const size = fstatSync(fd).size;
  if (size === 0) return 0;
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = readSync(fd, chunk, 0, end - start, start);
    const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = start + nl + 1;
      if (keep !== size) ftruncateSync(fd, keep);
      return keep;
    }
    end = start;
  }
  ftruncateSync(fd, 0);
  return 0;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Retention for transcripts: delete rotated files (`<peer>.jsonl.N`) whose last line is older than
 * `cutoff`. They go from the oldest end, so the numbering the reader follows stays contiguous.
 */
export function pruneTranscripts(root: string, cutoff: number): number {
  let removed = 0;
  if (!existsSync(root)) return 0;
  for (const dir of readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const base = join(root, dir.name);
    for (const name of readdirSync(base)) {
      if (!/\.jsonl\.\d+$/.test(name)) continue;
      const path = join(base, name);
      try {
        if (statSync(path).mtimeMs < cutoff) {
          unlinkSync(path);
          removed++;
        }
      } catch {
        // gone meanwhile
      }
    }
  }
  return removed;
}
