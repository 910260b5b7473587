import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { textOf } from "../../a2a/types.ts";
import type { ProfileConfig } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";
import type { Runtime } from "../../runtime/index.ts";
import type { SessionStore, StoredSession } from "../../store/sessions.ts";
import { withPreamble } from "../preamble.ts";
import { ExecutableNotFound, type Supervised, supervise } from "../supervise.ts";
import type { Receiver, Turn, TurnEmitter, TurnResult } from "../types.ts";
import { childEnv } from "./env.ts";
import type { CliAdapter, CliOutcome, Invocation } from "./types.ts";
import { short } from "./util.ts";

export interface CliReceiverDeps {
  runtime: Pick<Runtime, "spawn">;
  /** The sessions store; undefined until the database is open (receivers are built first). */
  sessions: () => SessionStore | undefined;
  /** The relay's environment; only an allow-list of it reaches the CLI. */
  env: Record<string, string | undefined>;
  /** The relay's data dir: each profile's CLI config files go under `<dataDir>/cli/<profile>/`. */
  dataDir: string;
  newId?: () => string;
  /** Between SIGTERM and SIGKILL when a turn is stopped. */
  graceMs?: number;
}

/** Longest prompt passed as one command-line argument (Linux caps one argument at 128 KiB). */
const MAX_PROMPT_BYTES = 120 * 1024;
/** Progress lines recorded per turn; more are dropped (the final result is always kept). */
const MAX_PROGRESS = 200;
/** What the CLIs say when asked to resume a session they no longer have. */
const SESSION_GONE =
  /no conversation found|session not found|no session found|thread not found|no rollout found|error resuming session|no previous sessions found/i;

type Attempt = { inv: Invocation; run: Supervised; outcome: CliOutcome } | { failed: TurnResult };

