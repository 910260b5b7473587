import { connect } from "node:net";

/**
 * Bounded waits on the network path to an upstream, which `fetch` alone does not give: whether a
 * connection can be made at all (fetch has no connect timeout: a silent path hangs it for minutes),
 * and whether an open event stream still delivers bytes. Plus the one-line words for why a
 * connection failed, without the runtime's hints.
 */

/** Whether a TCP connection to the URL's host and port opens within `ms`; why not if not. */
export function probeTcp(url: string, ms: number): Promise<{ ok: true } | { ok: false; why: string }> {
  let host: string;
  let port: number;
  try {
    const u = new URL(url);
    host = u.hostname.replace(/^\[|\]$/g, "");
    port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
  } catch {
    return Promise.resolve({ ok: false, why: "invalid url" });
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (r: { ok: true } | { ok: false; why: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, why: "timed out" }), ms);
    socket.once("connect", () => done({ ok: true }));
    socket.once("error", (err) => done({ ok: false, why: netReason(err) }));
  });
}

/**
 * The body, failing with `onSilence()`'s error when no byte arrives for `ms` (comments and
 * keepalives count): a connection that went dark without a reset.
 */
export function watchSilence(
  body: ReadableStream<Uint8Array>,
  ms: number,
  onSilence: () => Error,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const silent = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onSilence()), ms);
      });
      try {
        const r = await Promise.race([reader.read(), silent]);
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (err) {
        // the stream errors with `err` below; a cancel that fails has nothing more to tell
        reader.cancel(err).catch(() => {});
        controller.error(err);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
}

/** Why a connection failed, in words (the code kept for TLS); no runtime hints, no repetition. */
export function netReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = String(e?.code ?? e?.cause?.code ?? "");
  const words = WORDS[code];
  if (words) return words;
  if (/CERT|SSL|TLS|VERIFY|SELF_SIGNED|HOSTNAME|ALTNAME|ISSUER/i.test(code)) {
    return `TLS: the upstream's certificate was not accepted (${code})`;
  }
  const msg = typeof e?.message === "string" ? e.message : String(err);
  // Deno says "fetch failed" and puts the reason in `cause`
  const all = `${msg} ${typeof e?.cause?.message === "string" ? e.cause.message : ""}`;
  if (/refused/i.test(all)) return "connection refused";
  if (/network is unreachable/i.test(all)) return "network unreachable";
  if (/no route to host|host is unreachable/i.test(all)) return "host unreachable";
  if (
    /closed unexpectedly|socket hang up|other side closed|closed before message completed|connection reset/i.test(
      all,
    )
  ) {
    return "connection reset";
  }
  if (/timed? ?out/i.test(all)) return "timed out";
  if (/dns error|failed to lookup|name or service not known/i.test(all)) return "host name not found";
  return tidy(code && !msg.includes(code) ? `${code}: ${msg}` : msg);
}

/** Failures where no connection was ever made: nothing reached the upstream. */
export function neverConnected(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (NO_CONNECTION.has(String(e?.code ?? e?.cause?.code ?? ""))) return true;
  // Deno: "fetch failed", with "tcp connect error: …" or "dns error: …" in `cause`
  const cause = typeof e?.cause?.message === "string" ? e.cause.message : "";
  return /\(Connect\)|tcp connect error|dns error|failed to lookup/i.test(cause);
}

// internal

const WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ECONNRESET: "connection reset",
  ConnectionClosed: "connection closed",
  EPIPE: "connection closed",
  ENETUNREACH: "network unreachable",
  EHOSTUNREACH: "host unreachable",
  EHOSTDOWN: "host down",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  DNSException: "host name lookup failed",
  FailedToOpenSocket: "could not open a connection",
};

const NO_CONNECTION = new Set([
  "ECONNREFUSED",
  "ConnectionRefused",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "DNSException",
  "FailedToOpenSocket",
]);

/** A runtime's message without its advice to the developer ("Was there a typo…", "pass verbose…"). */
function tidy(msg: string): string {
  return msg
    .replace(/\s*(Was there a typo[^.?]*[.?]|For more information[^.]*\.|pass `verbose: true`[^.]*\.)/gi, "")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
}
