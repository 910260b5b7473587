import { describe, expect, test } from "bun:test";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { tempDb } from "./_engine.ts";

describe("migration 0001_budgets", () => {
  test("a database created with only 0000 is upgraded at start and keeps its rows", () => {
    const path = tempDb();
    const old = openStore(currentRuntime(), path, { migrations: MIGRATIONS.slice(0, 1) });
    old.conn.query("INSERT INTO dispatches (peer, message_id, task_id, created_at) VALUES (?, ?, ?, ?)", [
      "bot",
      "m1",
      "t1",
      1,
    ]);
    const tables = (s: typeof old) =>
      s.conn
        .query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .map((r) => r.name);
    expect(tables(old)).not.toContain("budget_ledger");
    old.close();

    const now = openStore(currentRuntime(), path);
    expect(tables(now)).toEqual(expect.arrayContaining(["budget_ledger", "budget_resets", "dispatches"]));
    expect(now.conn.query("SELECT task_id FROM dispatches")).toEqual([{ task_id: "t1" }]);
    expect(now.conn.query<{ n: number }>("SELECT count(*) AS n FROM __drizzle_migrations")[0]?.n).toBe(
      MIGRATIONS.length,
    );
    now.close();

    // opening again applies nothing twice
    const again = openStore(currentRuntime(), path);
    expect(again.conn.query<{ n: number }>("SELECT count(*) AS n FROM __drizzle_migrations")[0]?.n).toBe(
      MIGRATIONS.length,
    );
    again.close();
  });
});
