import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";

const pragma = (s: ReturnType<typeof openStore>, name: string) =>
  Object.values(s.conn.query<Record<string, unknown>>(`PRAGMA ${name}`)[0] ?? {})[0];

describe("opening the store", () => {
  // a new database is set up with synchronous = OFF (no fsync per step), then synced once
  test("a new database ends in WAL at the configured level, with every migration, and reopens so", () => {
    const path = join(mkdtempSync(join(tmpdir(), "a2a-relay-open-")), "relay.db");
    const fresh = openStore(currentRuntime(), path, { synchronous: "FULL" });
    expect(pragma(fresh, "journal_mode")).toBe("wal");
    expect(pragma(fresh, "synchronous")).toBe(2); // FULL
    expect(pragma(fresh, "auto_vacuum")).toBe(2); // INCREMENTAL
    const applied = (s: typeof fresh) =>
      s.conn.query<{ n: number }>("SELECT count(*) AS n FROM __drizzle_migrations")[0]?.n;
    expect(applied(fresh)).toBe(MIGRATIONS.length);
    fresh.close();

    const again = openStore(currentRuntime(), path);
    expect(pragma(again, "journal_mode")).toBe("wal");
    expect(pragma(again, "synchronous")).toBe(1); // NORMAL, the default
    expect(applied(again)).toBe(MIGRATIONS.length);
    again.close();
  });
});
