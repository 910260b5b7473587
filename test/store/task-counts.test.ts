import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Task, TaskState } from "../../src/a2a/types.ts";
import { currentRuntime } from "../../src/runtime/index.ts";
import { openStore } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { prune, transactionWrite } from "../../src/store/retention.ts";
import { TaskRepo } from "../../src/tasks/repo.ts";

/**
 * The `a2a_relay_tasks{state}` gauge reads counts that triggers keep, not a GROUP BY over every
 * task at each scrape (173 ms at 1M stored tasks, on the event loop). The counts must stay equal
 * to what a full count says through every kind of write: inserts, state changes, other updates,
 * retention's deletes, and a database that already held tasks when the migration ran.
 */

const dir = mkdtempSync(join(tmpdir(), "a2a-task-counts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = (id: string, state: TaskState): Task => ({
  id,
  contextId: `ctx-${id}`,
  status: { state },
});

function insert(repo: TaskRepo, id: string, state: TaskState, at: number): void {
  repo.insert(
    {
      id,
      peer: "p",
      profile: "echo",
      contextId: `ctx-${id}`,
      origin: "local",
      state,
      task: task(id, state),
      seq: 1,
      createdAt: at,
      updatedAt: at,
    },
    { task: task(id, state) } as never,
    undefined,
  );
}

type Conn = ReturnType<typeof openStore>["conn"];
const fullCount = (conn: Conn) =>
  Object.fromEntries(
    conn
      .query<{ state: string; n: number }>("SELECT state, count(*) AS n FROM tasks GROUP BY state")
      .map((r) => [r.state, r.n]),
  );
const kept = (repo: TaskRepo) =>
  Object.fromEntries(
    repo
      .countByState()
      .filter((r) => r.n !== 0)
      .map((r) => [r.state, r.n]),
  );

describe("task counts by state", () => {
  test("follow inserts, state changes, other updates and retention's deletes", async () => {
    const store = openStore(currentRuntime(), join(dir, "live.db"));
    const repo = new TaskRepo(store.db);
    for (let i = 0; i < 30; i++) insert(repo, `t${i}`, "TASK_STATE_SUBMITTED", 1000 + i);
    expect(kept(repo)).toEqual({ TASK_STATE_SUBMITTED: 30 });
    for (let i = 0; i < 20; i++) repo.writeSnapshot(`t${i}`, task(`t${i}`, "TASK_STATE_WORKING"), 2, 2000);
    for (let i = 0; i < 12; i++) repo.writeSnapshot(`t${i}`, task(`t${i}`, "TASK_STATE_COMPLETED"), 3, 3000);
    // an update that keeps the state (a new artifact, say) leaves the counts alone
    repo.writeSnapshot("t15", task("t15", "TASK_STATE_WORKING"), 3, 3000);
    expect(kept(repo)).toEqual({ TASK_STATE_SUBMITTED: 10, TASK_STATE_WORKING: 8, TASK_STATE_COMPLETED: 12 });
    expect(kept(repo)).toEqual(fullCount(store.conn));

    const pruned = await prune(store.conn, {
      cutoff: 10_000,
      ledgerCutoff: () => 0,
      batch: 5,
      write: transactionWrite(store.conn),
    });
    expect(pruned.tasks).toBe(12);
    expect(kept(repo)).toEqual({ TASK_STATE_SUBMITTED: 10, TASK_STATE_WORKING: 8 });
    expect(kept(repo)).toEqual(fullCount(store.conn));
    // a state emptied by deletes reads 0 (the gauge drops to 0 rather than vanishing)
    expect(repo.countByState().find((r) => r.state === "TASK_STATE_COMPLETED")?.n).toBe(0);
    store.close();
  });

  test("a store that held tasks before the migration starts with their counts", () => {
    const path = join(dir, "old.db");
    const before = MIGRATIONS.filter((m) => m.tag !== "0005_task_counts");
    expect(before.length).toBe(MIGRATIONS.length - 1);
    const old = openStore(currentRuntime(), path, { migrations: before });
    const oldRepo = new TaskRepo(old.db);
    for (let i = 0; i < 7; i++) insert(oldRepo, `a${i}`, "TASK_STATE_COMPLETED", 1000);
    for (let i = 0; i < 3; i++) insert(oldRepo, `b${i}`, "TASK_STATE_INPUT_REQUIRED", 1000);
    old.close();

    const store = openStore(currentRuntime(), path);
    const repo = new TaskRepo(store.db);
    expect(kept(repo)).toEqual({ TASK_STATE_COMPLETED: 7, TASK_STATE_INPUT_REQUIRED: 3 });
    repo.writeSnapshot("b0", task("b0", "TASK_STATE_COMPLETED"), 2, 2000);
    expect(kept(repo)).toEqual({ TASK_STATE_COMPLETED: 8, TASK_STATE_INPUT_REQUIRED: 2 });
    expect(kept(repo)).toEqual(fullCount(store.conn));
    store.close();
  });
});
