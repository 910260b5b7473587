CREATE TABLE `push_configs` (
	`task_id` text NOT NULL,
	`id` text NOT NULL,
	`peer` text NOT NULL,
	`url` text NOT NULL,
	`token` text,
	`auth_scheme` text,
	`auth_credentials` text,
	`final_only` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`task_id`, `id`)
);
--> statement-breakpoint
CREATE TABLE `push_outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`config_id` text NOT NULL,
	`url` text NOT NULL,
	`headers_json` text NOT NULL,
	`body_json` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_at` integer NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `push_outbox_pending` ON `push_outbox` (`state`,`task_id`,`seq`);