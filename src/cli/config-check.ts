import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { printChecks, staticChecks } from "./_checks.ts";
import { type Command, flags } from "./io.ts";

export const configCmd: Command = {
  name: "config",
  summary: "validate a config and print the resolved summary (no secrets)",
  usage: `a2a-relay config check [--config F] [--data-dir D] [--json]

Validates the config (the file, else A2A_RELAY_CONFIG, else the embedded defaults) and prints the
resolved summary without secrets, then the static checks of a2a-relay doctor: token files and their
modes (a token file other users can read is refused), JWT keys, the signing key for auth = "jwt",
workdirs; a variable the config names but this shell has not set is a warning here. Exit 2 naming
the key or file when something would not work. TOML errors give the line and column; unknown keys
get a "did you mean".

Example: a2a-relay config check --config /etc/a2a-relay/relay.toml`,
  async run(argv, io) {
    const { values, positionals } = flags(argv, {
      config: { type: "string" },
      "data-dir": { type: "string" },
      json: { type: "boolean" },
    });
    if (positionals[0] !== "check") throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    const c = loadConfig({ file: values.config, env: io.env, dataDir: values["data-dir"] });
    const checks = staticChecks(c, io.env, { envMissing: "warn" });
    const failed = checks.some((k) => k.status === "fail");
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
      budgets: {
        store: c.budgets.store?.display ?? null,
        on_store_down: c.budgets.onStoreDown,
        lease_s: c.budgets.leaseS,
      },
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
      io.out(`${JSON.stringify({ ...summary, checks }, null, 2)}\n`);
      return failed ? 2 : 0;
    }
    const lines = [`config ${failed ? "NOT OK" : "OK"}: ${summary.file ?? "(embedded defaults)"}`];
    lines.push(`server ${summary.server.id} on ${summary.server.listen}, data in ${summary.server.data_dir}`);
    for (const [n, p] of Object.entries(summary.profiles)) lines.push(`profile ${n}: ${JSON.stringify(p)}`);
    if (summary.budgets.store)
      lines.push(
        `budgets in ${summary.budgets.store} (shared; on_store_down = ${summary.budgets.on_store_down}, lease_s = ${summary.budgets.lease_s})`,
      );
    for (const [n, p] of Object.entries(summary.peers)) {
      lines.push(
        `peer ${n}: profiles ${p.profiles.join(",")}${p.admin ? " (admin)" : ""}; credential ${p.credential} ${p.resolved ? "resolved" : "NOT resolved"}`,
      );
    }
    io.out(`${lines.join("\n")}\n`);
    const problems = checks.filter((k) => k.status !== "ok");
    if (problems.length) printChecks(problems, io.out);
    return failed ? 2 : 0;
  },
};
