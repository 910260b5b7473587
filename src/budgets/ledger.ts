import { budgetExceeded } from "../errors.ts";
import type { Usage } from "../receivers/types.ts";
import type { Writer } from "../store/writer.ts";
import type { AdmissionTicket, AdmitRequest } from "../tasks/engine.ts";
import type { BudgetLedger } from "./api.ts";
import { checkProfile } from "./profile.ts";
import { Slots } from "./slots.ts";
import type { LedgerStore } from "./store.ts";
import { Tally } from "./tally.ts";
import {
  type BudgetReport,
  charge,
  type Delta,
  type PeerBudget,
  type ProfileLimits,
  reportOf,
  resetTime,
  settleStep,
  windowLimits,
  windowUse,
} from "./usage.ts";
import { windowStart } from "./window.ts";

export interface BudgetsDeps {
  store: LedgerStore;
  writer: Writer;
  budgets: ReadonlyMap<string, PeerBudget>;
  now?: () => number;
  /** A ledger write failed (logged by the caller; the turn itself goes on). */
  onWriteError?: (err: unknown) => void;
}

/**
 * Per-peer budgets: reserve a turn when the dispatch is admitted (synchronously, so concurrent
 * sends cannot race past a limit), hold a concurrency slot while it runs, settle with the usage
 * the receiver reports, refund a turn that never started. The ledger in SQLite is the truth;
 * writes not yet committed are counted on top of it (`pending`), so nothing is counted twice
 * or missed between a write and its commit.
 */
export class Budgets implements BudgetLedger {
  readonly #deps: BudgetsDeps;
  readonly #now: () => number;
  readonly #pending = new Map<string, Delta[]>();
  readonly #slots = new Map<string, Slots>();
  /** Committed use per peer (key: peer) and per peer on a profile (key: peer NUL profile). */
  readonly #tallies = new Map<string, Tally>();
  /** The largest usage one settled turn of a peer reported (this process): the estimate of the next. */
  readonly #perTurn = new Map<string, { tokens: number; cost: number }>();

  constructor(deps: BudgetsDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    for (const b of deps.budgets.values()) {
      this.#slots.set(b.peer, new Slots(b.maxConcurrent, (running) => this.#mayStartAnother(b, running)));
    }
  }

