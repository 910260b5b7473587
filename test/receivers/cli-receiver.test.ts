import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProfile } from "../../src/config/schema.ts";
import { ConfigError } from "../../src/errors.ts";
import { buildCliReceiver } from "../../src/receivers/cli/index.ts";
import type { TurnEmitter } from "../../src/receivers/types.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { SessionRepo } from "../../src/store/sessions.ts";
import { Writer } from "../../src/store/writer.ts";

const dir = mkdtempSync(join(tmpdir(), "a2a-cli-receiver-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const workdir = join(dir, "repo");
mkdirSync(workdir);
const SAMPLES = join(import.meta.dir, "../fixtures/executor-samples");

/** A stand-in CLI: records its arguments, environment and cwd, then prints a recorded sample. */
const fakeCli = join(dir, "fake-cli");
writeFileSync(
  fakeCli,
  `#!/bin/sh\nprintf '%s\\n' "$@" > "$REC.args"\nenv > "$REC.env"\npwd > "$REC.cwd"\ncat "$SAMPLE"\nexit "\${RC:-0}"\n`,
);
chmodSync(fakeCli, 0o755);

function open() {
  const store = openStore(currentRuntime(), join(dir, "relay.db"));
  const writer = new Writer(store.conn);
  const repo = new SessionRepo(store.db, writer);
  const close = () => {
    writer.close();
    store.close();
  };
  return { repo, close };
}

function receiver(repo: SessionRepo, sample: string, extra: Record<string, unknown> = {}) {
  const p = parseProfile({
    handler: "claude",
    workdir,
    command: fakeCli,
    env: { REC: join(dir, "rec"), SAMPLE: join(SAMPLES, sample) },
    ...extra,
  });
  return buildCliReceiver("coder", p, "claude", {
    runtime: currentRuntime(),
    sessions: () => repo,
    env: { PATH: process.env.PATH, A2A_OC_TOKEN_LOCAL: "relay-secret" },
    dataDir: join(dir, "data"),
  });
}

function turn(text: string, contextId = "ctx-1") {
  return {
    taskId: "t1",
    contextId,
    peer: "hermes-main",
    profile: "coder",
    origin: "a2a" as const,
    message: { messageId: "m1", role: "ROLE_USER" as const, parts: [{ text }] },
    history: [],
    timeoutMs: 20_000,
  };
}

function emitter() {
  const progress: string[] = [];
  const emit: TurnEmitter = {
    progress: (t) => void progress.push(typeof t === "string" ? t : JSON.stringify(t)),
    artifact: () => {},
  };
  return { emit, progress };
}

const rec = (ext: string) => readFileSync(join(dir, `rec.${ext}`), "utf8");
const never = new AbortController().signal;

describe("coding-CLI receiver (a stand-in script printing recorded output)", () => {
  test("runs in the pinned workdir with a scrubbed env and the preamble; maps the output to the result", async () => {
    const s = open();
    const { emit, progress } = emitter();
    const r = await receiver(s.repo, "claude-stream-json.jsonl").run(turn("fix the bug"), emit, never);
    expect(r.state).toBe("TASK_STATE_COMPLETED");
    expect(r.parts).toEqual([{ text: "done" }]);
    expect(r.usage).toEqual({ inputTokens: 246, outputTokens: 14, costUsd: 0.001264 });
    expect(r.metadata).toEqual({
      cli: { handler: "claude", sessionId: "1077e443-79d8-4bb3-88ac-7b8b479a34e5", resumed: false },
    });
    expect(progress).toEqual(["Write /srv/repo/hello.txt", "done"]);
    expect(rec("cwd").trim()).toBe(workdir);
    const args = rec("args");
    expect(args).toContain('the agent "hermes-main", over the A2A protocol');
    expect(args).toContain(`profile "coder" in ${workdir}`);
    expect(args).toContain("fix the bug");
    expect(args).toContain("--session-id");
    const env = rec("env");
    expect(env).not.toContain("relay-secret");
    expect(env).toContain("CLAUDE_CODE_MAX_RETRIES=0");
    expect(env).toContain(`PWD=${workdir}\n`);
    s.close();
  });

  test("the CLI session survives a restart: the next turn of the context resumes it", async () => {
    const s = open();
    const got = s.repo.get({ profile: "coder", peer: "hermes-main", contextId: "ctx-1" });
    expect(got?.sessionId).toBe("1077e443-79d8-4bb3-88ac-7b8b479a34e5");
    const r = await receiver(s.repo, "claude-json.json").run(turn("and now this"), emitter().emit, never);
    expect(r.metadata).toMatchObject({ cli: { resumed: true } });
    const args = rec("args").split("\n");
    expect(args[args.indexOf("--resume") + 1]).toBe("1077e443-79d8-4bb3-88ac-7b8b479a34e5");
    // another context: a new session
    await receiver(s.repo, "claude-json.json").run(turn("x", "ctx-2"), emitter().emit, never);
    expect(rec("args")).toContain("--session-id");
    s.close();
  });

  test("an error reported by the CLI is FAILED, never COMPLETED", async () => {
    const s = open();
    const r = await receiver(s.repo, "claude-json-401.json", {
      env: { REC: join(dir, "rec"), SAMPLE: join(SAMPLES, "claude-json-401.json"), RC: "1" },
    }).run(turn("x", "ctx-3"), emitter().emit, never);
    expect(r.state).toBe("TASK_STATE_FAILED");
    expect((r.parts[0] as { text: string }).text).toContain("refused the credential");
    s.close();
  });

  test("a missing executable names the command key; a CLI profile without workdir fails at build", async () => {
    const s = open();
    const r = await receiver(s.repo, "claude-json.json", { command: "definitely-not-installed-cli" }).run(
      turn("x"),
      emitter().emit,
      never,
    );
    expect(r.state).toBe("TASK_STATE_FAILED");
    expect((r.parts[0] as { text: string }).text).toContain(
      'profiles.coder.command: cannot run "definitely-not-installed-cli" (not found on PATH)',
    );
    expect(() =>
      buildCliReceiver("nodir", parseProfile({ handler: "codex" }), "codex", {
        runtime: currentRuntime(),
        sessions: () => s.repo,
        env: {},
        dataDir: dir,
      }),
    ).toThrow(ConfigError);
    s.close();
  });

  test("a saved session the CLI no longer has: the turn starts a new session instead of failing", async () => {
    const s = open();
    const forgetful = join(dir, "forgetful-cli");
    writeFileSync(
      forgetful,
      `#!/bin/sh\ncase "$*" in *--resume*) echo "No conversation found with session ID: x" >&2; echo '{"type":"result","subtype":"error_during_execution","is_error":true,"session_id":"x"}'; exit 1;; esac\ncat "$SAMPLE"\n`,
    );
    chmodSync(forgetful, 0o755);
    await s.repo.put({ profile: "coder", peer: "hermes-main", contextId: "ctx-5" }, "lost-session");
    const { emit, progress } = emitter();
    const r = await receiver(s.repo, "claude-json.json", { command: forgetful }).run(
      turn("x", "ctx-5"),
      emit,
      never,
    );
    expect(r.state).toBe("TASK_STATE_COMPLETED");
    expect(r.metadata).toMatchObject({
      cli: { sessionId: "9e0f3f2a-5d28-4050-a1fb-7ed3281c584a", resumed: false },
    });
    expect(progress[0]).toBe("claude no longer has session lost-session; starting a new one");
    expect(s.repo.get({ profile: "coder", peer: "hermes-main", contextId: "ctx-5" })?.sessionId).toBe(
      "9e0f3f2a-5d28-4050-a1fb-7ed3281c584a",
    );
    s.close();
  });

  test("a turn that outlives its cap is stopped and FAILED", async () => {
    const s = open();
    const slow = join(dir, "slow-cli");
    writeFileSync(
      slow,
      '#!/bin/sh\necho \'{"type":"system","subtype":"init","session_id":"s"}\'\nexec sleep 600\n',
    );
    chmodSync(slow, 0o755);
    const t0 = Date.now();
    const r = await receiver(s.repo, "claude-json.json", { command: slow }).run(
      { ...turn("x", "ctx-4"), timeoutMs: 500 },
      emitter().emit,
      never,
    );
    expect(r.state).toBe("TASK_STATE_FAILED");
    expect((r.parts[0] as { text: string }).text).toContain("turn cap of 0.5 s exceeded");
    expect(Date.now() - t0).toBeLessThan(4000);
    s.close();
  });
});
