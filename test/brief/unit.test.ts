import { describe, expect, test } from "bun:test";
import { extractJson } from "../../src/brief/extract.ts";
import { checkExpectedOutput, validateJson } from "../../src/brief/output.ts";
import { planTurn, withReplyTo } from "../../src/brief/plan.ts";
import { promptText, renderBrief } from "../../src/brief/render.ts";
import { type Brief, isReplyTo, parseBrief } from "../../src/brief/schema.ts";
import { withPreamble } from "../../src/receivers/preamble.ts";

const SCHEMA = { type: "object", required: ["ok"], properties: { ok: { type: "boolean" } } };

describe("extractJson", () => {
  test("a ```json block wins over braces elsewhere; the last block is the answer", () => {
    const text = 'I read {the files}.\n```json\n{"a": 1}\n```\nthen\n```json\n{"a": 2}\n```';
    expect(extractJson(text)).toEqual({ ok: true, value: { a: 2 } });
  });
  test("else the first balanced {…} or […] that parses, skipping prose in braces and brackets in strings", () => {
    expect(extractJson('see {this} then {"s": "}{]", "n": [1, {"x": null}]} tail')).toEqual({
      ok: true,
      value: { s: "}{]", n: [1, { x: null }] },
    });
    expect(extractJson("list: [1, 2, 3].")).toEqual({ ok: true, value: [1, 2, 3] });
  });
  test("no JSON, or a broken json block, says why", () => {
    const none = extractJson("no json here {at all");
    expect(none.ok).toBe(false);
    expect(!none.ok && none.reason).toContain("contains no JSON");
    const broken = extractJson("```json\n{nope}\n```");
    expect(!broken.ok && broken.reason).toContain("not valid JSON");
  });
});

describe("validateJson and checkExpectedOutput", () => {
  test("valid → []; invalid → one line per leaf error with its location", () => {
    expect(validateJson(SCHEMA, { ok: true })).toEqual([]);
    expect(validateJson(SCHEMA, { ok: "yes" })).toEqual([
      '/ok: Instance type "string" is invalid. Expected "boolean".',
    ]);
  });
  test("a data part the agent returned is validated as is", () => {
    const out = checkExpectedOutput(
      { context: "c", expected_output: SCHEMA },
      { state: "TASK_STATE_COMPLETED", parts: [{ data: { ok: false } }] },
      () => "a1",
    );
    expect(out.artifact).toEqual({
      artifactId: "a1",
      name: "result",
      parts: [{ data: { ok: false }, mediaType: "application/json" }],
    });
  });
  test("a text expected_output, or a turn that did not complete, is left alone", () => {
    const failed = { state: "TASK_STATE_FAILED" as const, parts: [{ text: "boom" }] };
    expect(checkExpectedOutput({ context: "c", expected_output: SCHEMA }, failed, () => "x")).toBe(failed);
    const done = { state: "TASK_STATE_COMPLETED" as const, parts: [{ text: "prose" }] };
    expect(checkExpectedOutput({ context: "c", expected_output: "prose" }, done, () => "x")).toBe(done);
    expect(checkExpectedOutput(undefined, done, () => "x")).toBe(done);
  });
});

describe("the prompt template", () => {
  const brief: Brief = {
    context: "repo X, branch main",
    expected_output: "a patch",
    deadline_s: 60,
    reply_to: "relay:x",
  };
  test("renders message text, context, expected output and deadline; never reply_to", () => {
    expect(renderBrief(brief, "fix the bug")).toBe(
      [
        "fix the bug",
        "",
        "--- brief ---",
        "Context:",
        "repo X, branch main",
        "",
        "Expected output:",
        "a patch",
        "",
        "Deadline: 60 s for this turn; past it the turn is stopped.",
      ].join("\n"),
    );
  });
  test("a schema is shown as JSON with the instruction to end with a ```json block", () => {
    const text = renderBrief({ context: { repo: "X" }, expected_output: SCHEMA });
    expect(text.startsWith("--- brief ---\nContext:\n{\n")).toBe(true);
    expect(text).toContain("in a ```json fenced block, that validates against this JSON Schema");
    expect(text).toContain(JSON.stringify(SCHEMA, null, 2));
    expect(text).not.toContain("Deadline");
  });
  test("promptText: plain text without a brief, the template with one", () => {
    const message = { parts: [{ text: "hi" }] };
    expect(promptText({ message })).toBe("hi");
    expect(promptText({ message, brief })).toBe(renderBrief(brief, "hi"));
  });
  test("the CLI receivers' prompt (role preamble) carries the rendered brief", () => {
    const p = {
      peer: "orchestrator",
      profile: "coder",
      workdir: "/w",
      origin: "a2a" as const,
      taskId: "t",
      contextId: "c",
    };
    const prompt = withPreamble({ ...p, brief }, "fix the bug");
    expect(prompt.endsWith(`--- message from "orchestrator" ---\n${renderBrief(brief, "fix the bug")}`)).toBe(
      true,
    );
    expect(withPreamble(p, "fix the bug").endsWith('--- message from "orchestrator" ---\nfix the bug')).toBe(
      true,
    );
  });
});

describe("planTurn and reply_to", () => {
  const msg = (brief?: unknown) => ({ parts: [{ text: "x" }], ...(brief ? { metadata: { brief } } : {}) });
  test("deadline_s lowers the cap, never raises it", () => {
    expect(planTurn(msg(), 300_000)).toEqual({
      timeoutMs: 300_000,
      limitText: "its turn cap of 300 s (turn_timeout_s)",
    });
    const low = planTurn(msg({ context: "c", expected_output: "e", deadline_s: 0.5 }), 300_000);
    expect(low.timeoutMs).toBe(500);
    expect(low.limitText).toBe("the brief's deadline_s (0.5 s)");
    const high = planTurn(msg({ context: "c", expected_output: "e", deadline_s: 900 }), 300_000);
    expect(high.timeoutMs).toBe(300_000);
  });
  test("an invalid brief that skipped the edge is reported, not run", () => {
    expect(planTurn(msg({ context: "c", expected_output: "e", deadline_s: -2 }), 1000).error).toStartWith(
      "brief.deadline_s:",
    );
  });
  test("reply_to goes into task metadata brief.reply_to", () => {
    const task = { id: "t", contextId: "c", status: { state: "TASK_STATE_SUBMITTED" as const } };
    expect(withReplyTo(task, { context: "c", expected_output: "e" })).toBe(task);
    expect(
      withReplyTo(task, { context: "c", expected_output: "e", reply_to: "https://h/x" }).metadata,
    ).toEqual({
      brief: { reply_to: "https://h/x" },
    });
  });
  test("reply_to shapes", () => {
    for (const ok of ["https://a.example/hook", "http://127.0.0.1:9/x", "relay:coder"])
      expect(isReplyTo(ok)).toBe(true);
    for (const bad of ["ftp://a", "relay:", "relay:../x", "a.example", "mailto:x@y"])
      expect(isReplyTo(bad)).toBe(false);
  });
  test("two briefs in one message are refused", () => {
    const b = { context: "c", expected_output: "e" };
    expect(() => parseBrief({ parts: [{ data: b }], metadata: { brief: b } })).toThrow("more than one brief");
  });
});
