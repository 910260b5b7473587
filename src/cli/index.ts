import { didYouMean } from "../config/hints.ts";
import { ConfigError, RelayError, UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { CliIO, Command } from "./io.ts";

export type { CliIO, Command };

/**
 * The command table, in help order. Each command's module (and what it imports) loads only when
 * that command runs, so `serve` starts without the client, brief and admin code: the compiled
 * binary (built with --splitting) then reads and runs less before it listens.
 */
export const COMMANDS: ReadonlyArray<{ name: string; load: () => Promise<Command> }> = [
  { name: "serve", load: async () => (await import("./serve.ts")).serve },
  { name: "config", load: async () => (await import("./config-check.ts")).configCmd },
  { name: "send", load: async () => (await import("./send.ts")).send },
  { name: "tasks", load: async () => (await import("./tasks.ts")).tasks },
  { name: "card", load: async () => (await import("./card.ts")).card },
  { name: "peers", load: async () => (await import("./peers.ts")).peers },
  { name: "keygen", load: async () => (await import("./keygen.ts")).keygen },
  { name: "token", load: async () => (await import("./token.ts")).token },
  { name: "budget", load: async () => (await import("./budget.ts")).budget },
  { name: "transcript", load: async () => (await import("./transcript.ts")).transcript },
  { name: "ports", load: async () => (await import("./ports.ts")).ports },
  { name: "store", load: async () => (await import("./store.ts")).store },
  { name: "doctor", load: async () => (await import("./doctor.ts")).doctor },
];

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") return help(rest[0], io);
  if (name === "--version" || name === "-v" || name === "version") {
    io.out(`a2a-relay ${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    const hint = didYouMean(
      name,
      COMMANDS.map((c) => c.name),
    );
    io.err(
      `a2a-relay: unknown command "${name}"${hint ? `; did you mean "${hint}"?` : ""}; see a2a-relay help\n`,
    );
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) return help(name, io);
  const cmd = await entry.load();
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    return report(err, io, cmd);
  }
}

async function help(name: string | undefined, io: CliIO): Promise<number> {
  const entry = name ? COMMANDS.find((c) => c.name === name) : undefined;
  if (name && !entry) {
    io.err(`a2a-relay: unknown command "${name}"\n`);
    return 2;
  }
  if (entry) {
    const cmd = await entry.load();
    io.out(`${cmd.usage}\n\n${cmd.summary}\n`);
    return 0;
  }
  const all = await Promise.all(COMMANDS.map((c) => c.load()));
  const w = Math.max(...all.map((c) => c.name.length));
  io.out(
    [
      `a2a-relay ${VERSION}: an Agent2Agent relay`,
      "",
      "commands:",
      ...all.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
      "",
      "a2a-relay help COMMAND shows a command's options.",
      "exit codes: 0 ok, 1 task failed/canceled/rejected, 2 usage or config error, 3 auth refused,",
      "            4 budget exceeded, 5 timed out, 6 unreachable",
      "",
    ].join("\n"),
  );
  return 0;
}

function report(err: unknown, io: CliIO, cmd: Command): number {
  if (err instanceof ConfigError || err instanceof UsageError) {
    io.err(`a2a-relay: ${err.message}\n`);
    return 2;
  }
  if (err instanceof RelayError) {
    io.err(`a2a-relay: ${err.message} (${err.reason})\n`);
    return err.exitCode;
  }
  if (
    err instanceof TypeError &&
    /parseArgs|Unknown option|Option '/.test(`${(err as { code?: string }).code} ${err.message}`)
  ) {
    // an unknown flag: the closest one the command's usage lists
    const flag = /'(--?[\w-]+)/.exec(err.message)?.[1];
    const known = [...new Set(cmd.usage.match(/--[a-z][\w-]*/g) ?? [])];
    const hint = flag ? didYouMean(flag, known) : undefined;
    const msg = err.message.split(". To specify")[0];
    io.err(`a2a-relay: ${msg}${hint ? `; did you mean ${hint}?` : ""} (see a2a-relay help ${cmd.name})\n`);
    return 2;
  }
  const e = err as Error;
  io.err(`a2a-relay: unexpected error: ${e?.stack ?? e}\n`);
  return 1;
}
