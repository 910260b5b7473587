import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { createLogger, LOG_LEVELS } from "../logger.ts";
import { currentRuntime } from "../runtime/index.ts";
import { startRelay } from "../server.ts";
import { VERSION } from "../version.ts";
import { type Command, onlyFlags } from "./io.ts";

export const serve: Command = {
  name: "serve",
  summary: "run the relay",
  usage: `a2a-relay serve [--config F] [--host H] [--port N|auto] [--band NAME] [--name N [--replace]] [--data-dir D]
                [--log-level L] [--log-format json|pretty] [--insecure-no-auth]

  --config F        the config file (else A2A_RELAY_CONFIG, else the embedded defaults: 127.0.0.1:9200,
                    profile echo, peer local with a token generated into <data dir>/tokens/local.token)
  --host H          listen address (A2A_RELAY_HOST, server.host; default 127.0.0.1)
  --port N|auto     a port, or "auto": a free port of --band (A2A_RELAY_PORT, server.port; default 9200)
  --band NAME       the band --port auto picks from ([ports.bands]; default "relay" 9200-9209)
  --name N          the port lease's name (default server.id); --replace stops its live holder first
  --data-dir D      database, tokens, keys, transcripts (A2A_RELAY_HOME, server.data_dir; ~/.a2a-relay)
  --log-level L     debug | info | warn | error | silent (server.log_level; default info)
  --log-format F    json (one JSON line per event) or pretty; default pretty when stdout is a terminal
  --insecure-no-auth  allow a non-loopback --host with no peer configured

The banner (URL, data dir, lease, a ready curl line that reads the token from its file) goes to
stderr; stdout carries the log. SIGINT/SIGTERM finish running turns (server.shutdown_grace_s).

Examples:
  a2a-relay serve
  a2a-relay serve --config /etc/a2a-relay/relay.toml --log-format json
  a2a-relay serve --port auto --band hermes --name hermes-b --data-dir data-b`,
  async run(argv, io) {
    const { values } = onlyFlags(argv, {
      config: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      band: { type: "string" },
      name: { type: "string" },
      "data-dir": { type: "string" },
      "insecure-no-auth": { type: "boolean" },
      replace: { type: "boolean" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
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
    if (values.band !== undefined && config.server.port !== "auto") {
      throw new UsageError(
        `--band ${values.band}: a band is where --port auto picks a port; the port here is fixed (${config.server.port}): add --port auto, or drop --band`,
      );
    }
    const level = values["log-level"] ?? config.server.log_level;
    if (!LOG_LEVELS.includes(level)) {
      throw new UsageError(`--log-level: "${level}" is not one of ${LOG_LEVELS.join(", ")}`);
    }
    const format = values["log-format"] ?? (io.stdoutTty ? "pretty" : "json");
    if (format !== "json" && format !== "pretty") {
      throw new UsageError(`--log-format: "${format}" is not json or pretty`);
    }
    const logger = createLogger(level, 1, format);
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
    io.onReload?.(() => {
      void relay.reloadTls().then((tls) => {
        io.err(
          tls
            ? "SIGHUP: TLS files read again (the log says whether the certificate changed)\n"
            : "SIGHUP: nothing to reload (no [server.tls])\n",
        );
      });
    });
    const signal = await io.stopSignal;
    io.err(
      `received ${signal}: finishing running turns (up to ${config.server.shutdown_grace_s} s), then exiting\n`,
    );
    await relay.stop();
    return 0;
  },
};
