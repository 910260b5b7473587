import { mayUse, type Peer } from "../auth/peers.ts";
import {
  bodyTooLarge,
  clientClosed,
  contentTypeNotSupported,
  internalError,
  profileForbidden,
  profileNotFound,
  RelayError,
  versionNotSupported,
} from "../errors.ts";

/** Request helpers shared by the JSON-RPC and HTTP+JSON front doors. */

/**
 * Whatever a front door caught, as a RelayError: a caller that disconnected is CLIENT_CLOSED (its
 * own outcome, not an internal error); anything unexpected is INTERNAL and told to `onInternal`
 * (one log line).
 */
export function asRelayError(
  err: unknown,
  signal: AbortSignal,
  onInternal?: (err: Error) => void,
): RelayError {
  if (err instanceof RelayError) return err;
  if (signal.aborted) return clientClosed();
  const e = err instanceof Error ? err : new Error(String(err));
  onInternal?.(e);
  return internalError(e.message);
}

/** `A2A-Version` → "1.0" | "0.3"; undefined when absent; throws -32009 for anything else. */
export function versionOf(h: string | undefined): "1.0" | "0.3" | undefined {
  if (h === undefined) return undefined;
  const v = h.trim();
  if (v === "1.0" || v === "1.0.0" || v === "1") return "1.0";
  if (v === "0.3" || v === "0.3.0" || v === "") return "0.3";
  throw versionNotSupported(h);
}

/** Accept JSON bodies only (`application/json` or `application/a2a+json`). */
export function requireJson(contentType: string | undefined): void {
  const ct = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct !== "application/json" && ct !== "application/a2a+json") throw contentTypeNotSupported(ct);
}

/** The profile a request addresses, checked against the peer's rights. */
export function resolveProfile(name: string | undefined, peer: Peer, profiles: ReadonlySet<string>): string {
  const allowed = [...profiles].filter((p) => mayUse(peer, p));
  const chosen = name ?? peer.defaultProfile ?? (allowed.length === 1 ? allowed[0] : undefined);
  if (!chosen || !profiles.has(chosen)) throw profileNotFound(chosen ?? "(none given)", allowed);
  if (!mayUse(peer, chosen)) throw profileForbidden(chosen, peer.name);
  return chosen;
}

/** Read a request body, refusing (without buffering it whole) one larger than `limit` bytes. */
export async function readLimited(req: Request, limit: number): Promise<string> {
  const len = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(len) && len > limit) throw bodyTooLarge(limit);
  // a declared length within the limit: the server reads exactly that many bytes, in one go
  if (Number.isFinite(len)) return req.text();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
