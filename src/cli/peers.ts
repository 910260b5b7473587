import { parseArgs } from "node:util";
import { describePeers } from "../auth/describe.ts";
import { loadConfig } from "../config/load.ts";
import type { Command } from "./io.ts";

export const peers: Command = {
  name: "peers",
  summary: "configured peers: which credential source resolved (never its value), allowed profiles",
  usage: "a2a-relay peers [--config F] [--json]",
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: "string" }, json: { type: "boolean" } },
      strict: true,
    });
    const list = describePeers(loadConfig({ file: values.config, env: io.env }));
    if (values.json) {
      io.out(`${JSON.stringify({ peers: list }, null, 2)}\n`);
      return 0;
    }
    const lines: string[] = [];
    for (const p of list) {
      const c = p.credential;
      lines.push(`${p.name}${p.admin ? " (admin)" : ""}: profiles ${p.profiles.join(", ")}`);
      lines.push(`  token: ${c.source} ${c.resolved ? "resolved" : `NOT resolved (${c.error})`}`);
      if (p.jwt) {
        const j = p.jwt;
        const state = j.resolved ? "resolved" : `NOT resolved (${j.error})`;
        lines.push(`  jwt:   ${j.kind} ${j.source}, issuer ${j.issuer}, ${j.algorithms.join("/")}: ${state}`);
      }
    }
    io.out(`${lines.join("\n")}\n`);
    return 0;
  },
};
