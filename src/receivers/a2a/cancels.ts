import { realTimers, type Timers } from "../../clock.ts";
import type { SessionStore } from "../../store/sessions.ts";
import { UpstreamError } from "./http.ts";
import type { Wire } from "./wire.ts";

/**
 * CancelTask to an upstream, retried until the upstream answers: a turn that ends on this relay
 * (turn cap, cancel) while its upstream task runs on must not leave the upstream completing it,
 * or the two relays disagree. One try at once; if the upstream cannot be reached, the cancel is
 * written down (a row of the sessions table, under the relay task) and retried with backoff, also
 * by the next process, until the upstream answers anything (a task, TaskNotCancelable, not found).
 */

export interface PendingCancel {
  relayTaskId: string;
  peer: string;
  upstreamTaskId: string;
  since: number;
}

export interface CancelDeps {
  profile: string;
  sessions: () => SessionStore | undefined;
  /** The wire to the upstream for a cancel of this relay task (its peer chooses the credential). */
  wire(c: PendingCancel, signal: AbortSignal): Promise<Wire>;
  log?: ((fields: Record<string, unknown>, msg: string) => void) | undefined;
  /** Bound on each try (default 5 s). */
  tryMs?: number;
  /** Waits between tries, the last repeating (default 1, 2, 5, 10, 30 s). */
  backoffMs?: number[];
  /** Give up after this long (default 24 h): the upstream is gone for good. */
  giveUpMs?: number;
  /** The clock and timers of the retries (tests move them by hand). */
  now?: () => number;
  timers?: Timers;
}

/** Rows in the sessions table: contextId is this prefix plus the relay task id. */
const PREFIX = "\u0000cancel:";

export class UpstreamCancels {
  readonly #d: CancelDeps;
  readonly #running = new Set<string>();

  constructor(deps: CancelDeps) {
    this.#d = deps;
  }

  /**
   * Cancel the upstream task now; when the upstream cannot be reached, keep trying in the
   * background. "delivered": the upstream answered; "pending": it will be retried.
   */
  async request(c: PendingCancel): Promise<"delivered" | "pending"> {
    if (await this.#try(c)) return "delivered";
    const key = this.#key(c);
    await this.#d
      .sessions()
      ?.put(key, c.upstreamTaskId, { cancel: c })
      .catch((err) => this.#notWritten(c, err));
    this.#retry(c, 0);
    return "pending";
  }

  /** Cancels a previous process left pending: retry them. Call once at start. */
  resumePending(): number {
    const rows = this.#d.sessions()?.withPrefix?.(this.#d.profile, PREFIX) ?? [];
    let n = 0;
    for (const row of rows) {
      const c = row.data?.cancel as PendingCancel | undefined;
      if (!c?.upstreamTaskId || this.#running.has(c.relayTaskId)) continue;
      this.#retry(c, 0);
      n++;
    }
    return n;
  }

  // internal

  #key(c: PendingCancel) {
    return { profile: this.#d.profile, peer: c.peer, contextId: `${PREFIX}${c.relayTaskId}` };
  }

  /** One CancelTask: true when the upstream answered (whatever it said). */
  async #try(c: PendingCancel): Promise<boolean> {
    const bound = AbortSignal.timeout(this.#d.tryMs ?? 5000);
    try {
      const wire = await this.#d.wire(c, bound);
      if (!wire.cancel) return true;
      await wire.cancel(c.upstreamTaskId, bound);
      return true;
    } catch (err) {
      // the upstream said no (not cancelable, not found, refused): it answered
      if (err instanceof UpstreamError && err.kind !== "unavailable") return true;
      return false;
    }
  }

  #retry(c: PendingCancel, attempt: number): void {
    this.#running.add(c.relayTaskId);
    const waits = this.#d.backoffMs ?? [1000, 2000, 5000, 10_000, 30_000];
    const wait = waits[Math.min(attempt, waits.length - 1)]!;
    const timers = this.#d.timers ?? realTimers;
    const timer = timers.setTimeout(async () => {
      const done = await this.#try(c);
      const expired = (this.#d.now ?? Date.now)() - c.since > (this.#d.giveUpMs ?? 86_400_000);
      if (!done && !expired) return this.#retry(c, attempt + 1);
      this.#running.delete(c.relayTaskId);
      await this.#d
        .sessions()
        ?.remove?.(this.#key(c))
        .catch((err) => this.#notWritten(c, err));
      this.#d.log?.(
        {
          profile: this.#d.profile,
          taskId: c.relayTaskId,
          upstreamTaskId: c.upstreamTaskId,
          attempts: attempt + 2,
        },
        done
          ? "upstream cancel delivered"
          : "upstream cancel given up after 24 h: the upstream never answered",
      );
    }, wait);
    (timer as { unref?: () => void }).unref?.();
  }

  /** The pending cancel's record could not be written (or removed): say so; the retry goes on. */
  #notWritten(c: PendingCancel, err: unknown): void {
    this.#d.log?.(
      { profile: this.#d.profile, taskId: c.relayTaskId, err: String(err) },
      "pending upstream cancel not recorded",
    );
  }
}
