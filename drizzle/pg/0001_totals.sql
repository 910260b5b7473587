CREATE TABLE "budget_totals" (
	"scope" text PRIMARY KEY NOT NULL,
	"peer" text NOT NULL,
	"profile" text,
	"wnd" text NOT NULL,
	"cursor_ts" bigint NOT NULL,
	"after_id" bigint NOT NULL,
	"turns" bigint DEFAULT 0 NOT NULL,
	"tokens" double precision DEFAULT 0 NOT NULL,
	"cost" double precision DEFAULT 0 NOT NULL,
	"est_tokens" double precision,
	"est_cost" double precision
);
