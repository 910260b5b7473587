import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import type { CliIO } from "../client/io.ts";

export type { CliIO };

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/**
 * Every command's flags, parsed one way: unknown flags are errors (`strict`), and positionals are
 * allowed unless the command takes none (`onlyFlags`).
 */
export function flags<const O extends ParseArgsOptionsConfig>(argv: string[], options: O) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}

/** As {@link flags}, for a command that takes no positional arguments. */
export function onlyFlags<const O extends ParseArgsOptionsConfig>(argv: string[], options: O) {
  return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
}
