import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import type { Command } from "./io.ts";

export const configCmd: Command = {
  name: "config",
  summary: "validate a config and print the resolved summary (no secrets)",
  usage: "a2a-relay config check [--config F] [--json]",
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { config: { type: "string" }, json: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals[0] !== "check") throw new UsageError(`usage: ${this.usage}`);
    const c = loadConfig({ file: values.config, env: io.env });
    const summary = {
      file: c.file ?? null,
      server: {
        id: c.server.id,
        listen: `${c.server.host}:${c.server.port}`,
        band: c.server.band,
        data_dir: c.server.dataDir,
        lock_dir: c.server.lockDir,
        public_url: c.server.public_url ?? null,
        max_body_bytes: c.server.max_body_bytes,
      },
      profiles: Object.fromEntries(
        Object.entries(c.profiles).map(([n, p]) => [
          n,
          {
            handler: p.handler ?? "remote",
            ...(p.workdir ? { workdir: p.workdir } : {}),
            ...(p.remote ? { remote: p.remote } : {}),
          },
        ]),
      ),
      peers: Object.fromEntries(
        Object.values(c.peers).map((p) => [
          p.name,
          {
            profiles: p.profiles,
            admin: p.admin,
            credential: p.credential.source,
            resolved: p.credential.resolved,
          },
        ]),
      ),
    };
    if (values.json) {
      io.out(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    }
    const lines = [`config OK: ${summary.file ?? "(embedded defaults)"}`];
    lines.push(`server ${summary.server.id} on ${summary.server.listen}, data in ${summary.server.data_dir}`);
    for (const [n, p] of Object.entries(summary.profiles)) lines.push(`profile ${n}: ${JSON.stringify(p)}`);
    for (const [n, p] of Object.entries(summary.peers)) {
      lines.push(
        `peer ${n}: profiles ${p.profiles.join(",")}${p.admin ? " (admin)" : ""}; credential ${p.credential} ${p.resolved ? "resolved" : "NOT resolved"}`,
      );
    }
    io.out(`${lines.join("\n")}\n`);
    return 0;
  },
};
