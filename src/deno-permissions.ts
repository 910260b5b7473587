import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { type Config, loadConfig } from "./config/load.ts";
import { CLI_ADAPTERS, isCliHandler } from "./receivers/cli/index.ts";
import { resolveExecutable } from "./receivers/supervise.ts";

/**
 * The least-privilege Deno flags for `a2a-relay serve` with the configuration that the environment
 * (A2A_RELAY_CONFIG, A2A_RELAY_HOME, A2A_RELAY_LOCK_DIR) and the serve arguments (`--config`,
 * `--data-dir`) select. `deno task serve` and test/deno/a2a-relay-deno.sh run this first and pass
 * what it prints to `deno run`:
 *
 * - `--allow-net`: the listener (a port of a band, or one given) and outbound calls (remote
 *   agents, LLM endpoints, push-notification URLs that clients register at run time), so no list.
 * - `--allow-env`: config keys name arbitrary variables (`token_env`, `api_key_env`).
 * - `--allow-sys=hostname,uid,gid,userInfo`: the default relay id (the hostname) and the
 *   user id in the default lock dir name.
 * - `--allow-read`: the data and lock dirs, the config file and the files and directories it names
 *   (token and key files, system prompts, workdirs, the coding CLIs' executables as found now).
 * - `--allow-write`: the data dir (database, tokens, keys, transcripts, CLI state) and lock dir.
 * - `--allow-run`, without a list: Deno checks `kill()` against the whole run permission, and the
 *   relay signals pids that are not its children: the process group of a coding-CLI turn
 *   (`kill(-pgid)`), and port-lease holders (`kill(pid, 0)` liveness, `serve --replace`). With a
 *   list those calls fail and a live lease holder would look dead.
 *
 * Deno reads `/proc` only with `--allow-all`; `denoRuntime.readProcFile` reads it through `cat`
 * (run permission) for the lease start-time check that guards against a recycled pid
 * (src/portlock/liveness.ts). Where /proc is not read that way, liveness is "the pid exists".
 *
 * Plus `--unstable-no-legacy-abort`: a request's `signal` then aborts only when the client goes
 * away (as on Bun), not also after every complete response (Deno's legacy behaviour, which warns).
 */
export function denoServeFlags(config: Config): string[] {
  const read = new Set([config.server.dataDir, config.server.lockDir]);
  if (config.file) read.add(config.file);
  for (const p of Object.values(config.peers)) {
    if (p.token_file) read.add(p.token_file);
    if (p.jwt?.public_key_file) read.add(resolveNear(config, p.jwt.public_key_file));
  }
  for (const p of Object.values(config.profiles)) {
    if (p.workdir) read.add(p.workdir);
    if (p.system_prompt_file) read.add(resolveNear(config, p.system_prompt_file));
    if (isCliHandler(p.handler)) {
      // the relay checks the executable (access X_OK) before spawning it
      const cmd = p.command ?? CLI_ADAPTERS[p.handler].defaultCommand;
      try {
        read.add(resolveExecutable(cmd, p.env.PATH ?? process.env.PATH ?? "", p.workdir ?? process.cwd()));
      } catch {
        // not installed: the turn will say so
      }
    }
  }
  const flags = [
    "--unstable-no-legacy-abort",
    "--allow-net",
    "--allow-env",
    "--allow-sys=hostname,uid,gid,userInfo",
    `--allow-read=${[...read].join(",")}`,
    `--allow-write=${config.server.dataDir},${config.server.lockDir}`,
    "--allow-run",
  ];
  return flags;
}

/** The config `serve ARGS` would load: only the options that move files matter here. */
export function configForArgs(args: string[]): Config {
  const { values } = parseArgs({
    args: args[0] === "serve" ? args.slice(1) : args,
    options: { config: { type: "string" }, "data-dir": { type: "string" } },
    strict: false,
    allowPositionals: true,
  });
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return loadConfig({ file: str(values.config), dataDir: str(values["data-dir"]) });
}

// internal

function resolveNear(config: Config, path: string): string {
  if (path.startsWith("/")) return path;
  return `${config.file ? dirname(config.file) : process.cwd()}/${path}`;
}

if (import.meta.main) {
  try {
    console.log(denoServeFlags(configForArgs(process.argv.slice(2))).join(" "));
  } catch (err) {
    console.error(`a2a-relay (deno task): ${(err as Error).message}`);
    process.exit(2);
  }
}
