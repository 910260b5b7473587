import type { BudgetsSetup, SharedStore } from "../../config/budget-store.ts";
import { budgetStoreUnavailable, RelayError } from "../../errors.ts";
import type { Usage } from "../../receivers/types.ts";
import type { AdmissionTicket, AdmitRequest } from "../../tasks/engine.ts";
import type { BudgetLedger } from "../api.ts";
import { type BudgetReport, charge, type PeerBudget, settleStep } from "../usage.ts";
import { windowStart } from "../window.ts";
import { PeerBatch } from "./batch.ts";
import { gated, type Refusal, refusalError, refusalOf } from "./check.ts";
import type { PgConnection } from "./connect.ts";
import { isStoreDown, whyDown } from "./errors.ts";
import { pgReport } from "./report.ts";
import { CHANNEL, type PgLedgerStore } from "./store.ts";
import type { BatchResult, Counted } from "./wire.ts";

export interface PgBudgetsDeps {
  conn: PgConnection;
  store: PgLedgerStore;
  budgets: ReadonlyMap<string, PeerBudget>;
  setup: BudgetsSetup & { store: SharedStore };
  /** This relay's name in `budget_relays` (server.id). */
  relay: string;
  now?: () => number;
  log: (level: "info" | "warn" | "error", fields: Record<string, unknown>, msg: string) => void;
  /**
   * `on_store_down = "local"`: the ledger this relay counts on while the store is down, and how
   * what it counted gets into the store once it is back (see LocalFallback).
   */
  fallback?: { ledger: () => BudgetLedger; reconcile: () => Promise<number> } | undefined;
  /** Closed rows of a peer older than this may be deleted (`[store] retain`); absent: kept. */
  pruneCutoff?: ((b: PeerBudget, now: number) => number) | undefined;
  /** The start of the instance ids of this relay on this data dir (see recover). */
  siblingPrefix?: string | undefined;
  /** How often a waiting turn looks for a slot without being told (ms). */
  pollMs?: number;
}

/** Counters for /metrics. */
export interface PgBudgetsStats {
  up: boolean;
  localAdmissions: number;
  reclaimed: number;
}

/**
 * The fleet's budget ledger on PostgreSQL: every relay naming the same store admits, starts,
 * settles and refunds turns in the same tables, each admission and start in a transaction
 * holding the peer's advisory lock. Each relay heartbeats; the open reservations of a relay
 * silent for `lease_s` are handed back by whichever relay notices first.
 */
export class PgBudgets implements BudgetLedger {
  readonly #deps: PgBudgetsDeps;
  readonly #now: () => number;
  readonly #batches = new Map<string, PeerBatch>();
  readonly stats: PgBudgetsStats = { up: true, localAdmissions: 0, reclaimed: 0 };
  #down: string | undefined;
  #cache: BudgetReport[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #registered = false;
  #unlisten: (() => Promise<void>) | undefined;
  /** Settles and refunds that could not be written yet (the store was down), oldest first. */
  readonly #unwritten: Array<() => Promise<void>> = [];

  constructor(deps: PgBudgetsDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    for (const b of deps.budgets.values())
      this.#batches.set(b.peer, new PeerBatch(b, deps.store, this.#now, deps.pollMs ?? 250));
  }

