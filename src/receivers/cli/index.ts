import type { ProfileConfig } from "../../config/schema.ts";
import type { Receiver } from "../types.ts";
import { agy } from "./agy.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex.ts";
import { gemini } from "./gemini.ts";
import { opencode } from "./opencode.ts";
import { type CliReceiverDeps, cliReceiver } from "./receiver.ts";
import type { CliAdapter, CliHandler } from "./types.ts";

export type { CliReceiverDeps } from "./receiver.ts";
export type * from "./types.ts";

export const CLI_ADAPTERS: Record<CliHandler, CliAdapter> = { opencode, claude, codex, gemini, agy };

export function isCliHandler(h: string | undefined): h is CliHandler {
  return h !== undefined && Object.hasOwn(CLI_ADAPTERS, h);
}

/** The receiver of a coding-CLI profile. */
export function buildCliReceiver(
  name: string,
  p: ProfileConfig,
  handler: CliHandler,
  deps: CliReceiverDeps,
): Receiver {
  return cliReceiver(name, p, CLI_ADAPTERS[handler], deps);
}
