import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../src/runtime/bun.ts";
import { startCheckpointer } from "../../src/store/checkpointer.ts";
import { checkpointerCopiesWal } from "../helpers/checkpoint-probe.ts";
import { until } from "../helpers/until.ts";

describe("background WAL checkpointer", () => {
  test("copies committed pages into the database file from its own thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-ckpt-"));
    expect(await checkpointerCopiesWal(bunRuntime, join(dir, "relay.db"))).toEqual({
      grew: true,
      errors: [],
    });
  });

  test("reports a database it cannot use, once, and still stops", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-ckpt-"));
    const path = join(dir, "not-a.db");
    writeFileSync(path, "this is not a SQLite database, and it is long enough to have a header".repeat(10));
    const errors: string[] = [];
    const ck = startCheckpointer(bunRuntime.workerSqlite, path, 10, (m) => errors.push(m));
    expect(await until(() => errors.length > 0, 5000)).toBe(true);
    await Bun.sleep(100);
    await ck.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/not a database|file is (encrypted|not a database)/i);
  });
});
