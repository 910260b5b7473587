CREATE TABLE `budget_ledger` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`peer` text NOT NULL,
	`profile` text NOT NULL,
	`context_id` text NOT NULL,
	`task_id` text NOT NULL,
	`ts` integer NOT NULL,
	`state` text NOT NULL,
	`tokens` integer DEFAULT 0 NOT NULL,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`settled_at` integer
);
--> statement-breakpoint
CREATE INDEX `budget_ledger_peer_ts` ON `budget_ledger` (`peer`,`ts`,`state`,`tokens`,`cost_usd`);--> statement-breakpoint
CREATE INDEX `budget_ledger_peer_context` ON `budget_ledger` (`peer`,`context_id`);--> statement-breakpoint
CREATE TABLE `budget_resets` (
	`peer` text PRIMARY KEY NOT NULL,
	`after_id` integer NOT NULL,
	`reset_at` integer NOT NULL
);
