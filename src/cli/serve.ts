import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import { createLogger } from "../logger.ts";
import { currentRuntime } from "../runtime/index.ts";
import { startRelay } from "../server.ts";
import { VERSION } from "../version.ts";
import type { Command } from "./io.ts";

export const serve: Command = {
  name: "serve",
  summary: "run the relay",
  usage:
    "a2a-relay serve [--config F] [--host H] [--port N|auto] [--band NAME] [--name N [--replace]] [--data-dir D] [--insecure-no-auth]",
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        band: { type: "string" },
        name: { type: "string" },
        "data-dir": { type: "string" },
        "insecure-no-auth": { type: "boolean" },
        replace: { type: "boolean" },
      },
      strict: true,
    });
    const config = loadConfig({
      file: values.config,
      env: io.env,
      host: values.host,
      port: values.port,
      band: values.band,
      name: values.name,
      dataDir: values["data-dir"],
      insecureNoAuth: values["insecure-no-auth"] ?? false,
      prepare: true,
    });
    const logger = createLogger(config.server.log_level);
    const relay = await startRelay(config, currentRuntime(), logger, {
      replace: values.replace ?? false,
      env: io.env,
    });
    const local = config.peers.local;
    const tokenFile = local?.credential.source.startsWith("file:")
      ? local.credential.source.slice(5)
      : undefined;
    const auth = tokenFile ? ` -H "Authorization: Bearer $(cat ${tokenFile})"` : "";
    const first = Object.keys(config.profiles)[0] ?? "echo";
    // the banner is for a person: stderr, so stdout carries only the JSON log lines
    io.err(
      [
        `a2a-relay ${VERSION} listening on ${relay.url} (relay id ${config.server.id})`,
        `  data dir:  ${config.server.dataDir}`,
        ...(relay.lease
          ? [
              `  lease:     ${relay.lease.name} (band ${relay.lease.band}, port ${relay.lease.port}) in ${config.server.lockDir}; see a2a-relay ports`,
            ]
          : []),
        `  profiles:  ${Object.keys(config.profiles).join(", ")}`,
        `  peers:     ${Object.keys(config.peers).join(", ")}`,
        "  try it:",
        `    curl -s ${relay.url}/a2a/${first} -H 'content-type: application/json' -H 'A2A-Version: 1.0'${auth} \\`,
        `      -d '{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"'$(date +%s%N)'","role":"ROLE_USER","parts":[{"text":"hello"}]}}}'`,
        "",
      ].join("\n"),
    );
    const signal = await io.stopSignal;
    io.err(
      `received ${signal}: finishing running turns (up to ${config.server.shutdown_grace_s} s), then exiting\n`,
    );
    await relay.stop();
    return 0;
  },
};