  /** After a restart: refund turns that never started, count those that were running. */
  recover(): Promise<{ refunded: number; settled: number }> {
    const now = this.#now();
    // nothing open (a clean stop, or no budgets): no write transaction on the way to listening
    if (!this.#deps.store.hasOpen()) return Promise.resolve({ refunded: 0, settled: 0 });
    return this.#deps.writer.run(() => this.#deps.store.recover(now));
  }

  admit(req: AdmitRequest): AdmissionTicket | undefined {
    const b = this.#deps.budgets.get(req.peer);
    if (!b) return undefined;
    const { store } = this.#deps;
    const now = this.#now();
    const slots = this.#slots.get(b.peer)!;
    if (b.maxConcurrent !== undefined && slots.inflight >= b.maxConcurrent + b.maxQueued) {
      throw budgetExceeded({
        peer: b.peer,
        limit: "max_queued",
        used: slots.inflight - slots.running,
        max: b.maxQueued,
        retryAfterS: 1,
      });
    }
    const pending = this.#pendingOf(b.peer);
    this.#checkWindow(b, now, pending, true);
    const perProfile = b.profiles.get(req.profile);
    if (perProfile) {
      const source = this.#tally(b, now, perProfile);
      checkProfile(store, source, b.peer, perProfile, req.contextId, pending, now, true);
    }
    if (b.maxTurnsPerContext !== undefined) {
      const { afterId } = store.reset(b.peer);
      let n = store.contextTurns(b.peer, req.contextId, afterId);
      for (const d of pending) if (d.contextId === req.contextId) n += d.turns;
      if (n + 1 > b.maxTurnsPerContext) {
        throw budgetExceeded({
          peer: b.peer,
          limit: "max_turns_per_context",
          used: n,
          max: b.maxTurnsPerContext,
        });
      }
    }
    slots.inflight++;
    return new Ticket(this, b, slots, { ...req, ts: now });
  }

  /** Every budgeted peer's limits and use now. */
  report(): BudgetReport[] {
    const now = this.#now();
    return [...this.#deps.budgets.values()].map((b) => this.#report(b, now));
  }

  reportFor(peer: string): BudgetReport | undefined {
    const b = this.#deps.budgets.get(peer);
    return b ? this.#report(b, this.#now()) : undefined;
  }

  snapshot(): BudgetReport[] {
    return this.report();
  }

  /** The relay's own ledger is never degraded (a failing database is /readyz's own concern). */
  degraded(): undefined {
    return undefined;
  }

  /** Nothing of its own to close: the writer and database belong to the relay. */
  async close(): Promise<void> {}

  /** Forget a peer's use so far (running turns keep their slots). Resolves after the commit. */
  async reset(peer: string): Promise<BudgetReport | undefined> {
    const b = this.#deps.budgets.get(peer);
    if (!b) return undefined;
    const now = this.#now();
    const { store } = this.#deps;
    await this.#deps.writer.run(
      () => store.resetPeer(peer, now),
      () => store.forgetResets(),
    );
    return this.#report(b, this.#now());
  }

  // ---- used by Ticket ----

  /**
   * Queue a ledger write; `delta` counts on top of the ledger until it commits (or fails). At its
   * commit `committed` updates the peer's tallies, in the same moment the delta stops counting.
   */
  write(
    peer: string,
    delta: Delta | undefined,
    fn: (store: LedgerStore) => void,
    committed: (tally: Tally) => void = () => {},
    /** A row update that a later one in the same transaction supersedes (see Writer.defer). */
    rowKey?: string,
  ): void {
    const list = this.#pendingOf(peer);
    if (delta) list.push(delta);
    const drop = () => {
      const i = delta ? list.indexOf(delta) : -1;
      if (i >= 0) list.splice(i, 1);
    };
    this.#deps.writer
      .run(
        () => {
          const { store, writer } = this.#deps;
          if (rowKey) writer.defer(rowKey, () => fn(store));
          else fn(store);
        },
        () => {
          drop();
          // only tallies that exist: one loaded later reads this row from the ledger itself
          for (const t of this.#talliesOf(peer)) committed(t);
        },
      )
      .catch((err) => {
        drop();
        this.#deps.onWriteError?.(err);
      });
  }

  /** At the moment a queued turn gets its slot: refuse it if tokens or cost ran out meanwhile. */
  checkStart(b: PeerBudget, profile: string, contextId: string): void {
    const now = this.#now();
    const pending = this.#pendingOf(b.peer);
    this.#checkWindow(b, now, pending, false);
    const perProfile = b.profiles.get(profile);
    if (perProfile) {
      const source = this.#tally(b, now, perProfile);
      checkProfile(this.#deps.store, source, b.peer, perProfile, contextId, pending, now, false);
    }
  }

  /** A turn settled with this usage: it sets the estimate of a turn for the token/cost gate. */
  observe(peer: string, tokens: number, cost: number): void {
    const e = this.#perTurn.get(peer) ?? { tokens: 0, cost: 0 };
    this.#perTurn.set(peer, { tokens: Math.max(e.tokens, tokens), cost: Math.max(e.cost, cost) });
  }

  now(): number {
    return this.#now();
  }

  // internal

  #checkWindow(b: PeerBudget, now: number, pending: readonly Delta[], newTurn: boolean): void {
    const limits = windowLimits(b).filter((l) => newTurn || l.field !== "turns");
    if (limits.length === 0) return;
    const source = this.#tally(b, now);
    const use = windowUse(source, b, now, pending);
    for (const l of limits) {
      const used = use[l.field];
      const over = l.field === "turns" ? used + 1 > l.max : used >= l.max;
      if (!over) continue;
      const at = resetTime(source, b, l.field, used, l.max, now, pending);
      throw budgetExceeded({
        peer: b.peer,
        limit: l.limit,
        used: l.field === "cost" ? Math.round(used * 1e6) / 1e6 : used,
        max: l.max,
        resetAt: at === undefined ? undefined : new Date(at).toISOString(),
        retryAfterS: at === undefined ? undefined : (at - now) / 1000,
      });
    }
  }

  /**
   * Token and cost limits are only known after a turn: another turn may start beside `running`
   * ones only if, at the largest usage a turn has reported so far, none of them could cross a
   * limit. Until a turn has reported, they run one at a time. So a limit is overshot only by the
   * turn that crossed it.
   */
  #mayStartAnother(b: PeerBudget, running: number): boolean {
    const limits = windowLimits(b).filter((l) => l.field !== "turns");
    if (limits.length === 0) return true;
    const est = this.#perTurn.get(b.peer);
    if (!est) return false;
    const now = this.#now();
    const use = windowUse(this.#tally(b, now), b, now, this.#pendingOf(b.peer));
    return limits.every((l) => {
      const per = l.field === "tokens" ? est.tokens : est.cost;
      return use[l.field] + (running + 1) * per <= l.max;
    });
  }

  #report(b: PeerBudget, now: number): BudgetReport {
    const source = this.#tally(b, now);
    const r = reportOf(this.#deps.store, b, now, this.#pendingOf(b.peer), source);
    const slots = this.#slots.get(b.peer)!;
    return { ...r, running: slots.running, queued: slots.inflight - slots.running };
  }

  /**
   * The committed use of a peer (or of a peer on one profile, `p`) in memory: loaded from the
   * ledger on first use, and again after the peer's budget was reset (here or by the CLI).
   */
  #tally(b: PeerBudget, now: number, p?: ProfileLimits): Tally {
    const { peer } = b;
    const key = p ? `${peer}\u0000${p.profile}` : peer;
    const { afterId } = this.#deps.store.reset(peer);
    const have = this.#tallies.get(key);
    if (have && have.scope.afterId === afterId) return have;
    const { window } = p ?? b;
    const scope = { peer, profile: p?.profile, afterId };
    const t = Tally.load(this.#deps.store, scope, windowStart(window, now), window.kind !== "total");
    this.#tallies.set(key, t);
    return t;
  }

  #talliesOf(peer: string): Tally[] {
    const out: Tally[] = [];
    for (const t of this.#tallies.values()) if (t.scope.peer === peer) out.push(t);
    return out;
  }

  #pendingOf(peer: string): Delta[] {
    let l = this.#pending.get(peer);
    if (!l) {
      l = [];
      this.#pending.set(peer, l);
    }
    return l;
  }
}

// internal

/** One admitted turn: reserved → (waiting for a slot) → started → settled, or refunded. */
class Ticket implements AdmissionTicket {
  #id: number | undefined;
  #state: "reserved" | "started" | "done" = "reserved";
  readonly #owner: Budgets;
  readonly #b: PeerBudget;
  readonly #slots: Slots;
  readonly #req: AdmitRequest & { ts: number };

