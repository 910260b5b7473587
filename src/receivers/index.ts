import type { ProfileConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { CliReceiverDeps } from "./cli/index.ts";
import type { RoutingDeps } from "./deps.ts";
import { echoReceiver } from "./echo.ts";
import type { Receiver } from "./types.ts";

export type * from "./types.ts";

/** What receivers need from the relay; each handler family adds its own field. */
export interface ReceiverDeps {
  /** Forwarding receivers (`a2a`, `remote`, `llm`). */
  routing?: RoutingDeps;
  /** Coding CLIs (opencode, claude, codex, gemini, agy): spawn, sessions, environment, data dir. */
  cli?: CliReceiverDeps;
}

/**
 * Build the receiver of one profile. Bad options fail here, at start, naming the key. Each
 * forwarding, LLM or coding-CLI module loads only when a profile uses it, so a relay of echo
 * profiles starts without that code.
 */
export async function buildReceiver(
  name: string,
  p: ProfileConfig,
  deps: ReceiverDeps = {},
): Promise<Receiver> {
  if (p.remote) return (await import("./remote.ts")).remoteReceiver(name, p, needRouting(name, deps));
  switch (p.handler) {
    case "opencode":
    case "claude":
    case "codex":
    case "gemini":
    case "agy":
      if (!deps.cli)
        throw new ConfigError(`profiles.${name}: coding-CLI receivers are not wired in this build`);
      return (await import("./cli/index.ts")).buildCliReceiver(name, p, p.handler, deps.cli);
    case "echo":
      return echoReceiver({ delayMs: p.delay_ms ?? 0 });
    case "a2a":
      return (await import("./a2a/index.ts")).a2aReceiver(name, p, needRouting(name, deps));
    case "llm":
      return (await import("./llm.ts")).llmReceiver(name, p, needRouting(name, deps));
    default:
      throw new ConfigError(
        `profiles.${name}.handler: handler "${p.handler}" is not available in this version yet`,
      );
  }
}

// internal

function needRouting(name: string, deps: ReceiverDeps): RoutingDeps {
  if (!deps.routing)
    throw new ConfigError(`profiles.${name}: forwarding receivers are not wired in this build`);
  return deps.routing;
}
