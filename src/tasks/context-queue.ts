import { contextBusy } from "../errors.ts";

/**
 * One turn at a time per conversation (profile, peer, context): later turns wait in FIFO order in
 * a bounded queue. `reserve` is synchronous so the capacity check and the enqueue cannot race.
 */
export class ContextQueues {
  readonly #queues = new Map<string, { running: boolean; waiting: Array<() => void> }>();
  readonly #maxQueued: number;

  constructor(maxQueued: number) {
    this.#maxQueued = maxQueued;
  }

  static key(profile: string, peer: string, contextId: string): string {
    return `${profile}\u0000${peer}\u0000${contextId}`;
  }

  /** Throws CONTEXT_BUSY when a turn runs on `key` and its queue is full. */
  check(key: string, contextId: string): void {
    const q = this.#queues.get(key);
    if (q?.running && q.waiting.length >= this.#maxQueued) throw contextBusy(contextId, q.waiting.length);
  }

  /** Run `start` now if the context is idle, else once every earlier turn has released. */
  enqueue(key: string, start: () => void): void {
    let q = this.#queues.get(key);
    if (!q) {
      q = { running: false, waiting: [] };
      this.#queues.set(key, q);
    }
    if (!q.running) {
      q.running = true;
      start();
    } else q.waiting.push(start);
  }

  /** Remove a queued start (a canceled turn). Returns true if it was still waiting. */
  drop(key: string, start: () => void): boolean {
    const q = this.#queues.get(key);
    if (!q) return false;
    const i = q.waiting.indexOf(start);
    if (i < 0) return false;
    q.waiting.splice(i, 1);
    return true;
  }

  release(key: string): void {
    const q = this.#queues.get(key);
    if (!q) return;
    const next = q.waiting.shift();
    if (next) next();
    else this.#queues.delete(key);
  }

  get depth(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.waiting.length;
    return n;
  }
}
