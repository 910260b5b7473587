import { RelayError } from "../../errors.ts";
import { resolveLease } from "../../portlock/index.ts";
import { TurnFailure } from "./fold.ts";

/**
 * `lease = NAME` on an `a2a` profile: the relay instance holding lease NAME is found in the port
 * leases at dispatch time, so the profile follows it across restarts and port changes. The URL is
 * `<its base>/a2a/<remote_profile>`, or `<its base>/a2a` (its default profile) without one.
 */
export function resolveLeaseUrl(lockDir: string, name: string, remoteProfile: string | undefined): string {
  let base: string;
  try {
    base = resolveLease(lockDir, name);
  } catch (err) {
    if (err instanceof RelayError)
      throw new TurnFailure(`upstream unavailable: ${err.message}`, err.code, err.reason);
    throw err;
  }
  return `${base}/a2a${remoteProfile ? `/${encodeURIComponent(remoteProfile)}` : ""}`;
}
