import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/logger.ts";

describe("batched log lines", () => {
  test("are held briefly, then written whole and in order; flush writes at once", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "a2a-log-")), "relay.log");
    const log = createLogger("info", file);
    for (let i = 0; i < 3; i++) log.info({ i }, "line");
    expect(readFileSync(file, "utf8")).toBe(""); // not one write per line
    await Bun.sleep(120);
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2]);
    log.info({ i: 3 }, "line");
    log.flush();
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(4);
  });

  test("a burst beyond the batch size is written without waiting", () => {
    const file = join(mkdtempSync(join(tmpdir(), "a2a-log-")), "relay.log");
    const log = createLogger("info", file);
    for (let i = 0; i < 1000; i++) log.info({ i, pad: "x".repeat(100) }, "line");
    expect(readFileSync(file, "utf8").length).toBeGreaterThan(64 * 1024);
  });

  test("the Authorization header and tokens stay redacted", () => {
    const file = join(mkdtempSync(join(tmpdir(), "a2a-log-")), "relay.log");
    const log = createLogger("info", file);
    log.info({ authorization: "Bearer s3cret", peer: { token: "t0ken" } }, "x");
    log.flush();
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("t0ken");
    expect(text).toContain("[redacted]");
  });
});
