CREATE INDEX `dispatches_created` ON `dispatches` (`created_at`);--> statement-breakpoint
CREATE INDEX `push_outbox_task` ON `push_outbox` (`task_id`);--> statement-breakpoint
CREATE INDEX `tasks_updated` ON `tasks` (`updated_at`);