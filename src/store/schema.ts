import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per task: the current snapshot. Every change is also an event in task_events. */
export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    peer: text("peer").notNull(),
    profile: text("profile").notNull(),
    contextId: text("context_id").notNull(),
    origin: text("origin").notNull(),
    state: text("state").notNull(),
    taskJson: text("task_json").notNull(),
    seq: integer("seq").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("tasks_peer_updated").on(t.peer, t.updatedAt),
    index("tasks_peer_context").on(t.peer, t.contextId),
    index("tasks_state").on(t.state),
    // retention: the oldest tasks first
    index("tasks_updated").on(t.updatedAt),
  ],
);

/**
 * How many tasks are in each state: kept by triggers on `tasks` (migration 0005), so the
 * `a2a_relay_tasks{state}` gauge reads a handful of rows instead of every task at each scrape.
 */
export const taskCounts = sqliteTable("task_counts", {
  state: text("state").primaryKey(),
  n: integer("n").notNull(),
});

/** The task event log: one row per change, numbered per task (SSE `id:`). */
export const taskEvents = sqliteTable(
  "task_events",
  {
    taskId: text("task_id").notNull(),
    seq: integer("seq").notNull(),
    ts: integer("ts").notNull(),
    eventJson: text("event_json").notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.seq] })],
);

/** Idempotent dispatch: which task a (peer, messageId) created or continued. */
export const dispatches = sqliteTable(
  "dispatches",
  {
    peer: text("peer").notNull(),
    messageId: text("message_id").notNull(),
    taskId: text("task_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.peer, t.messageId] }), index("dispatches_created").on(t.createdAt)],
);

/** A coding CLI's own session for one conversation (profile, peer, context), kept across restarts. */
export const sessions = sqliteTable(
  "sessions",
  {
    profile: text("profile").notNull(),
    peer: text("peer").notNull(),
    contextId: text("context_id").notNull(),
    sessionId: text("session_id").notNull(),
    /** Receiver-specific state (e.g. Antigravity's last printed output). */
    dataJson: text("data_json"),
    updatedAt: integer("updated_at").notNull(),
  },
  // updated_at: retention finds idle conversations without reading every one
  (t) => [
    primaryKey({ columns: [t.profile, t.peer, t.contextId] }),
    index("sessions_updated").on(t.updatedAt),
  ],
);

/** JWT ids already accepted, remembered until the token expires (replay protection). */
export const jwtReplay = sqliteTable(
  "jwt_replay",
  {
    jti: text("jti").notNull(),
    peer: text("peer").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.peer, t.jti] }), index("jwt_replay_expires").on(t.expiresAt)],
);

/**
 * Budget ledger: one row per admitted turn. `state` reserved → started → settled, or refunded
 * (the turn never ran). A turn counts unless refunded; tokens and cost are filled in at settle.
 */
export const budgetLedger = sqliteTable(
  "budget_ledger",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    peer: text("peer").notNull(),
    profile: text("profile").notNull(),
    contextId: text("context_id").notNull(),
    taskId: text("task_id").notNull(),
    ts: integer("ts").notNull(),
    state: text("state").notNull(),
    tokens: integer("tokens").notNull().default(0),
    costUsd: real("cost_usd").notNull().default(0),
    settledAt: integer("settled_at"),
  },
  (t) => [
    index("budget_ledger_peer_ts").on(t.peer, t.ts, t.state, t.tokens, t.costUsd),
    index("budget_ledger_peer_context").on(t.peer, t.contextId),
  ],
);

/** `budget reset PEER`: ledger rows up to `after_id` no longer count for this peer. */
export const budgetResets = sqliteTable("budget_resets", {
  peer: text("peer").primaryKey(),
  afterId: integer("after_id").notNull(),
  resetAt: integer("reset_at").notNull(),
});

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
    /** 1: deliver only the settled task once (a brief's `reply_to`), not every event. */
    finalOnly: integer("final_only").notNull().default(0),
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
  (t) => [index("push_outbox_pending").on(t.state, t.taskId, t.seq), index("push_outbox_task").on(t.taskId)],
);
