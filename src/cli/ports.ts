import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { listLeases } from "../portlock/index.ts";
import { type Command, onlyFlags } from "./io.ts";

export const ports: Command = {
  name: "ports",
  summary: "port leases held on this host (name, band, port, pid, since, URL)",
  usage: `a2a-relay ports [--band NAME] [--json] [--config F]

Lists the port leases of live relays on this host (NAME BAND PORT PID SINCE URL), read from the
lock dir: A2A_RELAY_LOCK_DIR, else \${XDG_RUNTIME_DIR:-/tmp}/a2a-relay-<uid>. Every relay that
listens on a port takes one (named --name, else server.id); client commands find one with
--relay NAME.
  --band NAME   only that band's leases ([ports.bands] in the config, or a built-in band)
  --json        print the leases as JSON
  --config F    a config whose [ports.bands] names the bands

Example: a2a-relay ports --band hermes`,
  async run(argv, io) {
    const { values } = onlyFlags(argv, {
      band: { type: "string" },
      json: { type: "boolean" },
      config: { type: "string" },
    });
    const config = loadConfig({ file: values.config, env: io.env });
    if (values.band !== undefined && !config.bands[values.band]) {
      throw new UsageError(
        `--band: no band named "${values.band}" (known: ${Object.keys(config.bands).join(", ")})`,
      );
    }
    const leases = listLeases(config.server.lockDir, values.band === undefined ? {} : { band: values.band });
    if (values.json) {
      io.out(`${JSON.stringify({ leases }, null, 2)}\n`);
      return 0;
    }
    if (leases.length === 0) {
      io.out(`no live leases in ${config.server.lockDir}\n`);
      return 0;
    }
    const rows = [
      ["NAME", "BAND", "PORT", "PID", "SINCE", "URL"],
      ...leases.map((l) => [l.name, l.band, String(l.port), String(l.pid), l.since, l.url]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd();
    io.out(`${rows.map(line).join("\n")}\n`);
    return 0;
  },
};
