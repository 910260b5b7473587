import { relayKeyFromPem, relayKeyPath } from "../auth/keys.ts";
import { mintJwt } from "../auth/mint.ts";
import { loadConfig, readSecretFile } from "../config/load.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { type Command, flags } from "./io.ts";

const MAX_TTL_S = 86_400;

export const token: Command = {
  name: "token",
  summary: "mint a JWT signed with this relay's key (for scripts and curl)",
  usage: `a2a-relay token mint --peer NAME --aud RELAY_ID [--ttl S] [--profiles a,b] [--config F] [--data-dir D]

Prints a JWT signed with this relay's key (a2a-relay keygen first): iss = --peer, aud = the
receiving relay's server.id, valid --ttl seconds (default 300, at most 86400), limited to
--profiles when given. The receiving relay needs [peers.NAME.jwt] with this relay's public key.

Example: curl -H "Authorization: Bearer $(a2a-relay token mint --peer host-a --aud host-b --ttl 300)" …`,
  async run(argv, io) {
    const { values, positionals } = flags(argv, {
      peer: { type: "string" },
      aud: { type: "string" },
      ttl: { type: "string" },
      profiles: { type: "string" },
      config: { type: "string" },
      "data-dir": { type: "string" },
    });
    if (positionals[0] !== "mint" || positionals.length !== 1)
      throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    if (!values.peer) throw new UsageError("token mint: --peer NAME is required (the JWT issuer)");
    if (!values.aud)
      throw new UsageError(
        "token mint: --aud RELAY_ID is required (the server.id of the relay that will verify it)",
      );
    const ttl = Number(values.ttl ?? "300");
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_S) {
      throw new UsageError(
        `token mint: --ttl "${values.ttl}" must be whole seconds between 1 and ${MAX_TTL_S}`,
      );
    }
    const profiles = values.profiles
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const config = loadConfig({ file: values.config, env: io.env, dataDir: values["data-dir"] });
    const read = readSecretFile(relayKeyPath(config.server.dataDir));
    if (!read.ok) throw new ConfigError(`no usable relay key: ${read.error}; run a2a-relay keygen first`);
    const key = await relayKeyFromPem(read.value).catch((err: Error) => {
      throw new ConfigError(`${relayKeyPath(config.server.dataDir)}: ${err.message}`);
    });
    const jwt = await mintJwt(key, {
      iss: values.peer,
      aud: values.aud,
      ttlS: ttl,
      profiles,
      now: Date.now(),
    });
    io.out(`${jwt}\n`);
    return 0;
  },
};
