CREATE TABLE `task_counts` (
	`state` text PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
-- written by hand after drizzle-kit's table: the counts of the tasks already stored, then the
-- triggers that keep them (a state change, an insert, retention's deletes)
INSERT INTO `task_counts` (`state`, `n`) SELECT `state`, count(*) FROM `tasks` GROUP BY `state`;--> statement-breakpoint
CREATE TRIGGER `task_counts_insert` AFTER INSERT ON `tasks` BEGIN
  INSERT INTO `task_counts` (`state`, `n`) VALUES (new.`state`, 1) ON CONFLICT (`state`) DO UPDATE SET `n` = `n` + 1;
END;--> statement-breakpoint
CREATE TRIGGER `task_counts_update` AFTER UPDATE OF `state` ON `tasks` WHEN old.`state` <> new.`state` BEGIN
  UPDATE `task_counts` SET `n` = `n` - 1 WHERE `state` = old.`state`;
  INSERT INTO `task_counts` (`state`, `n`) VALUES (new.`state`, 1) ON CONFLICT (`state`) DO UPDATE SET `n` = `n` + 1;
END;--> statement-breakpoint
CREATE TRIGGER `task_counts_delete` AFTER DELETE ON `tasks` BEGIN
  UPDATE `task_counts` SET `n` = `n` - 1 WHERE `state` = old.`state`;
END;
