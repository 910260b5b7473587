import type { ProfileConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { echoReceiver } from "./echo.ts";
import type { Receiver } from "./types.ts";

export type * from "./types.ts";

/** Build the receiver of one profile. Bad options fail here, at start, naming the key. */
export function buildReceiver(name: string, p: ProfileConfig): Receiver {
  if (p.remote) {
    throw new ConfigError(`profiles.${name}.remote: remote relays are not available in this version yet`);
  }
  switch (p.handler) {
    case "echo":
      return echoReceiver({ delayMs: p.delay_ms ?? 0 });
    default:
      throw new ConfigError(
        `profiles.${name}.handler: handler "${p.handler}" is not available in this version yet`,
      );
  }
}
