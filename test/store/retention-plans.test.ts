import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { PRUNE_SQL, prune, transactionWrite } from "../../src/store/retention.ts";

/**
 * A retention pass runs inside the writer's transaction, so each of its statements must be
 * answered from an index, whatever the store holds: one that reads every row holds every request
 * behind it (at 1M stored tasks the task query took ~1 s a pass: the growth bench's p99 of ~0.7 s).
 * SQLite plans these without statistics (the relay runs no ANALYZE), as here.
 */

const dir = mkdtempSync(join(tmpdir(), "a2a-retention-plans-"));
const store = openStore(currentRuntime(), join(dir, "relay.db"));
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const plan = (sql: string, params: unknown[]): string[] =>
  store.conn.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params).map((r) => r.detail);

/** Reading a whole table or index: SCAN of anything but the recursive CTE's own rows. */
const fullReads = (lines: string[]) => lines.filter((l) => /^SCAN /.test(l) && l !== "SCAN p");

describe("each statement of a retention pass reads a bounded range", () => {
  test("terminal tasks by updated_at, not every terminal task through tasks_state", () => {
    const lines = plan(PRUNE_SQL.tasks("'TASK_STATE_COMPLETED','TASK_STATE_FAILED'"), [1, 500]);
    expect(lines.join("\n")).toContain("tasks USING INDEX tasks_updated (updated_at<?)");
    expect(lines.join("\n")).not.toContain("TEMP B-TREE");
    expect(fullReads(lines)).toEqual([]);
  });

  test("dispatches and idle sessions by their time index", () => {
    const d = plan(PRUNE_SQL.dispatches, [1, 500]);
    expect(d.join("\n")).toContain("dispatches_created (created_at<?)");
    const s = plan(PRUNE_SQL.sessions, [1, 500]);
    expect(s.join("\n")).toContain("sessions_updated (updated_at<?)");
    expect(fullReads([...d, ...s])).toEqual([]);
  });

  test("ledger rows by (peer, ts) and by row id; the peers one probe each", () => {
    const before = plan(PRUNE_SQL.ledgerBefore, ["p", 1, 500]);
    expect(before.join("\n")).toContain("budget_ledger_peer_ts (peer=? AND ts<?)");
    const reset = plan(PRUNE_SQL.ledgerReset, ["p", 1, 2, 500]);
    expect(reset.join("\n")).toContain("budget_ledger_peer_ts (peer=? AND ts<?)");
    const peers = plan(PRUNE_SQL.ledgerPeers, []);
    expect(peers.join("\n")).toContain("budget_ledger_peer_context (peer>?)");
    expect(fullReads([...before, ...reset, ...peers])).toEqual([]);
  });

  test("the pass still deletes what the cutoff lets go, and only that", async () => {
    // a store of its own: the EXPLAINs above leave bun:sqlite's cached statements of this one open
    const own = openStore(currentRuntime(), join(dir, "prune.db"));
    const c = own.conn;
    const now = Date.now();
    const old = now - 100_000;
    const task = (id: string, state: string, at: number) =>
      c.query(
        `INSERT INTO tasks (id, peer, profile, context_id, origin, state, task_json, seq, created_at, updated_at)
         VALUES (?, 'p', 'echo', ?, 'a2a', ?, '{}', 1, ?, ?)`,
        [id, `ctx-${id}`, state, at, at],
      );
    task("old-done", "TASK_STATE_COMPLETED", old);
    task("old-running", "TASK_STATE_WORKING", old);
    task("new-done", "TASK_STATE_COMPLETED", now);
    const ledger = (peer: string, ts: number, state: string) =>
      c.query(
        `INSERT INTO budget_ledger (peer, profile, context_id, task_id, ts, state) VALUES (?, 'echo', 'c', 't', ?, ?)`,
        [peer, ts, state],
      );
    ledger("a", old, "settled");
    ledger("a", old, "started");
    ledger("a", now, "settled");
    ledger("b", old, "refunded");
    c.query(
      "INSERT INTO sessions (profile, peer, context_id, session_id, data_json, updated_at) VALUES ('x', 'p', 'c1', 's', '{}', ?), ('x', 'p', 'c2', 's', ?, ?)",
      [old, JSON.stringify({ waiting: { relayTaskId: "t", deadline: now } }), old],
    );
    const write = transactionWrite(c);
    const counts = await prune(c, { cutoff: now - 1000, ledgerCutoff: () => now - 1000, write, batch: 1 });
    expect(counts).toMatchObject({ tasks: 1, sessions: 1, ledger: 2 });
    const ids = c.query<{ id: string }>("SELECT id FROM tasks ORDER BY id").map((r) => r.id);
    expect(ids).toEqual(["new-done", "old-running"]);
    const left = c.query<{ peer: string; state: string }>(
      "SELECT peer, state FROM budget_ledger ORDER BY id",
    );
    expect(left).toEqual([
      { peer: "a", state: "started" },
      { peer: "a", state: "settled" },
    ]);
    // the conversation whose turn waits for a post-back stays
    expect(c.query<{ context_id: string }>("SELECT context_id FROM sessions")).toEqual([
      { context_id: "c2" },
    ]);
    own.close();
  });

  test("rows a reset left behind go by the reset's time and row id, not a read of the peer's rows", async () => {
    const own = openStore(currentRuntime(), join(dir, "reset.db"));
    const c = own.conn;
    const now = Date.now();
    for (const [ts, state] of [
      [now - 50, "settled"],
      [now - 40, "started"],
      [now - 30, "refunded"],
      [now + 10, "settled"],
    ] as const)
      c.query(
        `INSERT INTO budget_ledger (peer, profile, context_id, task_id, ts, state) VALUES ('a', 'echo', 'c', 't', ?, ?)`,
        [ts, state],
      );
    c.query("INSERT INTO budget_resets (peer, after_id, reset_at) VALUES ('a', 3, ?)", [now]);
    const write = transactionWrite(c);
    // every window still counts them: only the reset lets the settled and refunded ones go
    const counts = await prune(c, { cutoff: 0, ledgerCutoff: () => 0, write });
    expect(counts.ledger).toBe(2);
    const left = c.query<{ id: number; state: string }>("SELECT id, state FROM budget_ledger ORDER BY id");
    expect(left).toEqual([
      { id: 2, state: "started" },
      { id: 4, state: "settled" },
    ]);
    own.close();
  });
});
