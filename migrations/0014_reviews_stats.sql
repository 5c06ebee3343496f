-- Supervisor review of recorded calls and the statistics (issue 13).
-- A scorecard is a name; what it asks lives in versions. Editing a scorecard adds a version, and a
-- review points at the version it was made with, so an edit never changes a past review's total.
CREATE TABLE "scorecards" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"name" text NOT NULL,
	-- null: the company's, for every department (a director's); else one department's.
	"department_id" integer REFERENCES "departments"("id") ON DELETE CASCADE,
	"archived" boolean DEFAULT false NOT NULL,
	"created_by_id" integer REFERENCES "users"("id") ON DELETE SET NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE TABLE "scorecard_versions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"scorecard_id" integer NOT NULL REFERENCES "scorecards"("id") ON DELETE CASCADE,
	"version" integer NOT NULL,
	"criteria" jsonb NOT NULL,
	"created_by_id" integer REFERENCES "users"("id") ON DELETE SET NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scorecard_versions_scorecard_id_version_unique" UNIQUE ("scorecard_id", "version")
);--> statement-breakpoint
CREATE TABLE "call_reviews" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"call_id" bigint NOT NULL REFERENCES "calls"("id") ON DELETE CASCADE,
	"scorecard_version_id" integer NOT NULL REFERENCES "scorecard_versions"("id") ON DELETE RESTRICT,
	"reviewer_id" integer REFERENCES "users"("id") ON DELETE SET NULL,
	-- Whose call was reviewed (answered, else clicked, else the client's owner), fixed at review time.
	"manager_id" integer REFERENCES "users"("id") ON DELETE SET NULL,
	"answers" jsonb NOT NULL,
	-- 0..100, the weighted share of the points (review-score.ts).
	"total" numeric(5, 2) NOT NULL,
	"summary" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE INDEX "call_reviews_call_id_index" ON "call_reviews" USING btree ("call_id");--> statement-breakpoint
CREATE INDEX "call_reviews_manager_id_created_at_index" ON "call_reviews" USING btree ("manager_id", "created_at") INCLUDE ("total");--> statement-breakpoint
CREATE TABLE "review_comments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"review_id" integer NOT NULL REFERENCES "call_reviews"("id") ON DELETE CASCADE,
	-- A reply: the comment it answers (one level; replies pin to no moment of their own).
	"parent_id" integer REFERENCES "review_comments"("id") ON DELETE CASCADE,
	"author_id" integer REFERENCES "users"("id") ON DELETE SET NULL,
	"at_second" numeric(8, 1),
	"to_second" numeric(8, 1),
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "review_comments_range_check" CHECK ("to_second" IS NULL OR "to_second" >= "at_second")
);--> statement-breakpoint
CREATE INDEX "review_comments_review_id_index" ON "review_comments" USING btree ("review_id");--> statement-breakpoint
SELECT history_track('scorecards');--> statement-breakpoint
SELECT history_track('scorecard_versions');--> statement-breakpoint
SELECT history_track('call_reviews');--> statement-breakpoint
SELECT history_track('review_comments');--> statement-breakpoint
-- Statistics count a call for its manager: who answered, else who clicked, else the client's owner
-- (stats/call-manager.ts). One covering index per that person and time answers a manager's or a
-- department's period from the index alone (plans in BENCHMARKS.md).
CREATE INDEX "calls_stats_manager_index" ON "calls" USING btree ((coalesce("answered_by_id", "initiated_by_id", "owner_id")), "started_at")
	INCLUDE ("direction", "disposition", "answered_at", "talk_seconds", "external_number", "answered_by_id", "initiated_by_id", "owner_id") WHERE "disposition" IS NOT NULL;--> statement-breakpoint
-- "Was this missed call returned?": outbound calls to the same number after it.
CREATE INDEX "calls_outbound_number_index" ON "calls" USING btree ("external_number", "started_at") WHERE "direction" = 'outbound';--> statement-breakpoint
CREATE INDEX "reminders_call_id_index" ON "reminders" USING btree ("call_id") WHERE "call_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deals_owner_id_created_at_index" ON "deals" USING btree ("owner_id", "created_at") INCLUDE ("status", "amount");--> statement-breakpoint
CREATE INDEX "deal_status_changes_changed_by_id_changed_at_index" ON "deal_status_changes" USING btree ("changed_by_id", "changed_at");--> statement-breakpoint
CREATE INDEX "client_notes_author_id_created_at_index" ON "client_notes" USING btree ("author_id", "created_at");
--> statement-breakpoint
-- A manager's activity timeline: the changes they made, by time.
CREATE INDEX "change_history_actor_id_at_index" ON "change_history" USING btree ("actor_id", "at") WHERE "actor_id" IS NOT NULL;
--> statement-breakpoint
-- "Amount of paid deals" reads the moments deals became contract_paid in a period.
CREATE INDEX "deal_status_changes_paid_index" ON "deal_status_changes" USING btree ("changed_at") INCLUDE ("deal_id") WHERE "to_status" = 'contract_paid';
