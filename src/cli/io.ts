import type { CliIO } from "../client/io.ts";

export type { CliIO };

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}
