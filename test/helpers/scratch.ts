import { afterAll } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Preloaded by every `bun test` run (bunfig.toml): the run's temporary files (data dirs, configs,
 * certificates, the relays it starts and the CLIs they run) go under one directory of their own,
 * removed when the run ends, instead of thousands of directories left in /tmp by the test files
 * that keep what they made. `A2A_TEST_KEEP_TMP=1` keeps it (its path is printed).
 */
const root = mkdtempSync(join(tmpdir(), "a2a-relay-test-run-"));
// like /tmp itself: the suites that run the relay as another user (nobody) reach their dirs in it
chmodSync(root, 0o1777);
process.env.TMPDIR = root;
afterAll(() => {
  if (process.env.A2A_TEST_KEEP_TMP) console.error(`test files kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
});
