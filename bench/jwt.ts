// Single-use JWTs for the auth+budget target: the relay remembers every jti, so each request
// needs its own token. Minted up front so signing costs the load generator nothing.
import { writeFileSync } from "node:fs";
import { exportSPKI, generateKeyPair, jwtVerify, SignJWT } from "jose";

export async function createMinter(claims: { iss: string; aud: string }) {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  let serial = 0;
  return {
    publicKeyPem: await exportSPKI(publicKey),
    /** Write `n` fresh tokens, one a line. */
    async mint(n: number, file: string): Promise<void> {
      const now = Math.floor(Date.now() / 1000);
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        lines.push(
          await new SignJWT({})
            .setProtectedHeader({ alg: "EdDSA" })
            .setIssuer(claims.iss)
            .setAudience(claims.aud)
            .setIssuedAt(now)
            .setExpirationTime(now + 850)
            .setJti(`b${++serial}`)
            .sign(privateKey),
        );
      }
      writeFileSync(file, `${lines.join("\n")}\n`);
    },
    /** µs to verify one such token with jose (in this process, one at a time): auth's floor. */
    async verifyCostUs(n: number): Promise<number> {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: "EdDSA" })
        .setIssuer(claims.iss)
        .setAudience(claims.aud)
        .setIssuedAt(now)
        .setExpirationTime(now + 850)
        .setJti("probe")
        .sign(privateKey);
      for (let i = 0; i < 200; i++) await jwtVerify(token, publicKey); // warm up
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await jwtVerify(token, publicKey, { algorithms: ["EdDSA"] });
      return ((performance.now() - t0) * 1000) / n;
    },
  };
}
