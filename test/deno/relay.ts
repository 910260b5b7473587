import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cleanEnv, type RelayProcess, spawnRelay, tempDir } from "../helpers/binary.ts";

export { stopAll as stopAllDeno, waitFor } from "../helpers/binary.ts";

/**
 * Start the relay from source on Deno through test/deno/a2a-relay-deno.sh, which runs
 * `deno run <flags> src/main.ts serve …` with the least-privilege flags of
 * src/deno-permissions.ts (so the tests prove that set suffices), with a temp data dir and
 * lock dir. The result has the shape of the compiled-binary harness's RelayProcess, so
 * test/e2e/_client.ts works with it. Deno is the pinned one from test/deno/install.sh (or $DENO).
 */

export const ROOT = resolve(import.meta.dir, "../..");
export const DENO = process.env.DENO ?? join(ROOT, ".cache", "deno", "deno");
export const LAUNCHER = join(ROOT, "test", "deno", "a2a-relay-deno.sh");

export interface DenoStartOptions {
  toml?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Reuse a data dir (restart tests); default: a fresh temp dir. */
  dataDir?: string;
  startTimeoutMs?: number;
}

export type DenoRelay = RelayProcess & { flags: string[] };

/** The flags the launcher passes to `deno run` for this environment and these serve arguments. */
export function serveFlags(env: Record<string, string>, args: string[] = []): string[] {
  const script = "src/deno-permissions.ts";
  const r = spawnSync(
    DENO,
    ["run", "--quiet", "--allow-env", "--allow-sys", "--allow-read", script, ...args],
    {
      cwd: ROOT,
      env,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`deno-permissions.ts failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split(/\s+/);
}

export async function startDenoRelay(opts: DenoStartOptions = {}): Promise<DenoRelay> {
  if (!existsSync(DENO))
    throw new Error(`${DENO} not found: run test/deno/install.sh (npm run test:deno does)`);
  const dir = tempDir("a2a-relay-deno-");
  const dataDir = opts.dataDir ?? join(dir, "data");
  const env: Record<string, string> = {
    ...cleanEnv(),
    NO_COLOR: "1",
    DENO,
    A2A_RELAY_HOME: dataDir,
    A2A_RELAY_LOCK_DIR: join(dir, "locks"),
    ...opts.env,
  };
  if (opts.toml !== undefined) {
    writeFileSync(join(dir, "config.toml"), opts.toml);
    env.A2A_RELAY_CONFIG = join(dir, "config.toml");
  }
  const args = ["serve", "--port", "0", ...(opts.args ?? [])];
  const flags = serveFlags(env, args);
  const relay = await spawnRelay([LAUNCHER, ...args], {
    cwd: dir,
    dataDir,
    env,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    what: "deno relay",
  });
  return { ...relay, flags };
}
