import type { ProfileConfig } from "../../config/schema.ts";
import type { StoredSession } from "../../store/sessions.ts";
import type { Usage } from "../types.ts";

export type CliHandler = "opencode" | "claude" | "codex" | "gemini" | "agy";

/** What an adapter knows when it builds a command line. All of it comes from config, never from a message. */
export interface BuildContext {
  profile: string;
  config: ProfileConfig;
  /** The pinned working directory (absolute, exists). */
  workdir: string;
  /** A directory of this profile under the relay's data dir, for the CLI's config files. */
  stateDir: string;
  /** The full prompt: role preamble + the message text. */
  prompt: string;
  /** The CLI session of this conversation, when there was an earlier turn. */
  session: StoredSession | undefined;
  /** The relay's environment, to resolve `api_key_env`. */
  env: Record<string, string | undefined>;
  newId: () => string;
}

export interface Invocation {
  /** Arguments after the executable. */
  args: string[];
  /** What the adapter adds to the allow-listed environment (the profile's `env` comes last). */
  env: Record<string, string>;
  /** Config files to write before the run (created 0600, their directory 0700). */
  files: Array<{ path: string; content: string }>;
  /** The session id known before the run (a new uuid we chose, or the one resumed). */
  sessionId?: string;
  resumed: boolean;
}

/** The outcome of one run, from the CLI's machine-readable output. */
export interface CliOutcome {
  ok: boolean;
  /** The final answer (ok) or the CLI's own error text (not ok). */
  text: string;
  sessionId?: string;
  usage?: Usage;
  /** Not ok: what went wrong, for a person (what to check). */
  error?: string;
  /** Receiver-specific state to keep with the session (Antigravity's printed output). */
  data?: Record<string, unknown>;
  /** Flags worth putting on the task (e.g. Antigravity prefix drift). */
  flags?: Record<string, unknown>;
}

/** Reads a run's output incrementally. */
export interface CliParser {
  /** One stdout line: a short progress text to show, and/or a fatal reason to stop the run now. */
  line(line: string): { progress?: string; fatal?: string } | undefined;
  /** After exit: the outcome, given the exit code (null = killed) and the tail of stderr. */
  finish(code: number | null, stderrTail: string): CliOutcome;
}

/** One coding CLI: data plus two pure functions (build the command; parse its output). */
export interface CliAdapter {
  readonly handler: CliHandler;
  /** The executable when `command` is not set. */
  readonly defaultCommand: string;
  build(ctx: BuildContext): Invocation;
  parser(ctx: { session: StoredSession | undefined; invocation: Invocation }): CliParser;
}
