-- Statistics at company scale (issue 13, bench/stats): a company's year read 530,000 person-days
-- of call_stats_daily, and "deals created and how far each got" probed deal_status_changes once
-- per deal. Two things kept by triggers instead: the call figures per person and local month, and
-- per deal its owner, creation, status and the furthest pipeline stage it reached.
--
-- A deal's pipeline rank: the index in PIPELINE (src/stats/stats-figures.ts; a test checks they
-- agree), -1 for a refusal (not a stage).
CREATE OR REPLACE FUNCTION deal_stage_rank(status text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE status WHEN 'new' THEN 0 WHEN 'collecting_info' THEN 1 WHEN 'proposal_sent' THEN 2 WHEN 'interest' THEN 3
		WHEN 'contract_approval' THEN 4 WHEN 'contract_signed' THEN 5 WHEN 'contract_paid' THEN 6 WHEN 'in_progress' THEN 7
		WHEN 'completed' THEN 8 ELSE -1 END
$$;--> statement-breakpoint
-- The same sums as call_stats_daily, per person and local month (the first day of the month): the
-- month of a call is the month of its day there, so whole months read here equal their days.
CREATE TABLE "call_stats_monthly" (
	"user_id" integer NOT NULL,
	"month" date NOT NULL,
	"inbound" integer DEFAULT 0 NOT NULL,
	"outbound" integer DEFAULT 0 NOT NULL,
	"answered" integer DEFAULT 0 NOT NULL,
	"missed" integer DEFAULT 0 NOT NULL,
	"answer_seconds_sum" double precision DEFAULT 0 NOT NULL,
	"answer_count" integer DEFAULT 0 NOT NULL,
	"talk_total" bigint DEFAULT 0 NOT NULL,
	"talk_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "call_stats_monthly_pkey" PRIMARY KEY ("user_id", "month")
);--> statement-breakpoint
CREATE INDEX "call_stats_monthly_month_index" ON "call_stats_monthly" USING btree ("month", "user_id")
	INCLUDE ("inbound", "outbound", "answered", "missed", "answer_seconds_sum", "answer_count", "talk_total", "talk_count");--> statement-breakpoint
-- Per deal what "deals created" reads: owner, creation, current status and the furthest pipeline
-- stage it ever reached (its own status or any it went through), kept by triggers on deals and
-- deal_status_changes. One index read per person and period, no probe per deal.
CREATE TABLE "deal_stats" (
	"deal_id" integer PRIMARY KEY REFERENCES "deals"("id") ON DELETE CASCADE,
	"owner_id" integer,
	"created_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"reached" smallint NOT NULL
);--> statement-breakpoint
CREATE INDEX "deal_stats_owner_id_created_at_index" ON "deal_stats" USING btree ("owner_id", "created_at") INCLUDE ("status", "reached");--> statement-breakpoint
-- Every moment a deal became contract_paid, with the deal's owner and amount as they are now (kept
-- by the same triggers): "deals paid" of a department or the company reads each person's payments
-- from one index instead of the period's payments and then every paid deal's row.
CREATE TABLE "deal_payments" (
	"change_id" bigint PRIMARY KEY REFERENCES "deal_status_changes"("id") ON DELETE CASCADE,
	"deal_id" integer NOT NULL,
	"owner_id" integer,
	"paid_at" timestamp with time zone NOT NULL,
	"amount" numeric(14, 2)
);--> statement-breakpoint
CREATE INDEX "deal_payments_owner_id_paid_at_index" ON "deal_payments" USING btree ("owner_id", "paid_at") INCLUDE ("deal_id", "amount");--> statement-breakpoint
CREATE INDEX "deal_payments_deal_id_index" ON "deal_payments" USING btree ("deal_id");--> statement-breakpoint
CREATE OR REPLACE FUNCTION deal_stats_reached(deal integer, status text) RETURNS smallint LANGUAGE sql STABLE AS $$
	SELECT greatest(deal_stage_rank(status), coalesce((SELECT max(deal_stage_rank(s.to_status)) FROM deal_status_changes s WHERE s.deal_id = deal), -1))::smallint
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION deal_stats_track_deal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (OLD.owner_id, OLD.amount) IS DISTINCT FROM (NEW.owner_id, NEW.amount) THEN
		UPDATE deal_payments SET owner_id = NEW.owner_id, amount = NEW.amount WHERE deal_id = NEW.id;
	END IF;
	IF TG_OP = 'UPDATE' AND (OLD.owner_id, OLD.created_at, OLD.status) IS NOT DISTINCT FROM (NEW.owner_id, NEW.created_at, NEW.status) THEN
		RETURN NULL;
	END IF;
	INSERT INTO deal_stats (deal_id, owner_id, created_at, status, reached)
	VALUES (NEW.id, NEW.owner_id, NEW.created_at, NEW.status, deal_stats_reached(NEW.id, NEW.status))
	ON CONFLICT (deal_id) DO UPDATE SET owner_id = excluded.owner_id, created_at = excluded.created_at,
		status = excluded.status, reached = excluded.reached;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER deal_stats_deal AFTER INSERT OR UPDATE OF owner_id, created_at, status, amount ON deals FOR EACH ROW EXECUTE FUNCTION deal_stats_track_deal();--> statement-breakpoint
