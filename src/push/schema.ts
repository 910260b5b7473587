import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Push notification configs per task (A2A `TaskPushNotificationConfig`). */
export const pushConfigs = sqliteTable(
  "push_configs",
  {
    taskId: text("task_id").notNull(),
    id: text("id").notNull(),
    peer: text("peer").notNull(),
    url: text("url").notNull(),
    token: text("token"),
    authScheme: text("auth_scheme"),
    authCredentials: text("auth_credentials"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.id] })],
);

/**
 * The durable outbox: one row per (event, config), written in the same transaction as the task
 * event it carries, delivered in order per task, retried with backoff, kept across restarts.
 */
export const pushOutbox = sqliteTable(
  "push_outbox",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    taskId: text("task_id").notNull(),
    configId: text("config_id").notNull(),
    url: text("url").notNull(),
    headersJson: text("headers_json").notNull(),
    bodyJson: text("body_json").notNull(),
    state: text("state").notNull(),
    attempts: integer("attempts").notNull(),
    nextAt: integer("next_at").notNull(),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("push_outbox_pending").on(t.state, t.taskId, t.seq)],
);
