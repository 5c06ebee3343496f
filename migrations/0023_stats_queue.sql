-- The call rollups off the call's transaction (issue 11 item 9). Until now the trigger on calls
-- upserted call_stats_daily and call_stats_monthly inside every ending call's statement: two
-- non-HOT updates of rows that every INCLUDE index carries, a user/department lookup, and a lock
-- on the manager's day and month rows held until the call's commit flushed (concurrent calls of
-- one manager queued behind it). Now the trigger only appends the call's share, with its sign, to
-- call_stats_queue (no index, no conflict, nobody else's row), and call_stats_fold() adds the
-- queue to the rollups set-wise, once a second, from one instance (src/stats/stats-folder.ts).
-- The statistics read the rollups plus the queue's rows in the same statement
-- (src/stats/stats-query.ts), so their figures are exact whether or not the fold has run.
CREATE TABLE "call_stats_queue" (
	"user_id" integer NOT NULL,
	-- The local day is found when the row is folded or read, in the person's zone then (as the
	-- trigger did when the call ended; a zone change is recounted by call_stats_rebuild()).
	"started_at" timestamp with time zone NOT NULL,
	"inbound" integer NOT NULL,
	"outbound" integer NOT NULL,
	"answered" integer NOT NULL,
	"missed" integer NOT NULL,
	"answer_seconds_sum" double precision NOT NULL,
	"answer_count" integer NOT NULL,
	"talk_total" bigint NOT NULL,
	"talk_count" integer NOT NULL
);--> statement-breakpoint
-- missed_calls stays exact in the call's transaction (who called back depends on later calls),
-- but is touched only when it can change: the call is or was a missed inbound call of someone,
-- or it is an outbound call whose direction, number or start is new.
-- A call's share of the rollups (sign +1 when it counts, -1 when a counted call changes or goes)
-- is computed as the old call_stats_apply() did; live and internal calls, and calls of nobody,
-- count nowhere. The INSERT is written out twice rather than a function called with the row:
-- passing a row to a function costs more than the INSERT itself (bench/screenpop/call-writes.ts).
CREATE OR REPLACE FUNCTION call_stats_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' AND OLD.disposition IS NOT NULL AND OLD.direction <> 'internal' AND coalesce(OLD.answered_by_id, OLD.initiated_by_id, OLD.owner_id) IS NOT NULL THEN
		INSERT INTO call_stats_queue (user_id, started_at, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
		VALUES (coalesce(OLD.answered_by_id, OLD.initiated_by_id, OLD.owner_id), OLD.started_at,
			-(OLD.direction = 'inbound')::int,
			-(OLD.direction = 'outbound')::int,
			-(OLD.direction = 'inbound' AND OLD.disposition = 'answered')::int,
			-(OLD.direction = 'inbound' AND OLD.disposition IN ('missed', 'abandoned', 'busy'))::int,
			-CASE WHEN OLD.direction = 'inbound' AND OLD.disposition = 'answered' AND OLD.answered_at IS NOT NULL THEN extract(epoch FROM OLD.answered_at - OLD.started_at) ELSE 0 END,
			-(OLD.direction = 'inbound' AND OLD.disposition = 'answered' AND OLD.answered_at IS NOT NULL)::int,
			-CASE WHEN OLD.disposition = 'answered' THEN coalesce(OLD.talk_seconds, 0) ELSE 0 END,
			-(OLD.disposition = 'answered' AND OLD.talk_seconds IS NOT NULL)::int);
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN NULL;
	END IF;
	IF NEW.disposition IS NOT NULL AND NEW.direction <> 'internal' AND coalesce(NEW.answered_by_id, NEW.initiated_by_id, NEW.owner_id) IS NOT NULL THEN
		INSERT INTO call_stats_queue (user_id, started_at, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
		VALUES (coalesce(NEW.answered_by_id, NEW.initiated_by_id, NEW.owner_id), NEW.started_at,
			(NEW.direction = 'inbound')::int,
			(NEW.direction = 'outbound')::int,
			(NEW.direction = 'inbound' AND NEW.disposition = 'answered')::int,
			(NEW.direction = 'inbound' AND NEW.disposition IN ('missed', 'abandoned', 'busy'))::int,
			CASE WHEN NEW.direction = 'inbound' AND NEW.disposition = 'answered' AND NEW.answered_at IS NOT NULL THEN extract(epoch FROM NEW.answered_at - NEW.started_at) ELSE 0 END,
			(NEW.direction = 'inbound' AND NEW.disposition = 'answered' AND NEW.answered_at IS NOT NULL)::int,
			CASE WHEN NEW.disposition = 'answered' THEN coalesce(NEW.talk_seconds, 0) ELSE 0 END,
			(NEW.disposition = 'answered' AND NEW.talk_seconds IS NOT NULL)::int);
	END IF;
	IF (NEW.direction = 'inbound' AND NEW.disposition IN ('missed', 'abandoned', 'busy') AND coalesce(NEW.answered_by_id, NEW.initiated_by_id, NEW.owner_id) IS NOT NULL)
		OR (TG_OP = 'UPDATE' AND OLD.direction = 'inbound' AND OLD.disposition IN ('missed', 'abandoned', 'busy') AND coalesce(OLD.answered_by_id, OLD.initiated_by_id, OLD.owner_id) IS NOT NULL)
		OR (NEW.direction = 'outbound' AND NEW.external_number IS NOT NULL
			AND (TG_OP = 'INSERT' OR (OLD.direction, OLD.external_number, OLD.started_at) IS DISTINCT FROM (NEW.direction, NEW.external_number, NEW.started_at))) THEN
		PERFORM call_stats_missed(NEW, TG_OP);
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
-- The WHEN clauses keep a live call's writes (insert, ringing, answer, legs) out of PL/pgSQL
-- altogether: only an ended call, or an outbound call that may return a missed one, gets there.
DROP TRIGGER "call_stats_insert_delete" ON "calls";--> statement-breakpoint
DROP TRIGGER "call_stats_update" ON "calls";--> statement-breakpoint
CREATE TRIGGER call_stats_insert AFTER INSERT ON calls FOR EACH ROW
	WHEN (NEW.disposition IS NOT NULL OR (NEW.direction = 'outbound' AND NEW.external_number IS NOT NULL))
	EXECUTE FUNCTION call_stats_track();--> statement-breakpoint
CREATE TRIGGER call_stats_delete AFTER DELETE ON calls FOR EACH ROW
	WHEN (OLD.disposition IS NOT NULL)
	EXECUTE FUNCTION call_stats_track();--> statement-breakpoint
CREATE TRIGGER call_stats_update AFTER UPDATE ON calls FOR EACH ROW
	WHEN ((OLD.disposition IS NOT NULL OR NEW.disposition IS NOT NULL
			OR (NEW.direction = 'outbound' AND NEW.external_number IS NOT NULL))
		AND (OLD.disposition IS DISTINCT FROM NEW.disposition OR OLD.direction IS DISTINCT FROM NEW.direction
			OR OLD.answered_by_id IS DISTINCT FROM NEW.answered_by_id OR OLD.initiated_by_id IS DISTINCT FROM NEW.initiated_by_id
			OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.started_at IS DISTINCT FROM NEW.started_at
			OR OLD.answered_at IS DISTINCT FROM NEW.answered_at OR OLD.talk_seconds IS DISTINCT FROM NEW.talk_seconds
			OR OLD.external_number IS DISTINCT FROM NEW.external_number))
	EXECUTE FUNCTION call_stats_track();--> statement-breakpoint
DROP FUNCTION call_stats_apply(calls, integer);--> statement-breakpoint
-- Adds the queue to the rollups in one statement: the rows it deletes are exactly the rows it
-- adds (one snapshot), so a reader sees every call once, in the queue or in the rollups. Rows of
-- calls not yet committed stay for the next fold. One folder at a time (two instances around a
-- leader change): the other returns 0 at once instead of waiting or deadlocking on rollup rows.
-- Returns the number of queue rows folded.
CREATE OR REPLACE FUNCTION call_stats_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	folded bigint;
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtext('switchboard:call_stats_fold')) THEN
		RETURN 0;
	END IF;
	WITH q AS (DELETE FROM call_stats_queue RETURNING *),
	d AS (
		SELECT q.user_id, (q.started_at AT TIME ZONE coalesce(dep.time_zone, 'Europe/Moscow'))::date AS day, count(*) AS n,
			sum(q.inbound) AS inbound, sum(q.outbound) AS outbound, sum(q.answered) AS answered, sum(q.missed) AS missed,
			sum(q.answer_seconds_sum) AS answer_seconds_sum, sum(q.answer_count) AS answer_count,
			sum(q.talk_total) AS talk_total, sum(q.talk_count) AS talk_count
		FROM q LEFT JOIN users u ON u.id = q.user_id LEFT JOIN departments dep ON dep.id = u.department_id
		GROUP BY 1, 2
	),
	days AS (
		INSERT INTO call_stats_daily AS s (user_id, day, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
		SELECT user_id, day, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count FROM d
		ON CONFLICT (user_id, day) DO UPDATE SET
			inbound = s.inbound + excluded.inbound,
			outbound = s.outbound + excluded.outbound,
			answered = s.answered + excluded.answered,
			missed = s.missed + excluded.missed,
			answer_seconds_sum = s.answer_seconds_sum + excluded.answer_seconds_sum,
			answer_count = s.answer_count + excluded.answer_count,
			talk_total = s.talk_total + excluded.talk_total,
			talk_count = s.talk_count + excluded.talk_count
	),
	months AS (
		INSERT INTO call_stats_monthly AS s (user_id, month, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
		SELECT user_id, date_trunc('month', day)::date, sum(inbound), sum(outbound), sum(answered), sum(missed),
			sum(answer_seconds_sum), sum(answer_count), sum(talk_total), sum(talk_count)
		FROM d GROUP BY 1, 2
		ON CONFLICT (user_id, month) DO UPDATE SET
			inbound = s.inbound + excluded.inbound,
			outbound = s.outbound + excluded.outbound,
			answered = s.answered + excluded.answered,
			missed = s.missed + excluded.missed,
			answer_seconds_sum = s.answer_seconds_sum + excluded.answer_seconds_sum,
			answer_count = s.answer_count + excluded.answer_count,
			talk_total = s.talk_total + excluded.talk_total,
			talk_count = s.talk_count + excluded.talk_count
	)
	SELECT coalesce(sum(n), 0) INTO folded FROM d;
	RETURN folded;
END
$$;--> statement-breakpoint
-- The recount of 0015 under a new name; call_stats_rebuild() now also empties the queue. It holds
-- writes to calls off while it counts (SHARE lock: reads go on), so that no call is counted both
-- from the calls and from the queue, nor in neither; and the folder waits for it.
ALTER FUNCTION call_stats_rebuild() RENAME TO call_stats_recount;--> statement-breakpoint
CREATE OR REPLACE FUNCTION call_stats_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	LOCK TABLE calls IN SHARE MODE;
	PERFORM pg_advisory_xact_lock(hashtext('switchboard:call_stats_fold'));
	DELETE FROM call_stats_queue;
	PERFORM call_stats_recount();
END
$$;