  /** Register this relay, listen for freed slots, start the heartbeat. Throws when unreachable. */
  async start(): Promise<void> {
    await this.#deps.store.heartbeat(this.#deps.relay);
    this.#registered = true;
    if ([...this.#deps.budgets.values()].some(gated)) {
      const l = await this.#deps.conn.sql.listen(CHANNEL, (peer) => this.#batches.get(peer)?.wake());
      this.#unlisten = () => l.unlisten();
    }
    this.#schedule();
  }

  /** Start degraded (the store was unreachable at start and `on_store_down = "local"`). */
  startDegraded(why: string): void {
    this.#markDown(why);
    this.#schedule();
  }

  /**
   * After a restart: the previous process of this relay (same server.id and data dir) left turns
   * open; hand them back now instead of after its lease. Other relays' are theirs to heartbeat.
   */
  async recover(): Promise<{ refunded: number; settled: number }> {
    const prefix = this.#deps.siblingPrefix;
    if (!prefix || this.#down !== undefined) return { refunded: 0, settled: 0 };
    return this.#deps.store.reapSiblings(prefix, this.#now()).catch(() => ({ refunded: 0, settled: 0 }));
  }

  async admit(req: AdmitRequest): Promise<AdmissionTicket | undefined> {
    const b = this.#deps.budgets.get(req.peer);
    if (!b) return undefined;
    if (this.#down !== undefined) return this.#whileDown(req);
    let res: BatchResult;
    try {
      res = await this.batch(b.peer).admit({ ...req, ts: this.#now() });
    } catch (err) {
      if (err instanceof RelayError || !isStoreDown(err)) throw err;
      this.#markDown(whyDown(err));
      return this.#whileDown(req);
    }
    const key = res.id ?? res.counted;
    if (key === undefined) {
      const now = this.#now();
      const refusal = refusalOf(b, req.profile, res.use, now, true) ?? { limit: "unknown", used: 0, max: 0 };
      throw await this.#refusal(b, refusal, now);
    }
    return new PgTicket(this, b, key, req.profile, req.contextId, res.status === "started");
  }

  async report(): Promise<BudgetReport[]> {
    if (this.#down !== undefined && this.#deps.fallback) return this.#deps.fallback.ledger().report();
    const out: BudgetReport[] = [];
    for (const b of this.#deps.budgets.values()) out.push(await this.#report(b));
    this.#cache = out;
    return out;
  }

  async reportFor(peer: string): Promise<BudgetReport | undefined> {
    const b = this.#deps.budgets.get(peer);
    if (!b) return undefined;
    if (this.#down !== undefined && this.#deps.fallback) return this.#deps.fallback.ledger().reportFor(peer);
    return this.#report(b);
  }

  async reset(peer: string): Promise<BudgetReport | undefined> {
    const b = this.#deps.budgets.get(peer);
    if (!b) return undefined;
    try {
      await this.#deps.store.resetPeer(peer, this.#now());
    } catch (err) {
      if (isStoreDown(err)) throw this.#unavailable(whyDown(err));
      throw err;
    }
    return this.#report(b);
  }

  snapshot(): BudgetReport[] {
    return this.#cache;
  }

  degraded(): string | undefined {
    if (this.#down === undefined) return undefined;
    const mode = this.#deps.fallback ? "counting locally" : "refusing budgeted dispatches";
    return `budget store ${this.#deps.setup.store.display} unavailable (${this.#down}); ${mode}`;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const q of this.#batches.values()) q.close(this.#unavailable("the relay is stopping"));
    await this.#flush();
    if (this.#down === undefined) {
      await this.#deps.store
        .leave(this.#now())
        .catch((err) =>
          this.#deps.log(
            "warn",
            { store: this.#deps.setup.store.display, problem: String(err) },
            "could not hand back this relay's reservations at stop: the other relays will once its lease runs out",
          ),
        );
    }
    // the connection closes next, which ends the LISTEN anyway
    await this.#unlisten?.().catch(() => {});
    await this.#deps.conn.close();
  }

  // ---- used by PgTicket ----

  batch(peer: string): PeerBatch {
    return this.#batches.get(peer)!;
  }

  now(): number {
    return this.#now();
  }

  /**
   * End turn `id` (settle or refund) in the peer's next batch (whose waiting turns are then tried);
   * while the store is down keep it, in order, until it is back (then written on its own).
   */
  finish(peer: string, key: number | Counted, refund: boolean, tokens: number, cost: number): void {
    const now = this.#now();
    const alone = () =>
      this.#deps.store.finish(peer, key, refund, tokens, cost, now).then(() => this.batch(peer).wake());
    if (this.#unwritten.length > 0 || this.#down !== undefined) {
      this.#unwritten.push(alone);
      return;
    }
    this.batch(peer)
      .finish(key, refund, tokens, cost)
      .catch((err) => {
        if (!isStoreDown(err)) {
          this.#deps.log("error", { err: whyDown(err) }, "budget ledger write failed");
          return;
        }
        this.#markDown(whyDown(err));
        this.#unwritten.push(alone);
      });
  }

  refusalError(b: PeerBudget, r: Refusal, now: number): Promise<RelayError> {
    return this.#refusal(b, r, now);
  }

  // internal

  async #whileDown(req: AdmitRequest): Promise<AdmissionTicket | undefined> {
    const fb = this.#deps.fallback;
    if (!fb) throw this.#unavailable(this.#down ?? "unreachable");
    this.stats.localAdmissions++;
    return fb.ledger().admit(req);
  }

  #unavailable(why: string): RelayError {
    return budgetStoreUnavailable(this.#deps.setup.store.display, why);
  }

  #markDown(why: string): void {
    if (this.#down !== undefined) return;
    this.#down = why;
    this.stats.up = false;
    const mode = this.#deps.fallback
      ? "counting turns on this relay until it returns"
      : "refusing budgeted dispatches";
    this.#deps.log(
      "warn",
      { store: this.#deps.setup.store.display, problem: why },
      `budget store unavailable: ${mode}`,
    );
    this.#schedule(1000);
  }

  /** Heartbeat, hand back dead relays' reservations, refresh the metrics' report; probe when down. */
  async #tick(): Promise<void> {
    const { store, setup, relay } = this.#deps;
    try {
      const known = await store.heartbeat(relay);
      if (!known && this.#registered)
        this.#deps.log(
          "warn",
          { store: setup.store.display },
          "this relay's budget reservations were handed back (it was silent longer than lease_s)",
        );
      this.#registered = true;
      if (this.#down !== undefined) await this.#recovered();
      else await this.#deps.fallback?.reconcile(); // turns that were still running at the last one
      const r = await store.reap(setup.leaseS, this.#now());
      if (r.relays) {
        this.stats.reclaimed += r.refunded + r.settled;
        this.#deps.log("warn", r, "handed back the budget reservations of relays silent longer than lease_s");
      }
      await this.report();
      const cut = this.#deps.pruneCutoff;
      if (cut) for (const b of this.#deps.budgets.values()) await store.prune(b.peer, cut(b, this.#now()));
    } catch (err) {
      if (isStoreDown(err)) this.#markDown(whyDown(err));
      else this.#deps.log("error", { err: whyDown(err) }, "budget store heartbeat failed");
    }
  }

  async #recovered(): Promise<void> {
    await this.#flush();
    if (this.#unwritten.length > 0) throw new Error("store still down");
    const n = (await this.#deps.fallback?.reconcile()) ?? 0;
    this.#down = undefined;
    this.stats.up = true;
    this.#deps.log("info", { store: this.#deps.setup.store.display, reconciled: n }, "budget store is back");
    for (const q of this.#batches.values()) q.wake();
  }

  async #flush(): Promise<void> {
    while (this.#unwritten.length > 0) {
      try {
        await this.#unwritten[0]!();
      } catch (err) {
        if (isStoreDown(err)) return;
        this.#deps.log("error", { err: whyDown(err) }, "budget ledger write failed");
      }
      this.#unwritten.shift();
    }
  }

  #schedule(ms?: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const every = ms ?? (this.#down !== undefined ? 1000 : (this.#deps.setup.leaseS * 1000) / 3);
    this.#timer = setTimeout(() => {
      void this.#tick().finally(() => this.#schedule());
    }, every);
    this.#timer.unref?.();
  }

  async #report(b: PeerBudget): Promise<BudgetReport> {
    try {
      return await pgReport(this.#deps.store, b, this.#now());
    } catch (err) {
      if (!isStoreDown(err)) throw err;
      this.#markDown(whyDown(err));
      throw this.#unavailable(whyDown(err));
    }
  }

  async #refusal(b: PeerBudget, r: Refusal, now: number): Promise<RelayError> {
    if (!r.field || b.window.kind !== "rolling") return refusalError(b, r, now);
    const rows = await this.#deps.store.reportRows(b.peer, windowStart(b.window, now)).catch(() => undefined);
    return refusalError(b, r, now, rows?.rows);
  }
}

// internal

/**
 * One admitted turn in the shared ledger: reserved → started → settled, or refunded. A turn the
 * database started at admission (`early`: nothing of the peer waited) starts without a call.
 */
class PgTicket implements AdmissionTicket {
  #state: "reserved" | "started" | "done" = "reserved";
  readonly #owner: PgBudgets;
  readonly #b: PeerBudget;
  /** The turn's row id, or how its end finds it when it was counted without a row. */
  readonly #key: number | Counted;
  readonly #profile: string;
  readonly #contextId: string;
  readonly #early: boolean;

  constructor(
    owner: PgBudgets,
    b: PeerBudget,
    key: number | Counted,
    profile: string,
    contextId: string,
    early: boolean,
  ) {
    this.#owner = owner;
    this.#b = b;
    this.#key = key;
    this.#profile = profile;
    this.#contextId = contextId;
    this.#early = early;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.#state !== "reserved") throw new Error("budget ticket: acquire called twice");
    const owner = this.#owner;
    if (this.#early) {
      if (signal.aborted) throw signal.reason;
      this.#state = "started";
      return;
    }
    // only a turn that is a row waits (a counted one started at admission)
    const r = await owner
      .batch(this.#b.peer)
      .waitStart(this.#key as number, this.#profile, this.#contextId, signal);
    if (r.status === "lost") throw lost();
    if (r.status === "refused") {
      const now = owner.now();
      const refusal = refusalOf(this.#b, this.#profile, r.use, now, false) ?? {
        limit: "unknown",
        used: 0,
        max: 0,
      };
      throw await owner.refusalError(this.#b, refusal, now);
    }
    this.#state = "started";
  }

  settle(usage: Usage | undefined): void {
    const step = settleStep(this.#state);
    if (step === "refund") this.refund();
    if (step !== "charge") return;
    const { tokens, cost } = charge(usage);
    this.#state = "done";
    this.#owner.finish(this.#b.peer, this.#key, false, tokens, cost);
  }

  refund(): void {
    if (this.#state === "done") return;
    this.#state = "done";
    this.#owner.finish(this.#b.peer, this.#key, true, 0, 0);
  }
}

/** This relay was silent longer than lease_s and another relay handed its reservation back. */
function lost(): Error {
  return new Error(
    "the turn's budget reservation was handed back (this relay was silent longer than [budgets] lease_s)",
  );
}
