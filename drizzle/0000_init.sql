CREATE TABLE `dispatches` (
	`peer` text NOT NULL,
	`message_id` text NOT NULL,
	`task_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`peer`, `message_id`)
);
--> statement-breakpoint
CREATE TABLE `jwt_replay` (
	`jti` text NOT NULL,
	`peer` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`peer`, `jti`)
);
--> statement-breakpoint
CREATE INDEX `jwt_replay_expires` ON `jwt_replay` (`expires_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`profile` text NOT NULL,
	`peer` text NOT NULL,
	`context_id` text NOT NULL,
	`session_id` text NOT NULL,
	`data_json` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`profile`, `peer`, `context_id`)
);
--> statement-breakpoint
CREATE TABLE `task_events` (
	`task_id` text NOT NULL,
	`seq` integer NOT NULL,
	`ts` integer NOT NULL,
	`event_json` text NOT NULL,
	PRIMARY KEY(`task_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`peer` text NOT NULL,
	`profile` text NOT NULL,
	`context_id` text NOT NULL,
	`origin` text NOT NULL,
	`state` text NOT NULL,
	`task_json` text NOT NULL,
	`seq` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tasks_peer_updated` ON `tasks` (`peer`,`updated_at`);--> statement-breakpoint
CREATE INDEX `tasks_peer_context` ON `tasks` (`peer`,`context_id`);--> statement-breakpoint
CREATE INDEX `tasks_state` ON `tasks` (`state`);