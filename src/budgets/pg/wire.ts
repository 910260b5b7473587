/** The shapes of the shared ledger's calls (PgLedgerStore.batch, a2a_relay_count): what is sent, what comes back. */

/**
 * A turn counted instead of written as a row (a2a_relay_count, drizzle/pg/0007_counted.sql): how
 * its end finds it. `ts` is its second in budget_usage (the second's last millisecond), `gen`
 * the peer's reset it was counted under, `lease` the relay registration holding it.
 */
export interface Counted {
  lease: number;
  ts: number;
  gen: number;
  profile: string;
}

/** A peer's committed use as one admission or start sees it, read under the peer's lock. */
export interface PeerUse {
  /** In the peer's window, since its last reset (reserved, started and settled rows). */
  turns: number;
  tokens: number;
  cost: number;
  /** Turns started and not settled (fleet-wide), and those reserved or started. */
  running: number;
  inflight: number;
  /** Turns in the conversation, since the last reset (only when asked for). */
  contextTurns: number;
  /** The same on one profile (only when asked for). */
  profile?: { turns: number; tokens: number; cost: number; contextTurns: number };
}

/** The limits and windows one admission or start is checked against (null: not set). */
export interface Gates {
  peer: string;
  profile: string;
  contextId: string;
  wnd: string;
  since: number;
  /** The profile's own window, when the peer has limits on that profile. */
  pwnd: string | null;
  psince: number | null;
  maxTurns: number | null;
  maxTokens: number | null;
  maxCost: number | null;
  /** max_concurrent + max_queued */
  maxInflight: number | null;
  maxConcurrent: number | null;
  maxCtx: number | null;
  pmaxTurns: number | null;
  pmaxTokens: number | null;
  pmaxCost: number | null;
  pmaxCtx: number | null;
}

/**
 * One operation of a2a_relay_batch, as sent: end a turn (`f`: a row; `c`: a counted turn), start a
 * reserved one (`s`), admit one (`a`, started at once when `start` and the gates allow). `s` and
 * `a` carry their profile's window and limits (the `p…` fields of Gates).
 */
export type WireOp =
  | { k: "f"; id: number; refund: boolean; tokens: number; cost: number }
  | ({ k: "c"; refund: boolean; tokens: number; cost: number } & Counted)
  | ({ k: "s"; id: number; profile: string } & ProfileGates)
  | ({ k: "a"; profile: string; ctx: string; task: string; ts: number; start: boolean } & ProfileGates);

interface ProfileGates {
  pwnd: string | null;
  psince: number | null;
  pmax_turns: number | null;
  pmax_tokens: number | null;
  pmax_cost: number | null;
  pmax_ctx: number | null;
}

/**
 * An admission `refused` (id undefined), `reserved` or `started`; a start `started`, `wait`,
 * `refused` or `lost`; an end `done` or `lost` (the turn was handed back meanwhile).
 */
export type BatchStatus = "refused" | "reserved" | "started" | "wait" | "lost" | "done";

export interface BatchResult {
  /** An admitted turn's row; or `counted`, how its end finds a turn counted without a row. */
  id: number | undefined;
  counted?: Counted;
  status: BatchStatus;
  /** The use the operation was checked against (names the limit of a refusal). */
  use: PeerUse;
}
