import { TurnFailure } from "../receivers/a2a/forward.ts";

/**
 * `lease = NAME` on an `a2a` profile: the upstream URL is found at dispatch time in the port
 * leases of the port-lock module. That module is not part of this build yet; until it is, a
 * profile with `lease` fails its turns with this message. Replace this one function when it lands.
 */
export async function resolveLeaseUrl(name: string): Promise<string> {
  throw new TurnFailure(
    `upstream unavailable: lease "${name}" cannot be resolved: lease resolution is not available yet (set url instead)`,
  );
}