/** A receiver that runs one coding CLI per turn, resuming the CLI's own session per conversation. */
export function cliReceiver(
  name: string,
  p: ProfileConfig,
  adapter: CliAdapter,
  deps: CliReceiverDeps,
): Receiver {
  if (!p.workdir) {
    throw new ConfigError(
      `profiles.${name}.workdir: required for handler "${adapter.handler}" (the directory it works in)`,
    );
  }
  const workdir = p.workdir;
  const command = p.command ?? adapter.defaultCommand;
  const stateDir = join(deps.dataDir, "cli", name);
  const newId = deps.newId ?? (() => crypto.randomUUID());

  async function attempt(
    prompt: string,
    session: StoredSession | undefined,
    turn: Turn,
    progress: (text: string) => void,
    signal: AbortSignal,
  ): Promise<Attempt> {
    const inv = adapter.build({
      profile: name,
      config: p,
      workdir,
      stateDir,
      prompt,
      session,
      env: deps.env,
      newId,
    });
    for (const f of inv.files) {
      mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
      writeFileSync(f.path, f.content, { mode: 0o600 });
    }
    const parser = adapter.parser({ session, invocation: inv });
    try {
      const run = await supervise({
        spawn: deps.runtime.spawn,
        cmd: [command, ...inv.args],
        cwd: workdir,
        // PWD too: some CLIs (OpenCode) take their project directory from it, not from the cwd.
        env: { ...childEnv(deps.env, inv.env, p.env), PWD: workdir },
        timeoutMs: capOf(turn.timeoutMs),
        signal,
        ...(deps.graceMs !== undefined ? { graceMs: deps.graceMs } : {}),
        onLine(line) {
          const r = parser.line(line);
          if (r?.progress) progress(r.progress);
          return r?.fatal;
        },
      });
      return { inv, run, outcome: parser.finish(run.code, run.stderrTail) };
    } catch (err) {
      if (!(err instanceof ExecutableNotFound)) throw err;
      const why = err.message.slice(err.executable.length + 2);
      return {
        failed: failed(
          `profiles.${name}.command: cannot run "${command}" (${why}): install ${adapter.handler} or set command to the path of its executable`,
        ),
      };
    }
  }

  return {
    kind: adapter.handler,
    async run(turn: Turn, emit: TurnEmitter, signal: AbortSignal): Promise<TurnResult> {
      const key = { profile: turn.profile, peer: turn.peer, contextId: turn.contextId };
      const sessions = deps.sessions();
      if (!sessions) throw new Error("the session store is not open yet");
      const prompt = withPreamble({ ...turn, workdir }, textOf(turn.message.parts));
      if (Buffer.byteLength(prompt) > MAX_PROMPT_BYTES) {
        return failed(
          `the message is too long for ${adapter.handler} (over ${MAX_PROMPT_BYTES / 1024} KiB of text)`,
        );
      }
      const progress = throttle(emit);
      const saved = sessions.get(key);
      let a = await attempt(prompt, saved, turn, progress, signal);
      if (saved && "run" in a && lostSession(a)) {
        // The CLI's own store no longer has the session we saved: start a new one, once.
        progress(`${adapter.handler} no longer has session ${saved.sessionId}; starting a new one`);
        a = await attempt(prompt, undefined, turn, progress, signal);
      }
      if ("failed" in a) return a.failed;
      const { inv, run, outcome } = a;
      if (outcome.sessionId) await sessions.put(key, outcome.sessionId, outcome.data);
      const metadata = {
        cli: {
          handler: adapter.handler,
          ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
          resumed: inv.resumed,
          ...outcome.flags,
        },
      };
      const usage = outcome.usage ? { usage: outcome.usage } : {};
      const stop = stoppedMessage(adapter.handler, run, progress.last(), turn.timeoutMs);
      if (stop) return { state: "TASK_STATE_FAILED", parts: [{ text: stop }], metadata, ...usage };
      if (!outcome.ok) {
        const text = outcome.error ?? outcome.text;
        return { state: "TASK_STATE_FAILED", parts: [{ text }], metadata, ...usage };
      }
      if (outcome.flags?.prefixDrift) {
        progress(
          `${adapter.handler}: its printed history changed (prefix drift); returning the whole output`,
        );
      }
      return { state: "TASK_STATE_COMPLETED", parts: [{ text: outcome.text }], metadata, ...usage };
    },
  };
}

// internal

function failed(text: string): TurnResult {
  return { state: "TASK_STATE_FAILED", parts: [{ text }] };
}

function lostSession(a: { run: Supervised; outcome: CliOutcome }): boolean {
  return (
    !a.outcome.ok && !a.run.stopped && SESSION_GONE.test(`${a.outcome.error ?? ""}\n${a.run.stderrTail}`)
  );
}

/** Our own cap runs a little before the engine's so the message can say what the CLI was doing. */
function capOf(timeoutMs: number): number {
  return Math.max(1, timeoutMs - Math.min(2000, Math.floor(timeoutMs * 0.1)));
}

function stoppedMessage(
  handler: string,
  run: Supervised,
  lastProgress: string,
  timeoutMs: number,
): string | undefined {
  if (!run.stopped) return undefined;
  const last = lastProgress ? ` (last activity: ${short(lastProgress, 200)})` : "";
  switch (run.stopped.reason) {
    case "timeout":
      return `turn cap of ${Math.round(timeoutMs / 100) / 10} s exceeded: ${handler} was stopped${last}; raise turn_timeout_s or split the task`;
    case "aborted":
      return `${handler} was stopped: ${run.stopped.detail || "canceled"}`;
    case "requested":
      return `${handler} failed: ${run.stopped.detail}`;
    case "output-limit":
      return `${handler} was stopped: it ${run.stopped.detail}`;
  }
}

function throttle(emit: TurnEmitter): ((text: string) => void) & { last(): string } {
  let count = 0;
  let last = "";
  const fn = (text: string) => {
    if (text === last) return;
    last = text;
    if (count++ < MAX_PROGRESS) emit.progress(text);
  };
  return Object.assign(fn, { last: () => last });
}
