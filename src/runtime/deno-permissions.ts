import { dirname } from "node:path";
import { type Config, loadConfig } from "../config/load.ts";
import { CLI_ADAPTERS, isCliHandler } from "../receivers/cli/index.ts";

/**
 * The least-privilege Deno permission flags for `a2a-relay serve` with the configuration the
 * environment selects (A2A_RELAY_CONFIG, A2A_RELAY_HOME, A2A_RELAY_LOCK_DIR). `deno task serve`
 * runs this first and passes what it prints to `deno run`:
 *
 * - `--allow-net`: the listener (a port of a band, or one given) and outbound calls (remote
 *   agents, LLM endpoints, push-notification URLs that clients register at run time), so no list.
 * - `--allow-env`: config keys name arbitrary variables (`token_env`, `api_key_env`).
 * - `--allow-sys=hostname,uid,gid,userInfo`: the default relay id (hostname, also pino's) and the
 *   user id in the default lock dir name.
 * - `--allow-read`: the data and lock dirs, `/proc` (port-lease liveness), the config file and the
 *   files and directories it names (token and key files, system prompts, workdirs).
 * - `--allow-write`: the data dir (database, tokens, keys, transcripts, CLI state) and lock dir.
 * - `--allow-run`: only the coding CLIs the profiles use (absent when none does).
 *
 * Plus `--unstable-no-legacy-abort`: a request's `signal` then aborts only when the client goes
 * away (as on Bun), not also after every complete response (Deno's legacy behaviour, which warns).
 */
export function denoServeFlags(config: Config): string[] {
  const read = new Set([config.server.dataDir, config.server.lockDir, "/proc"]);
  if (config.file) read.add(config.file);
  for (const p of Object.values(config.peers)) {
    if (p.token_file) read.add(p.token_file);
    if (p.jwt?.public_key_file) read.add(resolveNear(config, p.jwt.public_key_file));
  }
  const run = new Set<string>();
  for (const p of Object.values(config.profiles)) {
    if (p.workdir) read.add(p.workdir);
    if (p.system_prompt_file) read.add(resolveNear(config, p.system_prompt_file));
    if (isCliHandler(p.handler)) run.add(p.command ?? CLI_ADAPTERS[p.handler].defaultCommand);
  }
  const flags = [
    "--unstable-no-legacy-abort",
    "--allow-net",
    "--allow-env",
    "--allow-sys=hostname,uid,gid,userInfo",
    `--allow-read=${[...read].join(",")}`,
    `--allow-write=${config.server.dataDir},${config.server.lockDir}`,
  ];
  if (run.size) flags.push(`--allow-run=${[...run].join(",")}`);
  return flags;
}

// internal

function resolveNear(config: Config, path: string): string {
  if (path.startsWith("/")) return path;
  return `${config.file ? dirname(config.file) : process.cwd()}/${path}`;
}

if (import.meta.main) {
  try {
    console.log(denoServeFlags(loadConfig({})).join(" "));
  } catch (err) {
    console.error(`a2a-relay (deno task): ${(err as Error).message}`);
    process.exit(2);
  }
}
