import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { readOrCreateSecret } from "../config/load.ts";
import type { Logger } from "../logger.ts";
import { Sessions } from "../status/index.ts";

/**
 * The status page's session key, `<data dir>/status-session.key` (made on first start, 0600), so
 * a signed-in browser stays signed in across restarts. One that cannot be used (others can read
 * it, it cannot be written) is named in a warning, and sessions then last only this process.
 */
export function statusSessions(dataDir: string, logger: Logger): Sessions {
  const path = join(dataDir, "status-session.key");
  let read: ReturnType<typeof readOrCreateSecret>;
  try {
    read = readOrCreateSecret(path);
  } catch (err) {
    read = { ok: false, error: (err as Error).message };
  }
  if (read.ok && read.value.length >= 32) return new Sessions({ key: read.value });
  logger.warn(
    { path, problem: read.ok ? "shorter than 32 characters" : read.error },
    "status page session key unusable: status page sign-ins will not survive a restart",
  );
  return new Sessions({ key: randomBytes(32).toString("base64url") });
}