CREATE OR REPLACE FUNCTION deal_stats_track_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		DELETE FROM deal_payments WHERE change_id = OLD.id;
	END IF;
	IF TG_OP <> 'DELETE' AND NEW.to_status = 'contract_paid' THEN
		INSERT INTO deal_payments (change_id, deal_id, owner_id, paid_at, amount)
		SELECT NEW.id, d.id, d.owner_id, NEW.changed_at, d.amount FROM deals d WHERE d.id = NEW.deal_id;
	END IF;
	IF TG_OP <> 'INSERT' THEN
		UPDATE deal_stats SET reached = deal_stats_reached(deal_id, status) WHERE deal_id = OLD.deal_id;
	END IF;
	IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.deal_id IS DISTINCT FROM OLD.deal_id) THEN
		UPDATE deal_stats SET reached = deal_stats_reached(deal_id, status) WHERE deal_id = NEW.deal_id;
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER deal_stats_change AFTER INSERT OR UPDATE OR DELETE ON deal_status_changes FOR EACH ROW EXECUTE FUNCTION deal_stats_track_change();--> statement-breakpoint
-- Deals created per owner and local month (the owner's department zone when the row was written,
-- as for calls): s_<status> counts the deals now at that status, r_<i> those that reached
-- pipeline stage i or further (PIPELINE index, as "reached" in the figures). Kept by a trigger on
-- deal_stats; whole months of a long period are read here (a company's year: ~24,000 rows
-- instead of 200,000 deals). Plain columns, not arrays: a sum over a column is cheap.
CREATE TABLE "deal_stats_monthly" (
	"user_id" integer NOT NULL,
	"month" date NOT NULL,
	"deals" integer DEFAULT 0 NOT NULL,
	"s_new" integer DEFAULT 0 NOT NULL,
	"s_collecting_info" integer DEFAULT 0 NOT NULL,
	"s_proposal_sent" integer DEFAULT 0 NOT NULL,
	"s_interest" integer DEFAULT 0 NOT NULL,
	"s_contract_approval" integer DEFAULT 0 NOT NULL,
	"s_contract_signed" integer DEFAULT 0 NOT NULL,
	"s_contract_paid" integer DEFAULT 0 NOT NULL,
	"s_in_progress" integer DEFAULT 0 NOT NULL,
	"s_completed" integer DEFAULT 0 NOT NULL,
	"s_refused_not_needed" integer DEFAULT 0 NOT NULL,
	"s_refused_self" integer DEFAULT 0 NOT NULL,
	"s_refused_price" integer DEFAULT 0 NOT NULL,
	"s_refused_call_back" integer DEFAULT 0 NOT NULL,
	"s_refused_no_money" integer DEFAULT 0 NOT NULL,
	"r_0" integer DEFAULT 0 NOT NULL,
	"r_1" integer DEFAULT 0 NOT NULL,
	"r_2" integer DEFAULT 0 NOT NULL,
	"r_3" integer DEFAULT 0 NOT NULL,
	"r_4" integer DEFAULT 0 NOT NULL,
	"r_5" integer DEFAULT 0 NOT NULL,
	"r_6" integer DEFAULT 0 NOT NULL,
	"r_7" integer DEFAULT 0 NOT NULL,
	"r_8" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "deal_stats_monthly_pkey" PRIMARY KEY ("user_id", "month")
);--> statement-breakpoint
CREATE OR REPLACE FUNCTION deal_stats_apply(d deal_stats, sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	zone text;
	m date;
	sets text := format('%I = %I + $3', 's_' || d.status, 's_' || d.status);
BEGIN
	IF d.owner_id IS NULL THEN
		RETURN;
	END IF;
	SELECT coalesce(dep.time_zone, 'Europe/Moscow') INTO zone FROM users u LEFT JOIN departments dep ON dep.id = u.department_id WHERE u.id = d.owner_id;
	m := date_trunc('month', d.created_at AT TIME ZONE coalesce(zone, 'Europe/Moscow'))::date;
	FOR i IN 0..d.reached LOOP
		sets := sets || format(', r_%s = r_%s + $3', i, i);
	END LOOP;
	INSERT INTO deal_stats_monthly (user_id, month) VALUES (d.owner_id, m) ON CONFLICT (user_id, month) DO NOTHING;
	EXECUTE 'UPDATE deal_stats_monthly SET deals = deals + $3, ' || sets || ' WHERE user_id = $1 AND month = $2' USING d.owner_id, m, sign;
END
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION deal_stats_track_month() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM deal_stats_apply(OLD, -1);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		PERFORM deal_stats_apply(NEW, 1);
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER deal_stats_month AFTER INSERT OR UPDATE OR DELETE ON deal_stats FOR EACH ROW EXECUTE FUNCTION deal_stats_track_month();--> statement-breakpoint
-- The call trigger's function now writes the month too.
CREATE OR REPLACE FUNCTION call_stats_apply(c calls, sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	person integer := coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id);
	zone text;
	local_day date;
	is_answered boolean := c.disposition = 'answered';
	answered_inbound boolean := c.direction = 'inbound' AND c.disposition = 'answered';
	v_inbound integer;
	v_outbound integer;
	v_answered integer;
	v_missed integer;
	v_answer_seconds double precision;
	v_answer_count integer;
	v_talk_total bigint;
	v_talk_count integer;
BEGIN
	IF c.disposition IS NULL OR c.direction = 'internal' OR person IS NULL THEN
		RETURN;
	END IF;
	SELECT coalesce(d.time_zone, 'Europe/Moscow') INTO zone FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = person;
	local_day := (c.started_at AT TIME ZONE coalesce(zone, 'Europe/Moscow'))::date;
	v_inbound := sign * (c.direction = 'inbound')::int;
	v_outbound := sign * (c.direction = 'outbound')::int;
	v_answered := sign * answered_inbound::int;
	v_missed := sign * (c.direction = 'inbound' AND c.disposition IN ('missed', 'abandoned', 'busy'))::int;
	v_answer_seconds := sign * CASE WHEN answered_inbound AND c.answered_at IS NOT NULL THEN extract(epoch FROM c.answered_at - c.started_at) ELSE 0 END;
	v_answer_count := sign * (answered_inbound AND c.answered_at IS NOT NULL)::int;
	v_talk_total := sign * CASE WHEN is_answered THEN coalesce(c.talk_seconds, 0) ELSE 0 END;
	v_talk_count := sign * (is_answered AND c.talk_seconds IS NOT NULL)::int;
	INSERT INTO call_stats_daily AS s (user_id, day, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
	VALUES (person, local_day, v_inbound, v_outbound, v_answered, v_missed, v_answer_seconds, v_answer_count, v_talk_total, v_talk_count)
	ON CONFLICT (user_id, day) DO UPDATE SET
		inbound = s.inbound + excluded.inbound,
		outbound = s.outbound + excluded.outbound,
		answered = s.answered + excluded.answered,
		missed = s.missed + excluded.missed,
		answer_seconds_sum = s.answer_seconds_sum + excluded.answer_seconds_sum,
		answer_count = s.answer_count + excluded.answer_count,
		talk_total = s.talk_total + excluded.talk_total,
		talk_count = s.talk_count + excluded.talk_count;
	INSERT INTO call_stats_monthly AS s (user_id, month, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
	VALUES (person, date_trunc('month', local_day)::date, v_inbound, v_outbound, v_answered, v_missed, v_answer_seconds, v_answer_count, v_talk_total, v_talk_count)
	ON CONFLICT (user_id, month) DO UPDATE SET
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
-- Recounts every statistics table from its source: the days and missed calls as before (0014),
-- the months from the days, and deal_stats from deals and their status changes.
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
	DELETE FROM call_stats_monthly;
	INSERT INTO call_stats_monthly (user_id, month, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total, talk_count)
	SELECT user_id, date_trunc('month', day)::date, sum(inbound), sum(outbound), sum(answered), sum(missed),
		sum(answer_seconds_sum), sum(answer_count), sum(talk_total), sum(talk_count)
	FROM call_stats_daily GROUP BY 1, 2;
	DELETE FROM missed_calls;
	INSERT INTO missed_calls (call_id, user_id, started_at, external_number, returned_at)
	SELECT c.id, coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id), c.started_at, c.external_number, (
		SELECT min(o.started_at) FROM calls o
		WHERE o.direction = 'outbound' AND o.external_number = c.external_number AND o.started_at > c.started_at)
	FROM calls c
	WHERE c.direction = 'inbound' AND c.disposition IN ('missed', 'abandoned', 'busy') AND coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id) IS NOT NULL;
	DELETE FROM deal_payments;
	INSERT INTO deal_payments (change_id, deal_id, owner_id, paid_at, amount)
	SELECT s.id, d.id, d.owner_id, s.changed_at, d.amount FROM deal_status_changes s JOIN deals d ON d.id = s.deal_id WHERE s.to_status = 'contract_paid';
	DELETE FROM deal_stats;
	INSERT INTO deal_stats (deal_id, owner_id, created_at, status, reached)
	SELECT d.id, d.owner_id, d.created_at, d.status, greatest(deal_stage_rank(d.status), coalesce(s.top, -1))
	FROM deals d
	LEFT JOIN (SELECT deal_id, max(deal_stage_rank(to_status)) AS top FROM deal_status_changes GROUP BY deal_id) s ON s.deal_id = d.id;
	DELETE FROM deal_stats_monthly;
	INSERT INTO deal_stats_monthly (user_id, month, deals, s_new, s_collecting_info, s_proposal_sent, s_interest, s_contract_approval, s_contract_signed, s_contract_paid, s_in_progress, s_completed, s_refused_not_needed, s_refused_self, s_refused_price, s_refused_call_back, s_refused_no_money,
		r_0, r_1, r_2, r_3, r_4, r_5, r_6, r_7, r_8)
	SELECT s.owner_id, date_trunc('month', s.created_at AT TIME ZONE coalesce(dep.time_zone, 'Europe/Moscow'))::date, count(*),
		count(*) FILTER (WHERE s.status = 'new'),
		count(*) FILTER (WHERE s.status = 'collecting_info'),
		count(*) FILTER (WHERE s.status = 'proposal_sent'),
		count(*) FILTER (WHERE s.status = 'interest'),
		count(*) FILTER (WHERE s.status = 'contract_approval'),
		count(*) FILTER (WHERE s.status = 'contract_signed'),
		count(*) FILTER (WHERE s.status = 'contract_paid'),
		count(*) FILTER (WHERE s.status = 'in_progress'),
		count(*) FILTER (WHERE s.status = 'completed'),
		count(*) FILTER (WHERE s.status = 'refused_not_needed'),
		count(*) FILTER (WHERE s.status = 'refused_self'),
		count(*) FILTER (WHERE s.status = 'refused_price'),
		count(*) FILTER (WHERE s.status = 'refused_call_back'),
		count(*) FILTER (WHERE s.status = 'refused_no_money'),
		count(*) FILTER (WHERE s.reached >= 0), count(*) FILTER (WHERE s.reached >= 1), count(*) FILTER (WHERE s.reached >= 2), count(*) FILTER (WHERE s.reached >= 3), count(*) FILTER (WHERE s.reached >= 4), count(*) FILTER (WHERE s.reached >= 5), count(*) FILTER (WHERE s.reached >= 6), count(*) FILTER (WHERE s.reached >= 7), count(*) FILTER (WHERE s.reached >= 8)
	FROM deal_stats s JOIN users u ON u.id = s.owner_id LEFT JOIN departments dep ON dep.id = u.department_id
	GROUP BY 1, 2;
$$;--> statement-breakpoint
SELECT call_stats_rebuild();
