import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { join } from "node:path";
import type { JWK } from "jose";
import { jose } from "./jose.ts";

/** This relay's own Ed25519 signing key: signs outbound JWTs and `token mint`; JWKS publishes it. */
export interface RelayKey {
  kid: string;
  privateKey: KeyObject;
  /** The public half as a JWK with `kid`, `alg`, `use`. */
  publicJwk: JWK;
}

export const relayKeyPath = (dataDir: string) => join(dataDir, "keys", "relay.key.pem");
export const relayPublicKeyPath = (dataDir: string) => join(dataDir, "keys", "relay.pub.pem");

/** A new Ed25519 key pair as PEM (PKCS8 private, SPKI public). */
export function generateRelayKeyPem(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** Parse a PKCS8 PEM Ed25519 key; the kid is the RFC 7638 thumbprint of its public JWK. */
export async function relayKeyFromPem(pem: string): Promise<RelayKey> {
  const privateKey = createPrivateKey({ key: pem, format: "pem" });
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new TypeError(`the relay key must be Ed25519, not ${privateKey.asymmetricKeyType}`);
  }
  const { calculateJwkThumbprint, exportJWK } = await jose();
  const jwk = await exportJWK(createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: "EdDSA", use: "sig" } };
}

export type KeyRead = { ok: true; value: string } | { ok: false; error: string };

/**
 * The relay key, read on first use and kept once found (so `a2a-relay keygen` run while the
 * relay is up takes effect without a restart). `read` is injected: config/load.ts reads files.
 */
export class RelayKeyring {
  #key: RelayKey | undefined;
  #problem: string | undefined;

  constructor(private readonly read: () => KeyRead) {}

  async current(): Promise<RelayKey | undefined> {
    if (this.#key) return this.#key;
    const r = this.read();
    if (!r.ok) {
      this.#problem = r.error;
      return undefined;
    }
    try {
      this.#key = await relayKeyFromPem(r.value);
      this.#problem = undefined;
    } catch (err) {
      this.#problem = `the relay key is not a valid Ed25519 PKCS8 PEM (${(err as Error).message})`;
    }
    return this.#key;
  }

  /** Why there is no key (missing file, bad mode, bad PEM), for logs and errors. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** The JWKS document: the public half, or no keys when this relay has none yet. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const k = await this.current();
    return { keys: k ? [k.publicJwk] : [] };
  }
}
