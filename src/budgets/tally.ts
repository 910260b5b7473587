import type { LedgerStore, Sums } from "./store.ts";

/** A counted ledger row as the window sums see it. */
export interface UseRow {
  ts: number;
  turns: number;
  tokens: number;
  cost: number;
}

/** Where the committed use of one window comes from: SQL (the CLI) or memory (`Tally`). */
export interface UseSource {
  /** Committed use of rows at or after `since`. */
  sums(since: number): Sums;
  /** Those rows, oldest first (when does use drop below a limit?). */
  rows(since: number): Iterable<UseRow>;
}

/** What selects a tally's rows: a peer since its last reset, optionally on one profile. */
export interface TallyScope {
  peer: string;
  profile?: string | undefined;
  afterId: number;
}

/** The SQL ledger read directly: one scan per call (the CLI, which holds no process state). */
export function ledgerSource(store: LedgerStore, scope: TallyScope): UseSource {
  return {
    sums: (since) => sumRows(store.countedRows(scope, since)),
    rows: (since) => store.countedRows(scope, since),
  };
}

/**
 * The committed use of one window, kept in memory and updated as each ledger write commits, so an
 * admission costs O(1) instead of a scan of every row in the window (measured: the scan made each
 * SendMessage of a budgeted peer slower as its window filled). Loaded once from SQL; rows leave
 * from the front as the window moves (rows arrive in commit order, which is reservation order).
 * A row the relay may still settle or refund is found by its ledger id.
 */
export class Tally implements UseSource {
  readonly scope: TallyScope;
  /** Keep each row to drop it when it leaves the window; a `total` window keeps sums only. */
  readonly #keepRows: boolean;
  #ts: number[] = [];
  #turns: number[] = [];
  #tokens: number[] = [];
  #cost: number[] = [];
  /** Index of the oldest row still in the window; rows before it were dropped. */
  #head = 0;
  /** Absolute index of `#ts[0]` (arrays are compacted as rows leave). */
  #base = 0;
  readonly #sum: Sums = { turns: 0, tokens: 0, cost: 0 };
  /** Rows still reserved or running: ledger id → absolute index (-1 when rows are not kept). */
  readonly #open = new Map<number, number>();

  constructor(scope: TallyScope, keepRows: boolean) {
    this.scope = scope;
    this.#keepRows = keepRows;
  }

  /** Load the counted rows of `scope` at or after `since` from the ledger. */
  static load(store: LedgerStore, scope: TallyScope, since: number, keepRows: boolean): Tally {
    const t = new Tally(scope, keepRows);
    for (const r of store.countedRows(scope, since)) t.add(r.id, r, r.open);
    return t;
  }

  /** A committed row; `open` when it may still be settled or refunded. */
  add(id: number, row: UseRow, open: boolean): void {
    this.#sum.turns += row.turns;
    this.#sum.tokens += row.tokens;
    this.#sum.cost += row.cost;
    let at = -1;
    if (this.#keepRows) {
      at = this.#base + this.#ts.length;
      this.#ts.push(row.ts);
      this.#turns.push(row.turns);
      this.#tokens.push(row.tokens);
      this.#cost.push(row.cost);
    }
    if (open) this.#open.set(id, at);
  }

  /** A committed settle of row `id` (ignored when the row is not counted here). */
  settle(id: number, tokens: number, cost: number): void {
    const at = this.#take(id);
    if (at === undefined) return;
    this.#sum.tokens += tokens;
    this.#sum.cost += cost;
    if (at >= 0) {
      this.#tokens[at] = this.#tokens[at]! + tokens;
      this.#cost[at] = this.#cost[at]! + cost;
    }
  }

  /** A committed refund of row `id`: it no longer counts. */
  refund(id: number): void {
    const at = this.#take(id);
    if (at === undefined) return;
    if (at < 0) {
      this.#sum.turns -= 1;
      return;
    }
    this.#sum.turns -= this.#turns[at]!;
    this.#sum.tokens -= this.#tokens[at]!;
    this.#sum.cost -= this.#cost[at]!;
    this.#turns[at] = 0;
    this.#tokens[at] = 0;
    this.#cost[at] = 0;
  }

  sums(since: number): Sums {
    this.#drop(since);
    return { ...this.#sum };
  }

  *rows(since: number): Iterable<UseRow> {
    this.#drop(since);
    for (let i = this.#head; i < this.#ts.length; i++) {
      if (this.#turns[i] === 0 && this.#tokens[i] === 0 && this.#cost[i] === 0) continue; // refunded
      yield { ts: this.#ts[i]!, turns: this.#turns[i]!, tokens: this.#tokens[i]!, cost: this.#cost[i]! };
    }
  }

  // internal

  /** The array index of open row `id` (-1: rows not kept), or undefined if not counted here. */
  #take(id: number): number | undefined {
    const abs = this.#open.get(id);
    if (abs === undefined) return undefined;
    this.#open.delete(id);
    if (abs < 0) return -1;
    const at = abs - this.#base;
    return at >= this.#head ? at : undefined; // already out of the window
  }

  #drop(since: number): void {
    if (!this.#keepRows) return;
    const ts = this.#ts;
    while (this.#head < ts.length && ts[this.#head]! < since) {
      const i = this.#head++;
      this.#sum.turns -= this.#turns[i]!;
      this.#sum.tokens -= this.#tokens[i]!;
      this.#sum.cost -= this.#cost[i]!;
    }
    if (this.#head > 4096 && this.#head * 2 > ts.length) {
      const h = this.#head;
      this.#ts = ts.slice(h);
      this.#turns = this.#turns.slice(h);
      this.#tokens = this.#tokens.slice(h);
      this.#cost = this.#cost.slice(h);
      this.#base += h;
      this.#head = 0;
    }
  }
}

// internal

function sumRows(rows: Iterable<UseRow>): Sums {
  const s = { turns: 0, tokens: 0, cost: 0 };
  for (const r of rows) {
    s.turns += r.turns;
    s.tokens += r.tokens;
    s.cost += r.cost;
  }
  return s;
}
