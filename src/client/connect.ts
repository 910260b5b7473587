import { interrupted, type RelayError, UsageError } from "../errors.ts";
import type { CliIO } from "./io.ts";
import { describeReach, type Reach } from "./reach.ts";
import { type A2AClient, createClient, type FetchLike } from "./rpc.ts";

/**
 * A client for `url` with the credential the reach rule picks (see reach.ts); `--verbose` prints
 * the relay and the credential's source on stderr.
 */
export function connect(
  url: string,
  r: Reach,
  io: Pick<CliIO, "err">,
  opts: { fetch?: FetchLike | undefined; verbose?: boolean | undefined } = {},
): A2AClient {
  const cred = r.credential(url);
  if (opts.verbose) io.err(describeReach(r, url));
  const authHint = cred.resolved
    ? `the credential came from ${cred.source}; choose another with --token-file, --data-dir or --config (see --verbose)`
    : `no credential was sent: ${cred.error}; pass --data-dir (that relay's data dir), --token-file or set A2A_RELAY_TOKEN`;
  return createClient({ url, token: cred.token, authHint, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
}

/** `--timeout S` as milliseconds; undefined when not given. */
export function timeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!value.trim() || !Number.isFinite(s) || s <= 0) {
    throw new UsageError(`--timeout: "${value}" is not a positive number of seconds`);
  }
  return Math.round(s * 1000);
}

export interface CallScope {
  signal: AbortSignal;
  /** Stop the timer; call when the command is done. */
  done(): void;
}

/**
 * The signal a command's calls run under: aborted with INTERRUPTED (exit 130) when the process is
 * asked to stop, and with `onTimeout()` (exit 5) after `ms` when given.
 */
export function callScope(
  stopSignal: Promise<string>,
  taskId: () => string | undefined,
  ms?: number,
  onTimeout?: () => RelayError,
): CallScope {
  const ac = new AbortController();
  void stopSignal.then((sig) => {
    if (!ac.signal.aborted) ac.abort(interrupted(sig, taskId()));
  });
  const timer = ms === undefined || !onTimeout ? undefined : setTimeout(() => ac.abort(onTimeout()), ms);
  return { signal: ac.signal, done: () => clearTimeout(timer) };
}
