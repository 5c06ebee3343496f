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
-- How far each deal got: its statuses straight from the index, no table read per deal.
CREATE INDEX "deal_status_changes_deal_id_to_status_index" ON "deal_status_changes" USING btree ("deal_id") INCLUDE ("to_status");--> statement-breakpoint
CREATE INDEX "deal_status_changes_changed_by_id_changed_at_index" ON "deal_status_changes" USING btree ("changed_by_id", "changed_at");--> statement-breakpoint
CREATE INDEX "client_notes_author_id_created_at_index" ON "client_notes" USING btree ("author_id", "created_at");
--> statement-breakpoint
-- A manager's activity timeline: the changes they made, by time.
CREATE INDEX "change_history_actor_id_at_index" ON "change_history" USING btree ("actor_id", "at") WHERE "actor_id" IS NOT NULL;
--> statement-breakpoint
-- "Amount of paid deals" reads the moments deals became contract_paid in a period.
CREATE INDEX "deal_status_changes_paid_index" ON "deal_status_changes" USING btree ("changed_at") INCLUDE ("deal_id") WHERE "to_status" = 'contract_paid';--> statement-breakpoint
-- The same for a few people, deal by deal (the one above, probed per deal, reads the whole period each time).
CREATE INDEX "deal_status_changes_paid_deal_index" ON "deal_status_changes" USING btree ("deal_id", "changed_at") WHERE "to_status" = 'contract_paid';
--> statement-breakpoint
-- The call figures per person and local day, kept current as calls end (a trigger on calls): a
-- year of a whole company is a few hundred thousand rows here instead of millions of calls. The
-- day is the call's start in the person's department zone at the time the call ended; after a
-- department's zone changes, SELECT call_stats_rebuild() recounts everything.
CREATE TABLE "call_stats_daily" (
	"user_id" integer NOT NULL,
	"day" date NOT NULL,
	"inbound" integer DEFAULT 0 NOT NULL,
	"outbound" integer DEFAULT 0 NOT NULL,
	"answered" integer DEFAULT 0 NOT NULL,
	"missed" integer DEFAULT 0 NOT NULL,
	"answer_seconds_sum" double precision DEFAULT 0 NOT NULL,
	"answer_count" integer DEFAULT 0 NOT NULL,
	"talk_total" bigint DEFAULT 0 NOT NULL,
	"talk_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "call_stats_daily_pkey" PRIMARY KEY ("user_id", "day")
);--> statement-breakpoint
-- A department's or the company's period reads its days from here alone (an index-only scan).
CREATE INDEX "call_stats_daily_day_index" ON "call_stats_daily" USING btree ("day", "user_id")
	INCLUDE ("inbound", "outbound", "answered", "missed", "answer_seconds_sum", "answer_count", "talk_total", "talk_count");--> statement-breakpoint
-- Missed inbound calls with the moment they were first called back (an outbound call to the same
-- external number that started after them, whatever its result), kept by the same trigger: the
-- figures "missed and not called back" and "called back within N hours" read this, not the calls.
CREATE TABLE "missed_calls" (
	"call_id" bigint PRIMARY KEY REFERENCES "calls"("id") ON DELETE CASCADE,
	"user_id" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"external_number" text,
	"returned_at" timestamp with time zone
);--> statement-breakpoint
CREATE INDEX "missed_calls_user_id_started_at_index" ON "missed_calls" USING btree ("user_id", "started_at") INCLUDE ("returned_at");--> statement-breakpoint
CREATE INDEX "missed_calls_external_number_started_at_index" ON "missed_calls" USING btree ("external_number", "started_at") WHERE "external_number" IS NOT NULL;--> statement-breakpoint
-- A missed call is (re)written with its first return so far; an outbound call returns every
-- earlier missed call from its number that had no earlier return. (Deleting an outbound call
-- does not un-return; call_stats_rebuild() recounts.)
CREATE OR REPLACE FUNCTION call_stats_missed(c calls, op text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	person integer := coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id);
BEGIN
	IF c.direction = 'inbound' AND c.disposition IN ('missed', 'abandoned', 'busy') AND person IS NOT NULL THEN
		INSERT INTO missed_calls (call_id, user_id, started_at, external_number, returned_at)
		VALUES (c.id, person, c.started_at, c.external_number, (
			SELECT min(o.started_at) FROM calls o
			WHERE o.direction = 'outbound' AND o.external_number = c.external_number AND o.started_at > c.started_at))
		ON CONFLICT (call_id) DO UPDATE SET user_id = excluded.user_id, started_at = excluded.started_at,
			external_number = excluded.external_number, returned_at = excluded.returned_at;
	ELSIF op = 'UPDATE' THEN
		DELETE FROM missed_calls WHERE call_id = c.id;
	END IF;
	IF c.direction = 'outbound' AND c.external_number IS NOT NULL THEN
		UPDATE missed_calls SET returned_at = c.started_at
		WHERE external_number = c.external_number AND started_at < c.started_at AND (returned_at IS NULL OR returned_at > c.started_at);
	END IF;
END
$$;--> statement-breakpoint
-- One call's share of its day, with the sign: +1 when it ends, -1 when an ended call changes
-- (then +1 again with its new values) or is deleted. Live calls and internal calls count nowhere.
CREATE OR REPLACE FUNCTION call_stats_apply(c calls, sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	person integer := coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id);
	zone text;
	is_answered boolean := c.disposition = 'answered';
	answered_inbound boolean := c.direction = 'inbound' AND c.disposition = 'answered';
