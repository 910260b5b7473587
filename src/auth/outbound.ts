import { tokenEnvName } from "../config/load.ts";
import type { ProfileConfig } from "../config/schema.ts";
import { outboundCredentialMissing } from "../errors.ts";
import type { RelayKey } from "./keys.ts";
import { mintJwt } from "./mint.ts";

/** Lifetime of the JWT minted for one outbound request. */
const OUTBOUND_TTL_S = 60;

/**
 * The `Authorization` header value for a request to another relay (a `remote` profile).
 * `auth = "jwt"`: a fresh JWT per request, iss = this relay's id, aud = the remote relay's id.
 * `auth = "token"`: the profile's `token_env` if set, else `A2A_OC_TOKEN_<SLUG of remoteId>`.
 * Throws OUTBOUND_CREDENTIAL_MISSING (naming the key or variable, never a value) when neither exists.
 */
export async function outboundCredential(
  profile: Pick<ProfileConfig, "auth" | "token_env">,
  selfId: string,
  key: RelayKey | undefined,
  env: Record<string, string | undefined>,
  now: number | Date,
  remoteId: string,
): Promise<string> {
  if (profile.auth === "token") {
    const name = profile.token_env ?? tokenEnvName(remoteId);
    const token = env[name]?.trim();
    if (!token) throw outboundCredentialMissing(`${name} is not set: no token for relay "${remoteId}"`);
    return `Bearer ${token}`;
  }
  if (!key) {
    throw outboundCredentialMissing(
      `this relay has no signing key for auth = "jwt" to relay "${remoteId}": run a2a-relay keygen`,
    );
  }
  const ms = typeof now === "number" ? now : now.getTime();
  return `Bearer ${await mintJwt(key, { iss: selfId, aud: remoteId, ttlS: OUTBOUND_TTL_S, now: ms })}`;
}
