import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { generateRelayKeyPem, relayKeyFromPem, relayKeyPath, relayPublicKeyPath } from "../auth/keys.ts";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { type Command, onlyFlags } from "./io.ts";

export const keygen: Command = {
  name: "keygen",
  summary: "create this relay's Ed25519 signing key (0600) in the data dir",
  usage: `a2a-relay keygen [--config F] [--data-dir D] [--force]

Creates <data dir>/keys/relay.key.pem (Ed25519, mode 0600) and relay.pub.pem; the relay publishes
the public key at /.well-known/jwks.json and signs outbound JWTs (profiles with auth = "jwt") with
it. An existing key is kept unless --force (which invalidates every JWT it signed).
  --config F     the relay's config (its server.data_dir)
  --data-dir D   the data dir (else A2A_RELAY_HOME, else ~/.a2a-relay)
  --force        replace an existing key

Example: a2a-relay keygen --config a.toml --data-dir data-a`,
  async run(argv, io) {
    const { values } = onlyFlags(argv, {
      config: { type: "string" },
      "data-dir": { type: "string" },
      force: { type: "boolean" },
    });
    const config = loadConfig({ file: values.config, env: io.env, dataDir: values["data-dir"] });
    const keyFile = relayKeyPath(config.server.dataDir);
    const pubFile = relayPublicKeyPath(config.server.dataDir);
    if (existsSync(keyFile) && !values.force) {
      throw new UsageError(
        `${keyFile} already exists; pass --force to replace it (peers that trust the old key will refuse tokens signed with the new one until they refetch the JWKS)`,
      );
    }
    const { privatePem, publicPem } = generateRelayKeyPem();
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, privatePem, { mode: 0o600, flag: values.force ? "w" : "wx" });
    chmodSync(keyFile, 0o600);
    writeFileSync(pubFile, publicPem, { mode: 0o644 });
    const key = await relayKeyFromPem(privatePem);
    io.out(
      [
        `wrote ${keyFile} (Ed25519, mode 0600), kid ${key.kid}`,
        `public key: ${pubFile}; a running relay publishes it at /.well-known/jwks.json`,
        `relay id (JWT issuer of this relay): ${config.server.id}`,
        "",
      ].join("\n"),
    );
    return 0;
  },
};
