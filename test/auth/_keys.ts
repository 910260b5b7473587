import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";

export interface PeerKey {
  privateKey: KeyObject;
  publicPem: string;
}

export function peerKey(): PeerKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

export interface Claims {
  iss?: string;
  aud?: string;
  iat?: number;
  exp?: number;
  nbf?: number;
  jti?: string;
  profiles?: unknown;
}

/** Sign claims as given (seconds); defaults: iat = now, exp = now + 300, a fresh jti. */
export function signJwt(
  key: KeyObject | Uint8Array,
  c: Claims,
  alg = "EdDSA",
  nowS = Math.floor(Date.now() / 1000),
): Promise<string> {
  const payload: Record<string, unknown> = {
    iat: nowS,
    exp: nowS + 300,
    jti: crypto.randomUUID(),
    ...c,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
}

export const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
