import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import type { SqliteConnection } from "../../src/runtime/index.ts";
import { Writer } from "../../src/store/writer.ts";

function conn(): { c: SqliteConnection; db: Database } {
  const db = new Database(":memory:");
  db.run("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)");
  return {
    db,
    c: {
      exec: (s) => db.run(s),
      query: (s, p = []) => db.query(s).all(...(p as never[])) as never[],
      prepare: (sql) => {
        const q = db.query(sql);
        return { run: () => void q.run() };
      },
      close: () => db.close(),
    },
  };
}

describe("group-commit writer", () => {
  test("ops queued in one tick share one transaction and resolve after commit", async () => {
    const { c, db } = conn();
    const w = new Writer(c);
    const commits: number[] = [];
    w.onCommit = (n) => commits.push(n);
    const ps = Array.from({ length: 50 }, (_, i) =>
      w.run(() => db.run("INSERT INTO t VALUES (?, ?)", [`k${i}`, i])),
    );
    await Promise.all(ps);
    expect(commits).toEqual([50]);
    expect((db.query("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(50);
  });

  test("a failing op rolls back alone and rejects only its caller", async () => {
    const { c, db } = conn();
    const w = new Writer(c);
    const a = w.run(() => db.run("INSERT INTO t VALUES ('a', 1)"));
    const bad = w.run(() => {
      db.run("INSERT INTO t VALUES ('b', 2)");
      db.run("INSERT INTO t VALUES ('a', 3)"); // duplicate key
    });
    const d = w.run(() => db.run("INSERT INTO t VALUES ('d', 4)"));
    await a;
    await d;
    await expect(bad).rejects.toThrow();
    const keys = (db.query("SELECT k FROM t ORDER BY k").all() as Array<{ k: string }>).map((r) => r.k);
    expect(keys).toEqual(["a", "d"]);
  });

  test("after() runs synchronously after commit, before the promise resolves", async () => {
    const { c, db } = conn();
    const w = new Writer(c);
    const order: string[] = [];
    const p = w.run(
      () => db.run("INSERT INTO t VALUES ('x', 1)"),
      () => {
        order.push(`after:${db.inTransaction}`);
      },
    );
    await p.then(() => order.push("resolved"));
    expect(order).toEqual(["after:false", "resolved"]);
  });

  test("a closed writer refuses new work", async () => {
    const { c } = conn();
    const w = new Writer(c);
    w.close();
    await expect(w.run(() => 1)).rejects.toThrow("closed");
  });
});
