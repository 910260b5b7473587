import type { Task } from "../a2a/types.ts";
import { realTimers, type Timers } from "../clock.ts";
import type { FetchFn } from "../fetch.ts";
import type { Writer } from "../store/writer.ts";
import type { OutboxRow, PushStore } from "./store.ts";

export interface DelivererOptions {
  store: PushStore;
  writer: Writer;
  fetch?: FetchFn;
  now?: () => number;
  /** The retry timer (tests pass a manual clock here and as `now`). */
  timers?: Timers;
  /** Give up on a delivery after this many attempts (then it reads "failed" in /admin/push). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Deliveries in flight at once (different tasks; one task is always in order). */
  concurrency?: number;
  onError?: (row: OutboxRow, error: string, final: boolean) => void;
  /**
   * `relay:<profile>` targets (a brief's reply_to): hand the settled task to that profile as a new
   * local turn of `peer`. Must be idempotent per source task (it may be retried).
   */
  local?: (peer: string, profile: string, task: Task) => Promise<void>;
}

/**
 * Delivers the push outbox: POSTs each event to its target, in order per (task, config), retrying
 * with exponential backoff. State lives in SQLite, so a restart resumes where it stopped.
 */
export class PushDeliverer {
  readonly #o: Required<Omit<DelivererOptions, "onError" | "local">> &
    Pick<DelivererOptions, "onError" | "local">;
  #timer: unknown;
  #running = false;
  #again = false;
  #stopped = false;
  readonly #inflight = new Set<Promise<void>>();

  constructor(o: DelivererOptions) {
    this.#o = {
      fetch: globalThis.fetch,
      now: Date.now,
      timers: realTimers,
      maxAttempts: 8,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      timeoutMs: 10_000,
      concurrency: 8,
      ...o,
    };
  }

  /** Something was queued: deliver soon. */
  poke(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#arm(0);
  }

  /** One pass over the due heads; schedules the next pass for the earliest retry. */
  async run(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    this.#timer = undefined;
    try {
      do {
        this.#again = false;
        const heads = this.#o.store.heads(this.#o.concurrency * 4);
        const now = this.#o.now();
        const due = heads.filter((h) => h.nextAt <= now).slice(0, this.#o.concurrency);
        await Promise.all(due.map((row) => this.#track(this.#deliver(row))));
        if (due.length > 0) this.#again = true;
      } while (this.#again && !this.#stopped);
      const next = this.#o.store.heads(1)[0];
      if (next && !this.#stopped) {
        this.#arm(Math.max(10, next.nextAt - this.#o.now()));
      }
    } finally {
      this.#running = false;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    await Promise.all([...this.#inflight]);
  }

  // internal

  /** The next pass in `ms`; it never keeps the process alive on its own. */
  #arm(ms: number): void {
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = this.#o.timers.setTimeout(() => void this.run(), ms);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #track(p: Promise<void>): Promise<void> {
    this.#inflight.add(p);
    return p.finally(() => this.#inflight.delete(p));
  }

  async #deliver(row: OutboxRow): Promise<void> {
    let error: string | undefined;
    try {
      if (row.url.startsWith("relay:")) {
        const peer = this.#o.store.peerOf(row.taskId, row.configId);
        if (!this.#o.local || !peer) throw new Error("local delivery is not available");
        await this.#o.local(
          peer,
          row.url.slice("relay:".length),
          (JSON.parse(row.bodyJson) as { task: Task }).task,
        );
        await this.#o.writer.run(() => this.#o.store.markDelivered(row.seq, this.#o.now()));
        return;
      }
      const res = await this.#o.fetch(row.url, {
        method: "POST",
        headers: JSON.parse(row.headersJson) as Record<string, string>,
        body: row.bodyJson,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      // only the status matters; a body that fails to cancel has already lost its connection
      await res.body?.cancel().catch(() => {});
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const now = this.#o.now();
    const attempts = row.attempts + 1;
    if (error === undefined) {
      await this.#o.writer.run(() => this.#o.store.markDelivered(row.seq, now));
      return;
    }
    const final = attempts >= this.#o.maxAttempts;
    this.#o.onError?.(row, error, final);
    if (final) {
      await this.#o.writer.run(() => this.#o.store.markFailed(row.seq, attempts, error, now));
      return;
    }
    const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (attempts - 1));
    await this.#o.writer.run(() => this.#o.store.markRetry(row.seq, attempts, now + delay, error, now));
  }
}
