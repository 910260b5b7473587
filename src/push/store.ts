import { and, asc, eq, sql } from "drizzle-orm";
import { isSettled, isUserMessageEvent, type StreamResponse, type Task } from "../a2a/types.ts";
import type { Drizzle } from "../store/db.ts";
import { pushConfigs, pushOutbox } from "../store/schema.ts";

export interface PushConfig {
  taskId: string;
  id: string;
  /** An http(s) URL, or `relay:<profile>` (a brief's reply_to: a new local turn on that profile). */
  url: string;
  /** Deliver only the settled task, once (a brief's `reply_to`). */
  finalOnly?: boolean;
  token?: string | undefined;
  authentication?: { scheme: string; credentials?: string | undefined } | undefined;
}

export type OutboxRow = typeof pushOutbox.$inferSelect;

/**
 * Push configs and the outbox. Writes are synchronous statements for the group-commit writer.
 * Which tasks have configs is cached in memory, so recording an event of a task without push
 * costs nothing.
 */
export class PushStore {
  readonly #db: Drizzle;
  readonly #withPush = new Set<string>();

  constructor(db: Drizzle) {
    this.#db = db;
    for (const r of db.selectDistinct({ taskId: pushConfigs.taskId }).from(pushConfigs).all())
      this.#withPush.add(r.taskId);
  }

  put(peer: string, c: PushConfig, now: number): void {
    const row = {
      taskId: c.taskId,
      id: c.id,
      peer,
      url: c.url,
      token: c.token ?? null,
      authScheme: c.authentication?.scheme ?? null,
      authCredentials: c.authentication?.credentials ?? null,
      finalOnly: c.finalOnly ? 1 : 0,
      createdAt: now,
    };
    this.#db
      .insert(pushConfigs)
      .values(row)
      .onConflictDoUpdate({ target: [pushConfigs.taskId, pushConfigs.id], set: row })
      .run();
    this.#withPush.add(c.taskId);
  }

  list(taskId: string): PushConfig[] {
    return this.#db.select().from(pushConfigs).where(eq(pushConfigs.taskId, taskId)).all().map(toConfig);
  }

  get(taskId: string, id: string): PushConfig | undefined {
    const r = this.#db
      .select()
      .from(pushConfigs)
      .where(and(eq(pushConfigs.taskId, taskId), eq(pushConfigs.id, id)))
      .get();
    return r ? toConfig(r) : undefined;
  }

  /** The peer that registered a config (the owner of its task). */
  peerOf(taskId: string, id: string): string | undefined {
    return this.#db
      .select({ peer: pushConfigs.peer })
      .from(pushConfigs)
      .where(and(eq(pushConfigs.taskId, taskId), eq(pushConfigs.id, id)))
      .get()?.peer;
  }

  delete(taskId: string, id: string): boolean {
    const existed = this.get(taskId, id) !== undefined;
    this.#db
      .delete(pushConfigs)
      .where(and(eq(pushConfigs.taskId, taskId), eq(pushConfigs.id, id)))
      .run();
    if (this.list(taskId).length === 0) this.#withPush.delete(taskId);
    return existed;
  }

  /** Inside the transaction that records `event`: queue it for every config of its task. */
  enqueue(taskId: string, event: StreamResponse, task: Task, now: number): number {
    if (!this.#withPush.has(taskId) || isUserMessageEvent(event)) return 0;
    const settled = "statusUpdate" in event && isSettled(event.statusUpdate.status.state);
    const configs = this.list(taskId).filter((c) => !c.finalOnly || settled);
    const body = JSON.stringify(event);
    const final = JSON.stringify({ task });
    for (const c of configs) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (c.authentication) {
        headers.authorization = `${c.authentication.scheme} ${c.authentication.credentials ?? ""}`.trim();
      } else if (c.token) headers["x-a2a-notification-token"] = c.token;
      this.#db
        .insert(pushOutbox)
        .values({
          taskId,
          configId: c.id,
          url: c.url,
          headersJson: JSON.stringify(headers),
          bodyJson: c.finalOnly ? final : body,
          state: "pending",
          attempts: 0,
          nextAt: now,
          createdAt: now,
          updatedAt: now,
        })
        .run();
    }
    return configs.length;
  }

  /** The oldest pending delivery of each task (deliveries are in order per task). */
  heads(limit: number): OutboxRow[] {
    return this.#db
      .select()
      .from(pushOutbox)
      .where(
        sql`${pushOutbox.seq} IN (SELECT min(seq) FROM push_outbox WHERE state = 'pending' GROUP BY task_id, config_id)`,
      )
      .orderBy(asc(pushOutbox.nextAt))
      .limit(limit)
      .all();
  }

  markDelivered(seq: number, now: number): void {
    this.#db
      .update(pushOutbox)
      .set({ state: "delivered", updatedAt: now, lastError: null })
      .where(eq(pushOutbox.seq, seq))
      .run();
  }

  markRetry(seq: number, attempts: number, nextAt: number, error: string, now: number): void {
    this.#db
      .update(pushOutbox)
      .set({ attempts, nextAt, lastError: error, updatedAt: now })
      .where(eq(pushOutbox.seq, seq))
      .run();
  }

  markFailed(seq: number, attempts: number, error: string, now: number): void {
    this.#db
      .update(pushOutbox)
      .set({ state: "failed", attempts, lastError: error, updatedAt: now })
      .where(eq(pushOutbox.seq, seq))
      .run();
  }

  /** For /admin/push: recent deliveries, newest first, without headers (they hold tokens). */
  recent(limit: number) {
    return this.#db
      .select({
        seq: pushOutbox.seq,
        taskId: pushOutbox.taskId,
        configId: pushOutbox.configId,
        url: pushOutbox.url,
        state: pushOutbox.state,
        attempts: pushOutbox.attempts,
        lastError: pushOutbox.lastError,
        updatedAt: pushOutbox.updatedAt,
      })
      .from(pushOutbox)
      .orderBy(sql`${pushOutbox.seq} DESC`)
      .limit(limit)
      .all();
  }
}

// internal

function toConfig(r: typeof pushConfigs.$inferSelect): PushConfig {
  return {
    taskId: r.taskId,
    id: r.id,
    url: r.url,
    ...(r.token ? { token: r.token } : {}),
    ...(r.finalOnly ? { finalOnly: true } : {}),
    ...(r.authScheme
      ? {
          authentication: {
            scheme: r.authScheme,
            ...(r.authCredentials ? { credentials: r.authCredentials } : {}),
          },
        }
      : {}),
  };
}
