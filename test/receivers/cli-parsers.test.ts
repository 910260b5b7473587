import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { claudeParser } from "../../src/receivers/cli/claude.ts";
import { codexParser } from "../../src/receivers/cli/codex.ts";
import { geminiParser } from "../../src/receivers/cli/gemini.ts";
import { opencodeParser } from "../../src/receivers/cli/opencode.ts";
import type { CliOutcome, CliParser } from "../../src/receivers/cli/types.ts";

const SAMPLES = join(import.meta.dir, "../fixtures/executor-samples");
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");

/** Feed a recorded stdout to a parser, as the supervisor does, and finish it. */
function run(parser: CliParser, stdout: string, code: number | null, stderr = "") {
  const progress: string[] = [];
  const fatal: string[] = [];
  for (const line of stdout.split("\n")) {
    const r = parser.line(line);
    if (r?.progress) progress.push(r.progress);
    if (r?.fatal) fatal.push(r.fatal);
  }
  const outcome: CliOutcome = parser.finish(code, stderr);
  return { outcome, progress, fatal };
}

const tested = new Set<string>();
function use(name: string) {
  tested.add(name);
  return sample(name);
}

describe("claude parser", () => {
  test("json success: text, session, usage with cost", () => {
    const { outcome } = run(claudeParser(), use("claude-json.json"), 0);
    expect(outcome).toMatchObject({
      ok: true,
      text: "done",
      sessionId: "9e0f3f2a-5d28-4050-a1fb-7ed3281c584a",
      usage: { inputTokens: 246, outputTokens: 14, costUsd: 0.001264 },
    });
  });
  test("stream-json: tool call and text become progress; the result object is the outcome", () => {
    const { outcome, progress } = run(claudeParser(), use("claude-stream-json.jsonl"), 0);
    expect(outcome).toMatchObject({
      ok: true,
      text: "done",
      sessionId: "1077e443-79d8-4bb3-88ac-7b8b479a34e5",
    });
    expect(progress).toEqual(["Write /srv/repo/hello.txt", "done"]);
  });
  test("401: is_error with subtype success is a failure naming the credential", () => {
    const { outcome } = run(claudeParser(), use("claude-json-401.json"), 1);
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toContain("refused the credential");
    expect(outcome.error).toContain("Invalid API key");
    expect(outcome.sessionId).toBe("c235fc36-dcae-44c7-9780-a5de482e0752");
  });
  test("unreachable endpoint", () => {
    const { outcome } = run(claudeParser(), use("claude-json-unreachable.json"), 1);
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toContain("unreachable");
  });
  test("max turns", () => {
    const { outcome } = run(claudeParser(), use("claude-json-max-turns.json"), 1);
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toContain("maximum number of turns");
    expect(outcome.usage).toEqual({ inputTokens: 123, outputTokens: 7, costUsd: 0.000632 });
  });
  test("no output with rc 0: not signed in?; garbage with rc 1 keeps the stderr tail", () => {
    expect(run(claudeParser(), "", 0).outcome.error).toContain("signed in");
    const bad = run(claudeParser(), "Segmentation fault\n", 139, "line1\nfatal: something broke\n").outcome;
    expect(bad.ok).toBe(false);
    expect(bad.error).toContain("fatal: something broke");
    expect(bad.error).toContain("139");
  });
});

describe("codex parser", () => {
  test("exec_command sample: thread id, last agent message, usage, command as progress", () => {
    const { outcome, progress } = run(codexParser(), use("codex-exec-json-sample.jsonl"), 0);
    expect(outcome).toMatchObject({
      ok: true,
      text: "done",
      sessionId: "01a2132c-d4b2-7301-a444-a84eb93cf1cf",
      usage: { inputTokens: 246, outputTokens: 14 },
    });
    expect(progress[0]).toStartWith("run /bin/bash -lc");
  });
  test("apply_patch sample: file changes as progress", () => {
    const { outcome, progress } = run(codexParser(), use("codex-exec-json-applypatch-sample.jsonl"), 0);
    expect(outcome.ok).toBe(true);
    expect(progress).toContain("add /srv/repo/hello.txt");
  });
  test("401: turn.failed is a failure, never a success", () => {
    const { outcome } = run(codexParser(), use("codex-exec-json-401.jsonl"), 1);
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toContain("refused the credential");
    expect(outcome.sessionId).toBe("01a2132d-6333-78e2-bd2e-66848fadb7c7");
  });
  test("unreachable: endless reconnects are cut by a fatal after a few", () => {
    const { outcome, fatal } = run(codexParser(), use("codex-exec-json-unreachable.jsonl"), null);
    expect(fatal.length).toBeGreaterThan(0);
    expect(fatal[0]).toContain("unreachable");
    expect(outcome.ok).toBe(false);
  });
  test("turn.completed with a non-zero exit is still a failure", () => {
    const { outcome } = run(codexParser(), use("codex-exec-json-sample.jsonl"), 1, "panic\n");
    expect(outcome.ok).toBe(false);
  });
});

describe("opencode parser", () => {
  test("sample: text of the last step, session, summed usage and cost, tool progress", () => {
    const { outcome, progress } = run(opencodeParser(), use("opencode-run-json-sample.jsonl"), 0);
    expect(outcome).toMatchObject({
      ok: true,
      text: "done",
      sessionId: "ses_decd25305ffeeF3QRnDYvgtq0t",
      usage: { inputTokens: 246, outputTokens: 14, costUsd: 0 },
    });
    expect(progress[0]).toBe("write srv/repo/hello.txt");
  });
  test("401, unreachable and header timeout are failures even with rc 0", () => {
    const a = run(opencodeParser(), use("opencode-run-json-401.jsonl"), 0).outcome;
    expect(a.ok).toBe(false);
    expect(a.error).toContain("refused the credential");
    const b = run(opencodeParser(), use("opencode-run-json-unreachable.jsonl"), 0).outcome;
    expect(b.error).toContain("unreachable");
    const c = run(opencodeParser(), use("opencode-run-json-headertimeout.jsonl"), 1).outcome;
    expect(c.error).toContain("did not answer in time");
  });
  test("nothing printed with rc 0", () => {
    expect(run(opencodeParser(), "", 0).outcome.error).toContain("printed nothing");
  });
});

describe("gemini parser", () => {
  test("json: response, session, usage summed over models", () => {
    const { outcome } = run(geminiParser(), use("gemini-json.json"), 0);
    expect(outcome).toMatchObject({
      ok: true,
      text: "done",
      sessionId: "625e186f-af0a-42da-b78b-3d6710f1f1cc",
      usage: { inputTokens: 369, outputTokens: 21 },
    });
  });
  test("stream-json: tool progress, streamed text, result usage", () => {
    const { outcome, progress } = run(geminiParser(), use("gemini-stream-json.jsonl"), 0);
    expect(outcome).toMatchObject({
      ok: true,
      text: "done",
      sessionId: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
      usage: { inputTokens: 369, outputTokens: 21 },
    });
    expect(progress).toEqual(["write_file hello.txt", "done"]);
  });
  test("401: the error object on stderr and the exit code make a failure", () => {
    const { outcome } = run(geminiParser(), "", 145, use("gemini-401-stderr.txt"));
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toContain("refused the credential");
    expect(outcome.error).toContain("API key not valid.");
    expect(outcome.error).toContain("145");
  });
  test("a non-zero exit is a failure even after a response", () => {
    expect(run(geminiParser(), sample("gemini-json.json"), 1).outcome.ok).toBe(false);
  });
});

test("every recorded sample is covered by a parser test", () => {
  expect([...tested].sort()).toEqual(readdirSync(SAMPLES).sort());
});
