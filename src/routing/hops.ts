import { hopLimit, invalidRequest } from "../errors.ts";

/**
 * Loop protection between relays. Every forward carries `A2A-Relay-Hops: n`, the number of relay
 * forwards the dispatch has already gone through (absent = 0). A relay refuses a request whose count
 * is over its `server.max_hops` (-32044 HOP_LIMIT, HTTP 508) before any task is created, and adds
 * one when it forwards.
 */

export const HOPS_HEADER = "A2A-Relay-Hops";

/** The hop count of an inbound request (absent = 0); a malformed header is a bad request. */
export function readHops(header: string | undefined | null): number {
  if (header === undefined || header === null || header.trim() === "") return 0;
  const v = header.trim();
  if (!/^\d{1,4}$/.test(v)) throw invalidRequest(`${HOPS_HEADER} must be a small non-negative integer`);
  return Number(v);
}

/** Throw HOP_LIMIT when a request has been forwarded more than `maxHops` times. */
export function checkHops(hops: number, maxHops: number): void {
  if (hops > maxHops) throw hopLimit(hops, maxHops);
}

/** The header an outbound forward carries, given the inbound count of the turn being forwarded. */
export function nextHops(inbound: number | undefined): Record<string, string> {
  return { [HOPS_HEADER]: String((inbound ?? 0) + 1) };
}
