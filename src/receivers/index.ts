import type { ProfileConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { RoutingDeps } from "../routing/deps.ts";
import { a2aReceiver } from "./a2a/index.ts";
import { buildCliReceiver, type CliReceiverDeps, isCliHandler } from "./cli/index.ts";
import { echoReceiver } from "./echo.ts";
import { llmReceiver } from "./llm.ts";
import { remoteReceiver } from "./remote.ts";
import type { Receiver } from "./types.ts";

export type * from "./types.ts";

/** What receivers need from the relay; each handler family adds its own field. */
export interface ReceiverDeps {
  /** Forwarding receivers (`a2a`, `remote`, `llm`). */
  routing?: RoutingDeps;
  /** Coding CLIs (opencode, claude, codex, gemini, agy): spawn, sessions, environment, data dir. */
  cli?: CliReceiverDeps;
}

/** Build the receiver of one profile. Bad options fail here, at start, naming the key. */
export function buildReceiver(name: string, p: ProfileConfig, deps: ReceiverDeps = {}): Receiver {
  if (p.remote) return remoteReceiver(name, p, needRouting(name, deps));
  if (isCliHandler(p.handler)) {
    if (!deps.cli)
      throw new ConfigError(`profiles.${name}: coding-CLI receivers are not wired in this build`);
    return buildCliReceiver(name, p, p.handler, deps.cli);
  }
  switch (p.handler) {
    case "echo":
      return echoReceiver({ delayMs: p.delay_ms ?? 0 });
    case "a2a":
      return a2aReceiver(name, p, needRouting(name, deps));
    case "llm":
      return llmReceiver(name, p, needRouting(name, deps));
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
