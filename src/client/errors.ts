import { invalidAgentResponse, RelayError, upstreamUnavailable } from "../errors.ts";

/**
 * Errors seen by the client, as RelayErrors with the CLI exit code of the contract: a JSON-RPC
 * error keeps its code and reason; transport failures become UPSTREAM_UNAVAILABLE (exit 6).
 */

export interface WireError {
  code: number;
  message: string;
  data?: unknown;
}

/** Exit codes by JSON-RPC code (contract: 1 task, 2 usage, 3 auth, 4 budget, 6 unreachable). */
const EXIT_BY_CODE: Record<number, number> = {
  [-32700]: 2,
  [-32600]: 2,
  [-32601]: 2,
  [-32602]: 2,
  [-32005]: 2,
  [-32009]: 2,
  [-32040]: 2,
  [-32041]: 3,
  [-32050]: 3,
  [-32051]: 3,
  [-32042]: 4,
  [-32044]: 6,
  [-32045]: 6,
  [-32006]: 6,
};

/** A JSON-RPC error object (v1.0 ErrorInfo list or v0.3 object in `data`) as a RelayError. */
export function fromWireError(e: WireError, httpStatus: number, hint?: string): RelayError {
  const reason = reasonOf(e.data) ?? (httpStatus === 401 ? "UNAUTHENTICATED" : `JSONRPC_${-e.code}`);
  let exitCode = EXIT_BY_CODE[e.code] ?? 1;
  if (httpStatus === 401 || httpStatus === 403) exitCode = 3;
  // a 429 is a budget (4) unless it refuses authentication (TOO_MANY_AUTH_FAILURES: 3)
  if (httpStatus === 429 && exitCode !== 3) exitCode = 4;
  const message = exitCode === 3 && hint ? `${e.message}; ${hint}` : e.message;
  return new RelayError({
    code: e.code,
    reason,
    message,
    status: httpStatus,
    exitCode,
    ...(e.data && typeof e.data === "object" && !Array.isArray(e.data)
      ? { data: e.data as Record<string, string> }
      : {}),
  });
}

/** A non-JSON-RPC HTTP failure (a proxy's 502, a plain 404) as a RelayError. */
export function fromHttpStatus(status: number, url: string, body: string, hint?: string): RelayError {
  const snippet = body.replace(/\s+/g, " ").trim().slice(0, 120);
  const what = `HTTP ${status} from ${url}${snippet ? `: ${snippet}` : ""}`;
  if (status === 401 || status === 403) {
    return new RelayError({
      code: -32050,
      reason: "UNAUTHENTICATED",
      message: `${what}${hint ? `; ${hint}` : ""}`,
      status,
      exitCode: 3,
    });
  }
  if (status === 429 && /TOO_MANY_AUTH_FAILURES/.test(body)) {
    return new RelayError({
      code: -32051,
      reason: "TOO_MANY_AUTH_FAILURES",
      message: what,
      status,
      exitCode: 3,
    });
  }
  if (status === 429) {
    return new RelayError({ code: -32042, reason: "BUDGET_EXCEEDED", message: what, status, exitCode: 4 });
  }
  if (status === 404) {
    return new RelayError({ code: -32601, reason: "NOT_FOUND", message: what, status, exitCode: 2 });
  }
  if (status >= 500) return upstreamUnavailable(what);
  return invalidAgentResponse(what);
}

/** A fetch that threw: connection refused, DNS, TLS. Never includes request headers. */
export function fromFetchFailure(err: unknown, url: string): RelayError {
  const e = err as { code?: string; message?: string };
  const why =
    e?.code === "ECONNREFUSED" || e?.code === "ConnectionRefused"
      ? "connection refused"
      : e?.code === "ENOTFOUND"
        ? "host not found"
        : (e?.code ?? e?.message ?? String(err));
  return upstreamUnavailable(`cannot reach ${url} (${why})`);
}

// internal

function reasonOf(data: unknown): string | undefined {
  if (Array.isArray(data)) {
    for (const d of data) {
      const r = (d as { reason?: unknown })?.reason;
      if (typeof r === "string") return r;
    }
    return undefined;
  }
  const r = (data as { reason?: unknown } | undefined)?.reason;
  return typeof r === "string" ? r : undefined;
}
