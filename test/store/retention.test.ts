import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { prune, storeStats, transactionWrite } from "../../src/store/retention.ts";
import { cli } from "../cli/_run.ts";
import { startTestRelay, type TestRelay, userMessage } from "../helpers/relay.ts";

/** Issue 15: the database stops growing. Retention, `store prune`/`stats`, pages reused. */

let r: TestRelay | undefined;
afterEach(async () => {
  await r?.stop();
  r = undefined;
});

describe("store prune and stats while the relay runs", () => {
  test("--older-than 0s removes every terminal task; a running one stays; GetTask of a pruned one is -32001", async () => {
    r = await startTestRelay();
    const done: string[] = [];
    for (let i = 0; i < 20; i++)
      done.push((await r.rpc("SendMessage", { message: userMessage(`t${i}`) })).body.result.task.id);
    const running = (
      await r.rpc("SendMessage", {
        message: userMessage("sleep:3000 still going"),
        configuration: { returnImmediately: true },
      })
    ).body.result.task.id;
    const env = { A2A_RELAY_HOME: join(r.dir, "data"), A2A_RELAY_LOCK_DIR: join(r.dir, "locks") };
    const before = await cli(["store", "stats", "--json"], env);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.out).tasks).toBe(21);
    const pruned = await cli(["store", "prune", "--older-than", "0s"], env);
    expect(pruned.code).toBe(0);
    expect(pruned.out).toStartWith("pruned 20 tasks");
    expect((await r.rpc("GetTask", { id: done[0] })).body.error.code).toBe(-32001);
    expect((await r.rpc("GetTask", { id: running })).body.result.status.state).toBe("TASK_STATE_WORKING");
    const after = JSON.parse((await cli(["store", "stats", "--json"], env)).out);
    expect(after.tasks).toBe(1);
    expect(after.dispatches).toBe(0);
    // the relay goes on as before
    expect(
      (await r.rpc("SendMessage", { message: userMessage("after") })).body.result.task.status.state,
    ).toBe("TASK_STATE_COMPLETED");
    const bad = await cli(["store", "prune", "--older-than", "soon"], env);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--older-than");
  });
});

describe("the retention pass", () => {
  test("a relay with retain = 1m prunes what is older on its own pass, and keeps what is not", async () => {
    r = await startTestRelay({ toml: `[store]\nretain = "1m"\n` });
    const old = (await r.rpc("SendMessage", { message: userMessage("old") })).body.result.task.id;
    const store = openStore(currentRuntime(), join(r.dir, "data", "relay.db"));
    // age it by two minutes
    store.conn.query("UPDATE tasks SET updated_at = updated_at - 120000 WHERE id = ?", [old]);
    const fresh = (await r.rpc("SendMessage", { message: userMessage("fresh") })).body.result.task.id;
    const counts = await prune(store.conn, {
      cutoff: Date.now() - 60_000,
      ledgerCutoff: () => 0,
      write: transactionWrite(store.conn),
    });
    store.close();
    expect(counts.tasks).toBe(1);
    expect((await r.rpc("GetTask", { id: old })).body.error.code).toBe(-32001);
    expect((await r.rpc("GetTask", { id: fresh })).body.result.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("budget ledger rows go only once no window counts them; open reservations never", () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-ledger-"));
    const s = openStore(currentRuntime(), join(dir, "relay.db"));
    try {
      const now = Date.now();
      const row = (peer: string, ts: number, state: string) =>
        s.conn.query(
          "INSERT INTO budget_ledger (peer, profile, context_id, task_id, ts, state) VALUES (?, 'p', 'c', 't', ?, ?)",
          [peer, ts, state],
        );
      row("hourly", now - 2 * 3_600_000, "settled"); // outside its 1h window: goes
      row("hourly", now - 60_000, "settled"); // inside: stays
      row("hourly", now - 2 * 3_600_000, "reserved"); // open: stays
      row("forever", now - 100 * 86_400_000, "settled"); // a total window: stays
      const horizon: Record<string, number> = { hourly: now - 3_600_000, forever: 0 };
      return prune(s.conn, {
        cutoff: now,
        ledgerCutoff: (p) => horizon[p]!,
        write: transactionWrite(s.conn),
      }).then((c) => {
        expect(c.ledger).toBe(1);
        expect(storeStats(s.conn).budgetLedger).toBe(3);
      });
    } finally {
      setTimeout(() => {
        s.close();
        rmSync(dir, { recursive: true, force: true });
      }, 100);
    }
  });

  test("freed pages are reused: the file does not grow over prune-and-refill cycles", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a2a-pages-"));
    const path = join(dir, "relay.db");
    const s = openStore(currentRuntime(), path);
    const fill = (n: number, at: number) => {
      s.conn.exec("BEGIN");
      for (let i = 0; i < n; i++) {
        const id = crypto.randomUUID();
        s.conn.query(
          "INSERT INTO tasks (id, peer, profile, context_id, origin, state, task_json, seq, created_at, updated_at) VALUES (?, 'p', 'echo', 'c', 'a2a', 'TASK_STATE_COMPLETED', ?, 1, ?, ?)",
          [id, JSON.stringify({ id, pad: "x".repeat(2000) }), at, at],
        );
        s.conn.query("INSERT INTO task_events (task_id, seq, ts, event_json) VALUES (?, 1, ?, ?)", [
          id,
          at,
          "y".repeat(1000),
        ]);
      }
      s.conn.exec("COMMIT");
    };
    try {
      const pagesAfter: number[] = [];
      for (let cycle = 0; cycle < 4; cycle++) {
        fill(2000, cycle);
        await prune(s.conn, { cutoff: cycle + 1, ledgerCutoff: () => 0, write: transactionWrite(s.conn) });
        s.conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        pagesAfter.push(storeStats(s.conn).pages as number);
      }
      expect(storeStats(s.conn).tasks).toBe(0);
      // the first cycle sized the file; later ones reuse (or return) its pages: flat within a few
      // pages, where 2000 more tasks a cycle would add ~1500 pages each time
      const limit = pagesAfter[0]! * 1.05;
      expect(Math.max(...pagesAfter.slice(1))).toBeLessThanOrEqual(limit);
      expect(statSync(path).size).toBeLessThanOrEqual(limit * (storeStats(s.conn).pageSize as number));
    } finally {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
