import m0000 from "../../drizzle/0000_init.sql" with { type: "text" };
import m0001 from "../../drizzle/0001_budgets.sql" with { type: "text" };
import m0002 from "../../drizzle/0002_push.sql" with { type: "text" };
import m0003 from "../../drizzle/0003_retention.sql" with { type: "text" };
import m0004 from "../../drizzle/0004_sessions_updated.sql" with { type: "text" };
import m0005 from "../../drizzle/0005_task_counts.sql" with { type: "text" };

/**
 * The SQL migrations drizzle-kit generated, embedded as text so a compiled binary needs no
 * migrations folder. Append new ones here in order after `npm run db:generate`.
 */
export const MIGRATIONS: ReadonlyArray<{ tag: string; sql: string }> = [
  { tag: "0000_init", sql: m0000 },
  { tag: "0001_budgets", sql: m0001 },
  { tag: "0002_push", sql: m0002 },
  { tag: "0003_retention", sql: m0003 },
  { tag: "0004_sessions_updated", sql: m0004 },
  { tag: "0005_task_counts", sql: m0005 },
];
