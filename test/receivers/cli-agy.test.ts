import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { agyParser, newReply } from "../../src/receivers/cli/agy.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/agy", name), "utf8");

function feed(parser: ReturnType<typeof agyParser>, out: string, code: number | null, stderr = "") {
  for (const line of out.split("\n")) parser.line(line);
  return parser.finish(code, stderr);
}

describe("antigravity output", () => {
  test("first turn: the whole output is the reply, and it is kept for the next turn", () => {
    const o = feed(agyParser(undefined, "conv-1"), fixture("turn1.txt"), 0);
    expect(o.ok).toBe(true);
    expect(o.text).toBe(fixture("turn1.txt").trim());
    expect(o.data).toEqual({ output: fixture("turn1.txt").trim() });
    expect(o.sessionId).toBe("conv-1");
    expect(o.flags).toBeUndefined();
  });

  test("second turn: only what follows the saved output", () => {
    const saved = { sessionId: "conv-1", data: { output: fixture("turn1.txt").trim() }, updatedAt: 0 };
    const o = feed(agyParser(saved, "conv-1"), fixture("turn2.txt"), 0);
    expect(o.text).toBe("> Now add a second line\nI added a second line to hello.txt.");
    expect(o.flags).toBeUndefined();
    expect(o.data).toEqual({ output: fixture("turn2.txt").trim() });
  });

  test("prefix drift: the whole output is returned and the drift flagged", () => {
    const saved = { sessionId: "conv-1", data: { output: fixture("turn1.txt").trim() }, updatedAt: 0 };
    const o = feed(agyParser(saved, "conv-1"), fixture("turn2-drift.txt"), 0);
    expect(o.ok).toBe(true);
    expect(o.text).toBe(fixture("turn2-drift.txt").trim());
    expect(o.flags).toEqual({ prefixDrift: true });
  });

  test("empty output with rc 0 means not signed in; a failed turn keeps no session", () => {
    const empty = feed(agyParser(undefined, "conv-1"), "\n", 0);
    expect(empty.ok).toBe(false);
    expect(empty.error).toContain("signed in");
    expect(empty.sessionId).toBeUndefined();
    const bad = feed(agyParser(undefined, "conv-1"), "", 2, "agy: unknown flag --print-timeout\n");
    expect(bad.ok).toBe(false);
    expect(bad.error).toContain("unknown flag");
    expect(bad.sessionId).toBeUndefined();
  });

  test("newReply", () => {
    expect(newReply(undefined, "a")).toEqual({ reply: "a", drift: false });
    expect(newReply("a", "a\nb")).toEqual({ reply: "b", drift: false });
    expect(newReply("x", "a\nb")).toEqual({ reply: "a\nb", drift: true });
  });
});
