import { fromFetchFailure, fromHttpStatus, fromWireError, type WireError } from "./errors.ts";
import type { CliIO } from "./io.ts";
import { describeReach, type Reach } from "./reach.ts";
import type { FetchLike } from "./rpc.ts";

/**
 * A call to a running relay's admin API (`/admin/...`) with the reach rule's credential: what
 * `peers`, `budget` and `transcript` use when given `--url` or `--relay` instead of a data dir.
 */
export async function adminCall<T>(
  r: Reach,
  io: Pick<CliIO, "err">,
  path: string,
  opts: { method?: "GET" | "POST"; fetch?: FetchLike | undefined; verbose?: boolean | undefined } = {},
): Promise<T> {
  const url = `${r.base}${path}`;
  const cred = r.credential(url);
  if (opts.verbose) io.err(describeReach(r, url));
  const hint = cred.resolved
    ? `the credential came from ${cred.source} (the admin API needs an admin peer's)`
    : `no credential was sent: ${cred.error}`;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method: opts.method ?? "GET",
      headers: cred.token ? { authorization: `Bearer ${cred.token}` } : {},
    });
  } catch (err) {
    throw fromFetchFailure(err, url);
  }
  const text = await res.text();
  if (res.ok) return JSON.parse(text) as T;
  let body: { error?: WireError | string } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {}
  if (body && typeof body.error === "object" && body.error) throw fromWireError(body.error, res.status, hint);
  throw fromHttpStatus(res.status, url, text, hint);
}
