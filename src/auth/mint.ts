import { jose } from "./jose.ts";
import type { RelayKey } from "./keys.ts";

export interface MintClaims {
  iss: string;
  aud: string;
  ttlS: number;
  /** Narrows the peer's rights at the receiving relay. */
  profiles?: string[] | undefined;
  /** Milliseconds since the epoch. */
  now: number;
  jti?: string;
}

/** A short-lived EdDSA JWT signed with this relay's key: iss, aud, iat, exp, a fresh jti. */
export async function mintJwt(key: RelayKey, c: MintClaims): Promise<string> {
  if (!(Number.isInteger(c.ttlS) && c.ttlS >= 1))
    throw new TypeError("ttl must be a whole number of seconds >= 1");
  const iat = Math.floor(c.now / 1000);
  const { SignJWT } = await jose();
  return new SignJWT(c.profiles ? { profiles: c.profiles } : {})
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "JWT" })
    .setIssuer(c.iss)
    .setAudience(c.aud)
    .setIssuedAt(iat)
    .setExpirationTime(iat + c.ttlS)
    .setJti(c.jti ?? crypto.randomUUID())
    .sign(key.privateKey);
}