  constructor(owner: Budgets, b: PeerBudget, slots: Slots, req: AdmitRequest & { ts: number }) {
    this.#owner = owner;
    this.#b = b;
    this.#slots = slots;
    this.#req = req;
    const { peer, profile, contextId, taskId, ts } = req;
    owner.write(
      peer,
      { ts, contextId, profile, turns: 1, tokens: 0, cost: 0 },
      (s) => {
        this.#id = s.insert({ peer, profile, contextId, taskId, ts });
      },
      (t) => {
        if (t.scope.profile === undefined || t.scope.profile === profile)
          t.add(this.#id!, { ts, turns: 1, tokens: 0, cost: 0 }, true);
      },
    );
  }

  /** The writer's key for this turn's ledger row updates. */
  get #rowKey(): string {
    return `budget_ledger:${this.#req.taskId}:${this.#req.ts}`;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.#state !== "reserved") throw new Error("budget ticket: acquire called twice");
    await this.#slots.acquire(signal, () =>
      this.#owner.checkStart(this.#b, this.#req.profile, this.#req.contextId),
    );
    this.#state = "started";
    // a fast turn starts and settles in one transaction: its row is then written once (settled)
    this.#owner.write(
      this.#req.peer,
      undefined,
      (s) => this.#id !== undefined && s.markStarted(this.#id),
      undefined,
      this.#rowKey,
    );
  }

  settle(usage: Usage | undefined): void {
    const step = settleStep(this.#state);
    if (step === "refund") this.refund();
    if (step !== "charge") return;
    this.#state = "done";
    const { tokens, cost } = charge(usage);
    const now = this.#owner.now();
    const { contextId, ts, profile } = this.#req;
    this.#owner.write(
      this.#req.peer,
      { ts, contextId, profile, turns: 0, tokens, cost },
      (s) => {
        if (this.#id !== undefined) s.settle(this.#id, tokens, cost, now);
      },
      (t) => this.#id !== undefined && t.settle(this.#id, tokens, cost),
      this.#rowKey,
    );
    this.#owner.observe(this.#req.peer, tokens, cost);
    this.#slots.inflight--;
    this.#slots.release();
  }

  refund(): void {
    if (this.#state === "started") {
      this.settle(undefined);
      return;
    }
    if (this.#state === "done") return;
    this.#state = "done";
    const now = this.#owner.now();
    const { contextId, ts, profile } = this.#req;
    this.#owner.write(
      this.#req.peer,
      { ts, contextId, profile, turns: -1, tokens: 0, cost: 0 },
      (s) => {
        if (this.#id !== undefined) s.refund(this.#id, now);
      },
      (t) => this.#id !== undefined && t.refund(this.#id),
    );
    this.#slots.inflight--;
  }
}
