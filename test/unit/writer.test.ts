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

  test("defer: the last deferral per key runs once, before the commit; a failing op's are dropped", async () => {
    const { c, db } = conn();
    const w = new Writer(c);
    const runs: string[] = [];
    const put = (k: string, v: number) => () => {
      runs.push(`${k}=${v}`);
      db.run("INSERT INTO t VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", [k, v]);
    };
    const ops = [
      w.run(() => w.defer("a", put("a", 1))),
      w.run(() => w.defer("a", put("a", 2))),
      w.run(() => {
        w.defer("a", put("a", 99));
        throw new Error("this op fails: its deferral must not run");
      }),
      w.run(() => w.defer("b", put("b", 1))),
    ];
    const results = await Promise.allSettled(ops);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(runs).toEqual(["a=2", "b=1"]);
    expect(db.query("SELECT k, v FROM t ORDER BY k").all()).toEqual([
      { k: "a", v: 2 },
      { k: "b", v: 1 },
    ]);
    expect(() => w.defer("c", () => {})).toThrow(/only valid inside/);
  });

  test("a deferred write that fails fails its whole transaction", async () => {
    const { c, db } = conn();
    const w = new Writer(c);
    const a = w.run(() => db.run("INSERT INTO t VALUES ('a', 1)"));
    const b = w.run(() =>
      w.defer("x", () => {
        throw new Error("disk full");
      }),
    );
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status === "rejected" && String(ra.reason)).toContain("disk full");
    expect(rb.status === "rejected" && String(rb.reason)).toContain("disk full");
    expect(db.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    expect(db.inTransaction).toBe(false);
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
