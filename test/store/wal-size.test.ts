import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../../src/logger.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { StorageHealth } from "../../src/store/health.ts";
import { until } from "../helpers/until.ts";

/**
 * When checkpoints cannot finish (a disk slower to sync than the relay writes, or a reader that
 * holds an old snapshot), the WAL grows past its usual ~40 MiB: measured with the relay's syncs
 * throttled to 1 MiB/s (a blkio cgroup), 1.9 GiB in 30 s of load, requests unslowed. The relay
 * says so (a warning, `a2a_relay_wal_bytes`) and gives the space back once checkpoints catch up.
 */

const dir = mkdtempSync(join(tmpdir(), "a2a-wal-size-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1_048_576;

describe("the write-ahead log's size", () => {
  test("a WAL that grew behind a long read shrinks back to 64 MiB once checkpoints catch up", () => {
    const path = join(dir, "relay.db");
    const store = openStore(currentRuntime(), path);
    store.conn.exec("CREATE TABLE filler (x BLOB)");
    // a reader holding its snapshot: no checkpoint can copy past it, so the WAL cannot start over
    const reader = new Database(path, { readonly: true });
    reader.exec("BEGIN");
    reader.query("SELECT count(*) FROM tasks").get();
    const chunk = new Uint8Array(256 * 1024);
    for (let i = 0; i < 320; i++) store.conn.query("INSERT INTO filler VALUES (?)", [chunk]);
    const grown = statSync(`${path}-wal`).size;
    expect(grown).toBeGreaterThan(80 * MiB);
    reader.exec("COMMIT");
    reader.close();
    // the checkpoint copies everything; the next write starts the WAL over and truncates the file
    store.conn.exec("PRAGMA wal_checkpoint(PASSIVE)");
    store.conn.exec("DELETE FROM filler");
    expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(64 * MiB);
    store.close();
  });

  test("a warning when it passes 256 MiB, a line when it is back; the gauge reads its size", async () => {
    const lines: Array<{ level: string; msg: string | undefined; fields: object }> = [];
    const at =
      (level: string) =>
      (fields: object, msg?: string): void => {
        lines.push({ level, msg, fields });
      };
    const logger: Logger = {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      flush: () => {},
    };
    const health = new StorageHealth({ logger });
    const wal = join(dir, "watched.db-wal");
    writeFileSync(wal, "");
    truncateSync(wal, 40 * MiB); // sparse: the size is what counts
    const stop = health.watchDisk(dir, 0, wal, 20);
    try {
      expect(health.walBytes).toBe(40 * MiB);
      truncateSync(wal, 300 * MiB);
      await until(() => health.walBytes === 300 * MiB, 2000);
      const warned = lines.filter((l) => l.level === "warn");
      expect(warned).toHaveLength(1);
      expect(warned[0]!.msg).toContain("checkpoints are not keeping up");
      expect(warned[0]!.fields).toEqual({ wal, walMb: 300 });
      await new Promise((r) => setTimeout(r, 100)); // still large: said once, not every check
      expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
      truncateSync(wal, 0);
      await until(() => lines.some((l) => l.level === "info"), 2000);
      expect(lines.find((l) => l.level === "info")!.msg).toContain("back to its usual size");
      expect(health.walBytes).toBe(0);
    } finally {
      stop();
    }
  });
});
