import type { Reservation } from "../store.ts";
import type { PeerBudget } from "../usage.ts";
import { gatesOf } from "./check.ts";
import { isStoreDown } from "./errors.ts";
import type { PgLedgerStore } from "./store.ts";
import type { BatchResult, Counted, WireOp } from "./wire.ts";

/**
 * An admission or end as the relay asks for it (the gates are added when its batch is sent). An
 * end names its turn by row id, or by its counted key (a turn counted without a row).
 */
type Op =
  | { k: "f"; key: number | Counted; refund: boolean; tokens: number; cost: number }
  | { k: "a"; r: Reservation };

interface Pending {
  op: Op;
  resolve: (r: BatchResult) => void;
  reject: (err: unknown) => void;
}

/** A reserved turn waiting here for a fleet-wide slot. */
interface Waiter {
  id: number;
  profile: string;
  contextId: string;
  resolve: (r: BatchResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for one peer's turns in the shared ledger. While a call for the peer is in flight,
 * the admissions and ends that arrive wait and go together in the next call (a2a_relay_batch, or
 * a2a_relay_count when it can be set-based: PgLedgerStore.batch):
 * one round trip and one hold of the peer's lock for N turns instead of one or more each.
 *
 * Turns of the peer waiting here for a slot (max_concurrent, or the token/cost gate) ride along:
 * each call tries to start them, first come first tried, after the ends it carries (which free
 * slots) and before its admissions, which start their turns at once when the gates allow. A
 * waiting turn is also tried when told a slot was freed elsewhere (wake) and every `pollMs`.
 * Across relays there is no queue order: whoever asks first after a slot frees gets it.
 */
export class PeerBatch {
  readonly #b: PeerBudget;
  readonly #store: PgLedgerStore;
  readonly #now: () => number;
  readonly #pollMs: number;
  #pending: Pending[] = [];
  readonly #waiting: Waiter[] = [];
  #busy = false;
  /** A slot may have been freed since the waiting turns were last tried. */
  #retry = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(b: PeerBudget, store: PgLedgerStore, now: () => number, pollMs: number) {
    this.#b = b;
    this.#store = store;
    this.#now = now;
    this.#pollMs = pollMs;
  }

  admit(r: Reservation): Promise<BatchResult> {
    return this.#push({ k: "a", r });
  }

  finish(key: number | Counted, refund: boolean, tokens: number, cost: number): Promise<BatchResult> {
    this.#retry = true;
    return this.#push({ k: "f", key, refund, tokens, cost });
  }

  /**
   * Wait until an attempt to start reserved turn `id` says other than `wait`: `started`,
   * `refused` (tokens or cost ran out meanwhile) or `lost` (handed back). While the store is down
   * it keeps waiting; rejects on another error, or when `signal` aborts.
   */
  waitStart(id: number, profile: string, contextId: string, signal: AbortSignal): Promise<BatchResult> {
    return new Promise<BatchResult>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const leave = () => {
        const i = this.#waiting.indexOf(w);
        if (i >= 0) this.#waiting.splice(i, 1);
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
      };
      const w: Waiter = {
        id,
        profile,
        contextId,
        resolve: (r) => {
          leave();
          resolve(r);
        },
        reject: (err) => {
          leave();
          reject(err);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(w);
      this.wake();
    });
  }

  /** A slot may have been freed: the waiting turns are tried in the next call (now if idle). */
  wake(): void {
    if (this.#waiting.length === 0) return;
    this.#retry = true;
    this.#kick();
  }

  close(err: unknown): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of [...this.#waiting]) w.reject(err);
  }

  // internal

  #push(op: Op): Promise<BatchResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ op, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#busy) return;
    this.#busy = true;
    // operations pushed in the same tick go along
    queueMicrotask(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      while (this.#pending.length > 0 || (this.#retry && this.#waiting.length > 0)) {
        const ops = this.#pending.splice(0);
        const waiters = this.#retry ? [...this.#waiting] : [];
        this.#retry = false;
        let results: BatchResult[];
        try {
          results = await this.#send(ops, waiters);
        } catch (err) {
          for (const p of ops) p.reject(err);
          // waiting turns keep waiting while the store is down: the poll tries again
          if (!isStoreDown(err)) for (const w of waiters) w.reject(err);
          continue;
        }
        const ends = ops.filter((p) => p.op.k === "f");
        const admits = ops.filter((p) => p.op.k === "a");
        let i = 0;
        for (const p of ends) p.resolve(results[i++]!);
        for (const w of waiters) {
          const r = results[i++]!;
          if (r.status !== "wait" && this.#waiting.includes(w)) w.resolve(r);
        }
        for (const p of admits) p.resolve(results[i++]!);
      }
    } finally {
      this.#busy = false;
    }
    if (this.#waiting.length > 0 && !this.#closed) {
      this.#timer = setTimeout(() => this.wake(), this.#pollMs);
      this.#timer.unref?.();
    }
  }

  /** One call: the ends, then the starts of the waiting turns, then the admissions. */
  #send(ops: Pending[], waiters: Waiter[]): Promise<BatchResult[]> {
    const b = this.#b;
    const now = this.#now();
    const gates = (profile: string, ctx: string) => {
      const g = gatesOf(b, profile, ctx, now);
      return {
        pwnd: g.pwnd,
        psince: g.psince,
        pmax_turns: g.pmaxTurns,
        pmax_tokens: g.pmaxTokens,
        pmax_cost: g.pmaxCost,
        pmax_ctx: g.pmaxCtx,
      };
    };
    const wire: WireOp[] = [];
    for (const { op } of ops) {
      if (op.k !== "f") continue;
      const { key, refund, tokens, cost } = op;
      wire.push(
        typeof key === "number"
          ? { k: "f", id: key, refund, tokens, cost }
          : { k: "c", refund, tokens, cost, ...key },
      );
    }
    for (const w of waiters)
      wire.push({ k: "s", id: w.id, profile: w.profile, ...gates(w.profile, w.contextId) });
    for (const { op } of ops) {
      if (op.k !== "a") continue;
      const { profile, contextId: ctx, taskId: task, ts } = op.r;
      wire.push({ k: "a", profile, ctx, task, ts, start: true, ...gates(profile, ctx) });
    }
    return this.#store.batch(gatesOf(b, "", "", now), now, wire);
  }
}
