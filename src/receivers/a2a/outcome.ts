import type { TurnResult } from "../types.ts";
import type { Outage } from "./attach.ts";
import type { Progress } from "./fold.ts";
import { safeUrl, UpstreamError } from "./http.ts";
import { isBusyReply } from "./postbacks.ts";

/** How a forwarded turn's end reads: a send that never arrived, a turn cap, a queued post-back. */

/** A first send that never reached the upstream says so, and that nothing runs there. */
export function neverReached(err: unknown, st: Progress): unknown {
  if (!(err instanceof UpstreamError) || err.link !== "connect" || st.taskId) return err;
  return new UpstreamError(
    `${err.message}; nothing reached it, so nothing runs there: send again once it is back`,
    err.kind,
    err.code,
    err.reason,
    err.link,
  );
}

/**
 * A first send the upstream refused before naming a task (an HTTP error, a JSON-RPC error: not a
 * connection that failed) says what the relay knows of why: `hint` (its card offers only v0.3),
 * or, for a v1.0 profile, that the upstream knows no v1.0 method (-32601, as VoltAgent answers).
 */
export function refusedOutright(err: unknown, st: Progress, profile: string, hint?: string): unknown {
  if (!(err instanceof UpstreamError) || err.link || st.taskId) return err;
  const unknownMethod = st.protocol === "1.0" && err.kind === "rpc" && err.code === -32601;
  const why =
    hint ??
    (unknownMethod ? `it knows no A2A v1.0 method: set protocol = "0.3" on profiles.${profile}` : undefined);
  if (!why) return err;
  return new UpstreamError(`${err.message}; ${why}`, err.kind, err.code, err.reason, err.link);
}

/** What a turn that ran out (turn cap) or was canceled last saw of its upstream task. */
export function abortNote(
  st: Progress,
  outage: Outage | undefined,
  cancel: "delivered" | "pending" | undefined,
) {
  const where = safeUrl(st.url);
  // a fleet node answers its dispatch or nothing: it has no task to follow or cancel
  if (st.protocol === "hermes-fleet" && !outage) {
    return `the fleet node at ${where} took the dispatch and never answered it (it has no task to cancel)`;
  }
  const task = st.taskId ? `upstream task ${st.taskId} at ${where}` : `the upstream at ${where}`;
  const seen = outage
    ? `unreachable for ${Math.round((Date.now() - outage.since) / 1000)} s (${outage.why})`
    : `last seen ${st.lastState ?? "TASK_STATE_SUBMITTED"}`;
  const cancelText =
    cancel === "delivered"
      ? "it was asked to cancel"
      : cancel === "pending"
        ? "the relay keeps asking it to cancel until it answers"
        : "it never named a task to cancel";
  return `${task}: ${seen}; ${cancelText}`;
}

/**
 * A turn that ran out (or was canceled) waiting for a queued receiver's post-back. The receiver
 * acknowledged the turn; its answer never came. The a2a_fleet receivers try a post-back three
 * times within about two seconds (a relay down or restarting then misses it) and log
 * "GIVING UP … result is LOST".
 */
export function postbackNote(contextId: string, url?: string, refusedFrom?: string): string {
  const who = url ? `the queued receiver at ${safeUrl(url)}` : "the queued receiver";
  const why = refusedFrom
    ? `; a post-back came as peer "${refusedFrom}", not as the profile's reply_peer, and was refused (check the receiver's hermes_auth_token_env)`
    : ' (a receiver that could not deliver its post-back logs "result is LOST")';
  return `${who} acknowledged the turn and posted no answer back for conversation ${contextId}${why}`;
}

/** A queued receiver's post-back as the turn's outcome: its answer, or FAILED when it was busy. */
export function postbackResult(text: string, st: Progress): TurnResult {
  if (isBusyReply(text)) {
    return {
      state: "TASK_STATE_FAILED",
      parts: [{ text: `the queued receiver was busy and did not run the turn: ${text}` }],
      metadata: { ...st.metadata(), error: { code: -32043, reason: "CONTEXT_BUSY" } },
    };
  }
  return { state: "TASK_STATE_COMPLETED", parts: [{ text }], metadata: st.metadata() };
}
