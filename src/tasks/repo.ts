import { and, desc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import type { StreamResponse, Task, TaskState } from "../a2a/types.ts";
import type { Drizzle } from "../store/db.ts";
import { dispatches, taskCounts, taskEvents, tasks } from "../store/schema.ts";

export interface TaskRow {
  id: string;
  peer: string;
  profile: string;
  contextId: string;
  origin: string;
  state: TaskState;
  task: Task;
  seq: number;
  createdAt: number;
  updatedAt: number;
}

export interface ListFilter {
  peer: string;
  profile?: string | undefined;
  contextId?: string | undefined;
  state?: TaskState | undefined;
  updatedAfter?: number | undefined;
  /** Cursor: rows strictly older than (updatedAt, id). */
  before?: { updatedAt: number; id: string } | undefined;
  limit: number;
}

/**
 * Task persistence. Writes are synchronous statements meant to run inside the group-commit
 * writer; reads run directly (they see only committed data).
 */
export class TaskRepo {
  readonly #db: Drizzle;
  readonly #getById;
  readonly #getDispatch;
  readonly #insertTask;
  readonly #insertEvent;
  readonly #insertDispatch;
  readonly #updateTask;

  constructor(db: Drizzle) {
    this.#db = db;
    // the hot path (every task change) uses statements prepared once
    const p = (name: string) => sql.placeholder(name);
    this.#insertTask = db
      .insert(tasks)
      .values({
        id: p("id"),
        peer: p("peer"),
        profile: p("profile"),
        contextId: p("contextId"),
        origin: p("origin"),
        state: p("state"),
        taskJson: p("taskJson"),
        seq: p("seq"),
        createdAt: p("createdAt"),
        updatedAt: p("updatedAt"),
      })
      .prepare();
    this.#insertEvent = db
      .insert(taskEvents)
      .values({ taskId: p("taskId"), seq: p("seq"), ts: p("ts"), eventJson: p("eventJson") })
      .prepare();
    this.#insertDispatch = db
      .insert(dispatches)
      .values({ peer: p("peer"), messageId: p("messageId"), taskId: p("taskId"), createdAt: p("createdAt") })
      // the same messageId sent again as a new message (another task, context or profile): the
      // latest dispatch is the one a retry repeats
      .onConflictDoUpdate({
        target: [dispatches.peer, dispatches.messageId],
        set: { taskId: sql`excluded.task_id`, createdAt: sql`excluded.created_at` },
      })
      .prepare();
    this.#updateTask = db
      .update(tasks)
      .set({
        state: sql`${p("state")}`,
        taskJson: sql`${p("taskJson")}`,
        seq: sql`${p("seq")}`,
        updatedAt: sql`${p("updatedAt")}`,
      })
      .where(eq(tasks.id, p("id")))
      .prepare();
    this.#getById = db
      .select()
      .from(tasks)
      .where(eq(tasks.id, sql.placeholder("id")))
      .prepare();
    this.#getDispatch = db
      .select({ taskId: dispatches.taskId })
      .from(dispatches)
      .where(
        and(eq(dispatches.peer, sql.placeholder("peer")), eq(dispatches.messageId, sql.placeholder("mid"))),
      )
      .prepare();
  }

  get(id: string): TaskRow | undefined {
    const row = this.#getById.get({ id });
    return row ? toRow(row) : undefined;
  }

  findDispatch(peer: string, messageId: string): string | undefined {
    return this.#getDispatch.get({ peer, mid: messageId })?.taskId;
  }

  insert(row: TaskRow, event: StreamResponse, messageId: string | undefined): void {
    this.#insertTask.run({
      id: row.id,
      peer: row.peer,
      profile: row.profile,
      contextId: row.contextId,
      origin: row.origin,
      state: row.state,
      taskJson: JSON.stringify(row.task),
      seq: row.seq,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    });
    this.appendEvent(row.id, row.seq, row.updatedAt, event);
    if (messageId) this.recordDispatch(row.peer, messageId, row.id, row.updatedAt);
  }

  recordDispatch(peer: string, messageId: string, taskId: string, now: number): void {
    this.#insertDispatch.run({ peer, messageId, taskId, createdAt: now });
  }

  /** A task's new snapshot and the event that made it. */
  update(id: string, task: Task, seq: number, now: number, event: StreamResponse): void {
    this.writeSnapshot(id, task, seq, now);
    this.appendEvent(id, seq, now, event);
  }

  /** Overwrite a task's snapshot row (its events are appended separately). */
  writeSnapshot(id: string, task: Task, seq: number, now: number): void {
    this.#updateTask.run({
      id,
      state: task.status.state,
      taskJson: JSON.stringify(task),
      seq,
      updatedAt: now,
    });
  }

  appendEvent(taskId: string, seq: number, ts: number, event: StreamResponse): void {
    this.#insertEvent.run({ taskId, seq, ts, eventJson: JSON.stringify(event) });
  }

  eventsAfter(taskId: string, seq: number): Array<{ seq: number; event: StreamResponse }> {
    return this.#db
      .select()
      .from(taskEvents)
      .where(and(eq(taskEvents.taskId, taskId), gt(taskEvents.seq, seq)))
      .orderBy(taskEvents.seq)
      .all()
      .map((r) => ({ seq: r.seq, event: JSON.parse(r.eventJson) as StreamResponse }));
  }

  list(f: ListFilter): { rows: TaskRow[]; total: number } {
    const conds = [eq(tasks.peer, f.peer)];
    if (f.profile) conds.push(eq(tasks.profile, f.profile));
    if (f.contextId) conds.push(eq(tasks.contextId, f.contextId));
    if (f.state) conds.push(eq(tasks.state, f.state));
    if (f.updatedAfter !== undefined) conds.push(gt(tasks.updatedAt, f.updatedAfter));
    const where = and(...conds);
    const total = this.#db.select({ n: sql<number>`count(*)` }).from(tasks).where(where).get()?.n ?? 0;
    const page = f.before
      ? and(
          where,
          or(
            lt(tasks.updatedAt, f.before.updatedAt),
            and(eq(tasks.updatedAt, f.before.updatedAt), lt(tasks.id, f.before.id)),
          ),
        )
      : where;
    const rows = this.#db
      .select()
      .from(tasks)
      .where(page)
      .orderBy(desc(tasks.updatedAt), desc(tasks.id))
      .limit(f.limit)
      .all()
      .map(toRow);
    return { rows, total };
  }

  /** Tasks that were queued or running when the process stopped. */
  unfinished(): TaskRow[] {
    return this.#db
      .select()
      .from(tasks)
      .where(inArray(tasks.state, ["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"]))
      .all()
      .map(toRow);
  }

  /** Tasks per state, from the counts the triggers keep (a state that had tasks stays, at 0). */
  countByState(): Array<{ state: string; n: number }> {
    return this.#db.select({ state: taskCounts.state, n: taskCounts.n }).from(taskCounts).all();
  }
}

// internal

function toRow(r: typeof tasks.$inferSelect): TaskRow {
  return {
    id: r.id,
    peer: r.peer,
    profile: r.profile,
    contextId: r.contextId,
    origin: r.origin,
    state: r.state as TaskState,
    task: JSON.parse(r.taskJson) as Task,
    seq: r.seq,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
