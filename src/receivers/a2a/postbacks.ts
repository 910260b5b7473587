/**
 * Post-backs from the a2a_fleet plugin's queued receivers. Such a receiver answers a dispatch at
 * once with "… Reply will follow. [queued]", runs its coding CLI, then POSTs the real answer as a
 * new fleet-dialect `SendMessage` with `role: "agent"` and the same `contextId`. The relay's turn
 * waits here for that post-back, keyed by (profile, the fleet conversation id the relay sent).
 */

/** The text that marks a fleet answer as an acknowledgement, the real answer following later. */
export function isQueuedAck(text: string): boolean {
  return /\[queued\]\s*$/.test(text);
}

/** A queued receiver that could not get its conversation's lock posts back `[busy] …`. */
export function isBusyReply(text: string): boolean {
  return text.trimStart().startsWith("[busy]");
}

export type Delivery = "settled" | "late" | "unknown";

interface Slot {
  taskId: string;
  /** A post-back that came before the turn started waiting (a fast receiver). */
  early?: string;
  resolve?: (text: string) => void;
  /** A peer other than the reply_peer that posted back for it (refused). */
  refused?: string;
}

/** Post-backs that came after their task ended are remembered this long (answered, not run). */
const LATE_KEEP = 1000;

export class Postbacks {
  readonly #slots = new Map<string, Slot>();
  readonly #late = new Map<string, string>();

  /**
   * Open a slot before the dispatch goes out, so that a post-back arriving even before the
   * receiver's acknowledgement is kept. `close` it when the turn ends, whatever happened.
   */
  open(profile: string, contextId: string, taskId: string): PostbackSlot {
    const key = keyOf(profile, contextId);
    const slot: Slot = { taskId };
    this.#slots.set(key, slot);
    return {
      wait: (signal) =>
        new Promise<string>((resolve, reject) => {
          if (slot.early !== undefined) return resolve(slot.early);
          const onAbort = () => reject(signal.reason);
          if (signal.aborted) return onAbort();
          signal.addEventListener("abort", onAbort, { once: true });
          slot.resolve = (text) => {
            signal.removeEventListener("abort", onAbort);
            resolve(text);
          };
        }),
      refusedFrom: () => slot.refused,
      close: (late) => {
        if (this.#slots.get(key) === slot) this.#slots.delete(key);
        if (late) {
          this.#late.set(key, taskId);
          if (this.#late.size > LATE_KEEP) this.#late.delete(this.#late.keys().next().value as string);
        }
      },
    };
  }

  /**
   * A post-back for (profile, contextId) from a peer that is not the reply_peer: the waiting task,
   * if one waits (it remembers the peer, for its failure at the turn cap).
   */
  refuse(profile: string, contextId: string, peer: string): string | undefined {
    const slot = this.#slots.get(keyOf(profile, contextId));
    if (slot) slot.refused = peer;
    return slot?.taskId;
  }

  /** A post-back for (profile, contextId): settles the waiting turn, or says why it could not. */
  deliver(profile: string, contextId: string, text: string): { delivery: Delivery; taskId?: string } {
    const key = keyOf(profile, contextId);
    const slot = this.#slots.get(key);
    if (slot) {
      if (slot.resolve) slot.resolve(text);
      else slot.early = text;
      this.#slots.delete(key);
      return { delivery: "settled", taskId: slot.taskId };
    }
    const late = this.#late.get(key);
    if (late !== undefined) return { delivery: "late", taskId: late };
    return { delivery: "unknown" };
  }
}

export interface PostbackSlot {
  /** Resolves with the post-back's text; rejects when `signal` aborts (cancel, turn cap). */
  wait(signal: AbortSignal): Promise<string>;
  /** The peer (not the reply_peer) whose post-back for this slot was refused, if any. */
  refusedFrom(): string | undefined;
  /** Release the slot; `late`: the task ended without its post-back (remember it as late). */
  close(late: boolean): void;
}

/** What the JSON-RPC front door needs to take post-backs. */
export interface Replies {
  postbacks: Postbacks;
  /** The `reply_peer` of a profile (undefined: it takes no post-backs). */
  replyPeer(profile: string): string | undefined;
  /** Told of every post-back taken or refused (a log line; `warn` for a likely misconfiguration). */
  log(fields: Record<string, unknown>, msg: string, warn?: boolean): void;
}

// internal

function keyOf(profile: string, contextId: string): string {
  return `${profile}\u0000${contextId}`;
}
