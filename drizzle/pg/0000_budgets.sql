CREATE TABLE "budget_ledger" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"peer" text NOT NULL,
	"profile" text NOT NULL,
	"context_id" text NOT NULL,
	"task_id" text NOT NULL,
	"ts" bigint NOT NULL,
	"state" text NOT NULL,
	"tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"settled_at" bigint,
	"holder" text,
	"ref" text,
	CONSTRAINT "budget_ledger_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "budget_relays" (
	"id" text PRIMARY KEY NOT NULL,
	"relay" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "budget_resets" (
	"peer" text PRIMARY KEY NOT NULL,
	"after_id" bigint NOT NULL,
	"reset_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "budget_ledger_peer_ts" ON "budget_ledger" USING btree ("peer","ts");--> statement-breakpoint
CREATE INDEX "budget_ledger_peer_context" ON "budget_ledger" USING btree ("peer","context_id");--> statement-breakpoint
CREATE INDEX "budget_ledger_open" ON "budget_ledger" USING btree ("peer","state") WHERE "budget_ledger"."state" in ('reserved', 'started');--> statement-breakpoint
CREATE INDEX "budget_ledger_holder" ON "budget_ledger" USING btree ("holder") WHERE "budget_ledger"."holder" is not null;