BEGIN
	IF c.disposition IS NULL OR c.direction = 'internal' OR person IS NULL THEN
		RETURN;
	END IF;
	SELECT coalesce(d.time_zone, 'Europe/Moscow') INTO zone FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = person;
	INSERT INTO call_stats_daily AS s (user_id, day, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
	VALUES (
		person,
		(c.started_at AT TIME ZONE coalesce(zone, 'Europe/Moscow'))::date,
		sign * (c.direction = 'inbound')::int,
		sign * (c.direction = 'outbound')::int,
		sign * answered_inbound::int,
		sign * (c.direction = 'inbound' AND c.disposition IN ('missed', 'abandoned', 'busy'))::int,
		sign * CASE WHEN answered_inbound AND c.answered_at IS NOT NULL THEN extract(epoch FROM c.answered_at - c.started_at) ELSE 0 END,
		sign * (answered_inbound AND c.answered_at IS NOT NULL)::int,
		sign * CASE WHEN is_answered THEN coalesce(c.talk_seconds, 0) ELSE 0 END,
		sign * (is_answered AND c.talk_seconds IS NOT NULL)::int
	)
	ON CONFLICT (user_id, day) DO UPDATE SET
		inbound = s.inbound + excluded.inbound,
		outbound = s.outbound + excluded.outbound,
		answered = s.answered + excluded.answered,
		missed = s.missed + excluded.missed,
		answer_seconds_sum = s.answer_seconds_sum + excluded.answer_seconds_sum,
		answer_count = s.answer_count + excluded.answer_count,
		talk_total = s.talk_total + excluded.talk_total,
		talk_count = s.talk_count + excluded.talk_count;
END
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION call_stats_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM call_stats_apply(OLD, -1);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		PERFORM call_stats_apply(NEW, 1);
		PERFORM call_stats_missed(NEW, TG_OP);
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER call_stats_insert_delete AFTER INSERT OR DELETE ON calls FOR EACH ROW EXECUTE FUNCTION call_stats_track();--> statement-breakpoint
-- A live call is updated many times (legs, ringing, transfers): only a change of what the figures
-- read reaches the function, and while the call is live it returns at once.
CREATE TRIGGER call_stats_update AFTER UPDATE ON calls FOR EACH ROW
	WHEN (OLD.disposition IS DISTINCT FROM NEW.disposition OR OLD.direction IS DISTINCT FROM NEW.direction
		OR OLD.answered_by_id IS DISTINCT FROM NEW.answered_by_id OR OLD.initiated_by_id IS DISTINCT FROM NEW.initiated_by_id
		OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.started_at IS DISTINCT FROM NEW.started_at
		OR OLD.answered_at IS DISTINCT FROM NEW.answered_at OR OLD.talk_seconds IS DISTINCT FROM NEW.talk_seconds
		OR OLD.external_number IS DISTINCT FROM NEW.external_number)
	EXECUTE FUNCTION call_stats_track();--> statement-breakpoint
-- Recounts the rollup from the calls (this migration, a bulk load with triggers off, a zone change).
CREATE OR REPLACE FUNCTION call_stats_rebuild() RETURNS void LANGUAGE sql AS $$
	DELETE FROM call_stats_daily;
	INSERT INTO call_stats_daily (user_id, day, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
	SELECT p, (c.started_at AT TIME ZONE coalesce(d.time_zone, 'Europe/Moscow'))::date,
		count(*) FILTER (WHERE c.direction = 'inbound'),
		count(*) FILTER (WHERE c.direction = 'outbound'),
		count(*) FILTER (WHERE c.direction = 'inbound' AND c.disposition = 'answered'),
		count(*) FILTER (WHERE c.direction = 'inbound' AND c.disposition IN ('missed', 'abandoned', 'busy')),
		coalesce(sum(extract(epoch FROM c.answered_at - c.started_at)) FILTER (WHERE c.direction = 'inbound' AND c.disposition = 'answered' AND c.answered_at IS NOT NULL), 0),
		count(*) FILTER (WHERE c.direction = 'inbound' AND c.disposition = 'answered' AND c.answered_at IS NOT NULL),
		coalesce(sum(c.talk_seconds) FILTER (WHERE c.disposition = 'answered'), 0),
		count(*) FILTER (WHERE c.disposition = 'answered' AND c.talk_seconds IS NOT NULL)
	FROM calls c
	CROSS JOIN LATERAL (SELECT coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id) AS p) m
	JOIN users u ON u.id = m.p
	LEFT JOIN departments d ON d.id = u.department_id
	WHERE c.disposition IS NOT NULL AND c.direction <> 'internal'
	GROUP BY 1, 2;
	DELETE FROM missed_calls;
	INSERT INTO missed_calls (call_id, user_id, started_at, external_number, returned_at)
	SELECT c.id, coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id), c.started_at, c.external_number, (
		SELECT min(o.started_at) FROM calls o
		WHERE o.direction = 'outbound' AND o.external_number = c.external_number AND o.started_at > c.started_at)
	FROM calls c
	WHERE c.direction = 'inbound' AND c.disposition IN ('missed', 'abandoned', 'busy') AND coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id) IS NOT NULL;
$$;--> statement-breakpoint
SELECT call_stats_rebuild();
