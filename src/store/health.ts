import { statfsSync, statSync } from "node:fs";
import { type RelayError, storageUnavailable } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** A WAL this large (~6 times its checkpoint size) means checkpoints are not keeping up. */
const WAL_WARN_BYTES = 256 * 1_048_576;

/**
 * Whether the relay can still write what it promises to keep. Three signals: free disk in the data
 * dir against `store.min_free_mb` (checked every second, before SQLite starts failing), a write
 * that failed with no commit since, and tasks whose latest state is only in memory (their writes
 * are being retried). New tasks are refused while the disk is low or tasks are stranded; readiness
 * reports every one of them. Failures are logged once per kind per 10 s, with a count.
 */
export class StorageHealth {
  #freeMb: number | undefined;
  #low = false;
  #writeError: string | undefined;
  #stranded = new Set<string>();
  #walBytes = 0;
  #walBehind = false;
  readonly #logged = new Map<string, { at: number; count: number }>();
  readonly #logger: Logger | undefined;
  readonly #now: () => number;

  constructor(o: { logger?: Logger; now?: () => number } = {}) {
    this.#logger = o.logger;
    this.#now = o.now ?? Date.now;
  }

  /** Why new tasks are refused now, as the error to answer with; undefined: they may start. */
  refusal(): RelayError | undefined {
    if (this.#low)
      return storageUnavailable(
        `free disk in the data dir is ${this.#freeMb?.toFixed(0)} MiB, below store.min_free_mb`,
      );
    if (this.#stranded.size)
      return storageUnavailable(`${this.#stranded.size} task(s) wait for their state to be written`);
    return undefined;
  }

  /** Why the relay is not ready (readiness), or undefined. */
  problem(): string | undefined {
    return (
      this.refusal()?.message ??
      (this.#writeError ? `storage unavailable: the last write failed (${this.#writeError})` : undefined)
    );
  }

  /** Size of the write-ahead log at the last check (bytes; 0 when there is none). */
  get walBytes(): number {
    return this.#walBytes;
  }

  get writeFailing(): boolean {
    return this.#writeError !== undefined;
  }

  /** A commit went through: writes work again. */
  committed(): void {
    this.#writeError = undefined;
  }

  /** A write failed (disk full, I/O error, read-only file): note it, log it (rate-limited). */
  failed(err: unknown): void {
    const e = err as { code?: unknown; message?: unknown };
    const kind =
      typeof e?.code === "string"
        ? e.code
        : String(e?.message ?? err)
            .split("\n")[0]!
            .slice(0, 120);
    this.#writeError = kind;
    this.#log(
      kind,
      String(e?.message ?? err)
        .split("\n")[0]!
        .slice(0, 300),
    );
  }

  /** A task's latest state could not be written (it is retried) / has been written at last. */
  strand(taskId: string, stranded: boolean): void {
    if (stranded) this.#stranded.add(taskId);
    else this.#stranded.delete(taskId);
  }

  /**
   * Check the free space of `dir` now and every `everyMs`, and the size of `wal` (the database's
   * write-ahead log). Returns the stop function.
   */
  watchDisk(
    dir: string,
    minFreeMb: number,
    wal?: string,
    everyMs = 1000,
    walWarnBytes = WAL_WARN_BYTES,
  ): () => void {
    const check = () => {
      if (wal) this.#checkWal(wal, walWarnBytes);
      let free: number | undefined;
      try {
        const s = statfsSync(dir);
        free = (Number(s.bavail) * Number(s.bsize)) / 1_048_576;
      } catch {
        free = undefined; // this runtime cannot tell: no watermark
      }
      this.#freeMb = free;
      const low = free !== undefined && free < minFreeMb;
      if (low && !this.#low)
        this.#log(
          "LOW_DISK",
          `free disk in ${dir} is ${free?.toFixed(0)} MiB, below store.min_free_mb = ${minFreeMb}`,
        );
      if (!low && this.#low)
        this.#logger?.info(
          { dir, freeMb: Math.round(free ?? 0) },
          "storage: free disk is back above store.min_free_mb",
        );
      this.#low = low;
    };
    check();
    const timer = setInterval(check, everyMs);
    timer.unref?.();
    return () => clearInterval(timer);
  }

  // internal

  /**
   * The WAL holds what checkpoints have not yet copied into the database file. It stays near the
   * checkpoint size (~40 MiB) unless checkpoints cannot finish: a disk slower to sync than the
   * relay writes (measured: with its syncs throttled to 1 MiB/s, 1.9 GiB in 30 s of load, while
   * requests went on unslowed), or a reader that holds an old snapshot. Say so before it fills the
   * disk, and when it is back.
   */
  #checkWal(path: string, warnBytes: number): void {
    try {
      this.#walBytes = statSync(path).size;
    } catch {
      this.#walBytes = 0; // no WAL yet, or this runtime cannot tell
    }
    const behind = this.#walBytes > warnBytes;
    if (behind && !this.#walBehind)
      this.#logger?.warn(
        { wal: path, walMb: Math.round(this.#walBytes / 1_048_576) },
        "storage: the write-ahead log keeps growing: checkpoints are not keeping up with writes (a disk slower to sync than the relay writes, or a long read); it shrinks back once they do",
      );
    if (!behind && this.#walBehind)
      this.#logger?.info(
        { wal: path, walMb: Math.round(this.#walBytes / 1_048_576) },
        "storage: the write-ahead log is back to its usual size",
      );
    this.#walBehind = behind;
  }

  #log(kind: string, text: string): void {
    const now = this.#now();
    const seen = this.#logged.get(kind);
    if (seen && now - seen.at < 10_000) {
      seen.count++;
      return;
    }
    const repeats = seen?.count ?? 0;
    this.#logged.set(kind, { at: now, count: 0 });
    this.#logger?.error({ kind, ...(repeats ? { repeatsSinceLast: repeats } : {}) }, `storage: ${text}`);
  }
}
