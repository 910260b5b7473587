import type { Usage } from "../receivers/types.ts";

/** What admission control (budgets) is asked about one turn. */
export interface AdmitRequest {
  peer: string;
  profile: string;
  contextId: string;
  taskId: string;
  origin: "a2a" | "local";
}

/**
 * Admission control, injected (the engine knows nothing of budgets). `admit` runs synchronously
 * (or, for a ledger on a shared store, returns a promise: the dispatch then waits for it)
 * inside the dispatch, before the task or turn is recorded: throw (a RelayError) to refuse.
 */
export interface Admission {
  admit(req: AdmitRequest): AdmissionTicket | undefined | Promise<AdmissionTicket | undefined>;
}

export interface AdmissionTicket {
  /** Resolves when the turn may start; rejects if `signal` aborts or it may no longer start. */
  acquire(signal: AbortSignal): Promise<void>;
  /** The turn ran (whatever its outcome): record the receiver's usage, free its slot. */
  settle(usage: Usage | undefined): void;
  /** The turn never started: give its reservation back. */
  refund(): void;
}
