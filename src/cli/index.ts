import { ConfigError, RelayError, UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { budget } from "./budget.ts";
import { card } from "./card.ts";
import { configCmd } from "./config-check.ts";
import type { CliIO, Command } from "./io.ts";
import { keygen } from "./keygen.ts";
import { peers } from "./peers.ts";
import { ports } from "./ports.ts";
import { send } from "./send.ts";
import { serve } from "./serve.ts";
import { tasks } from "./tasks.ts";
import { token } from "./token.ts";
import { transcript } from "./transcript.ts";

export type { CliIO, Command };

/** The command table. `main` returns an exit code; it never calls process.exit. */
export const COMMANDS: Command[] = [
  serve,
  configCmd,
  send,
  tasks,
  card,
  peers,
  keygen,
  token,
  budget,
  transcript,
  ports,
];

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") return help(rest[0], io);
  if (name === "--version" || name === "-v" || name === "version") {
    io.out(`a2a-relay ${VERSION}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`a2a-relay: unknown command "${name}"; see a2a-relay help\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) return help(name, io);
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    return report(err, io);
  }
}

function help(name: string | undefined, io: CliIO): number {
  const cmd = name ? COMMANDS.find((c) => c.name === name) : undefined;
  if (name && !cmd) {
    io.err(`a2a-relay: unknown command "${name}"\n`);
    return 2;
  }
  if (cmd) {
    io.out(`${cmd.usage}\n\n${cmd.summary}\n`);
    return 0;
  }
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  io.out(
    [
      `a2a-relay ${VERSION}: an Agent2Agent relay`,
      "",
      "commands:",
      ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
      "",
      "a2a-relay help COMMAND shows a command's options.",
      "exit codes: 0 ok, 1 task failed/canceled/rejected, 2 usage or config error, 3 auth refused,",
      "            4 budget exceeded, 5 timed out, 6 unreachable",
      "",
    ].join("\n"),
  );
  return 0;
}

function report(err: unknown, io: CliIO): number {
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
    io.err(`a2a-relay: ${err.message}\n`);
    return 2;
  }
  const e = err as Error;
  io.err(`a2a-relay: unexpected error: ${e?.stack ?? e}\n`);
  return 1;
}
