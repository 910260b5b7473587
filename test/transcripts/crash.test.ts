import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TranscriptWriter, transcriptPath } from "../../src/transcripts/index.ts";

const BUN = join(process.cwd(), "node_modules", ".bin", "bun");
const SCRIPT = join(import.meta.dir, "_append-loop.ts");

/** Every newline-terminated line parses, numbered 0, 1, 2, … without gaps; returns the count. */
function checkWholeLines(text: string): { lines: number; tail: string } {
  const end = text.lastIndexOf("\n") + 1;
  const lines = text.slice(0, end).split("\n").filter(Boolean);
  lines.forEach((l, i) => {
    const v = JSON.parse(l) as { message: string; text: string };
    expect(v.message).toBe(`m${i}`);
    expect(v.text.startsWith(`${i} `)).toBe(true);
  });
  return { lines: lines.length, tail: text.slice(end) };
}

describe("transcripts survive kill -9", () => {
  test("a child killed during heavy appends leaves only whole lines (after the writer reopens)", async () => {
    for (let round = 0; round < 3; round++) {
      const root = mkdtempSync(join(tmpdir(), "a2a-crash-"));
      const path = transcriptPath(root, "echo", "bot");
      const child = spawn(BUN, [SCRIPT, root], { stdio: ["ignore", "ignore", "inherit"] });
      const exited = new Promise<number | null>((r) =>
        child.on("exit", (_code, signal) => r(signal ? 137 : _code)),
      );
      const target = (2 + round) * 1024 * 1024;
      const deadline = Date.now() + 15_000;
      while (!(existsSync(path) && statSync(path).size > target)) {
        if (Date.now() > deadline) throw new Error("the child did not write enough in time");
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill("SIGKILL");
      expect(await exited).toBe(137);

      const raw = readFileSync(path, "utf8");
      const before = checkWholeLines(raw);
      expect(before.lines).toBeGreaterThan(100);

      // what the relay does at its next start: open the transcript for appending
      const w = new TranscriptWriter({ root, schedule: () => {} });
      w.append({
        ts: new Date().toISOString(),
        origin: "a2a",
        peer: "bot",
        profile: "echo",
        context: "a2a:bot:c",
        task: "t",
        message: `m${before.lines}`,
        dir: "in",
        role: "user",
        text: `${before.lines} after restart`,
      });
      w.close();
      const repaired = readFileSync(path, "utf8");
      expect(repaired.endsWith("\n")).toBe(true);
      expect(checkWholeLines(repaired)).toEqual({ lines: before.lines + 1, tail: "" });
    }
  }, 60_000);
});
