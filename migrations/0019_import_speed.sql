-- Import speed (issue 12): the history of an import's batch is written set-wise, one INSERT …
-- SELECT per statement from its transition tables, instead of one PL/pgSQL call, one to_jsonb and
-- one change_history INSERT per row. Same rows in change_history: who (actor_id, db_user), when,
-- via, import_id, and {"col": {"new": v}} for an insert, {"col": {"old": a, "new": b}} for an
-- update, {"col": {"old": v}} for a delete, {"changed": true} for a secret.
-- Only a transaction that sets switchboard.history_bulk = 'on' (withImport, src/import/real-run.ts)
-- takes this path, and only on the tables set up below: anything else, psql included, still goes
-- through the row trigger history_record() of migrations 0010/0013, unchanged.
CREATE OR REPLACE FUNCTION history_record_set() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	ignored text[] := ARRAY['updated_at', 'last_activity_at'] || coalesce(TG_ARGV[0], '{}')::text[];
	secrets text[] := ARRAY['password_hash', 'token_hash', 'secret'] || coalesce(TG_ARGV[1], '{}')::text[];
	actor text;
	import_run text;
	channel text;
	actor_id integer;
	import_id integer;
BEGIN
	IF current_setting('switchboard.history_bulk', true) IS DISTINCT FROM 'on' THEN
		RETURN NULL;
	END IF;
	actor := nullif(current_setting('switchboard.actor_id', true), '');
	import_run := nullif(current_setting('switchboard.import_id', true), '');
	channel := coalesce(
		nullif(current_setting('switchboard.via', true), ''),
		CASE WHEN current_setting('application_name', true) = 'switchboard' THEN 'system' ELSE 'psql' END
	);
	actor_id := CASE WHEN actor ~ '^[0-9]{1,9}$' THEN actor::integer END;
	import_id := CASE WHEN import_run ~ '^[0-9]{1,9}$' THEN import_run::integer END;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO change_history (table_name, row_id, op, actor_id, db_user, via, client_id, deal_id, changes, import_id)
		SELECT TG_TABLE_NAME, r.j ->> 'id', 'insert', actor_id, session_user, channel,
			CASE WHEN TG_TABLE_NAME = 'clients' THEN r.j ->> 'id' ELSE r.j ->> 'client_id' END::integer,
			CASE WHEN TG_TABLE_NAME = 'deals' THEN r.j ->> 'id' ELSE r.j ->> 'deal_id' END::integer,
			coalesce((
				SELECT jsonb_object_agg(e.key, CASE WHEN e.key = ANY (secrets) THEN jsonb_build_object('changed', true) ELSE jsonb_build_object('new', e.value) END)
				  FROM jsonb_each(r.j) e
				 WHERE e.key <> ALL (ignored) AND e.value <> 'null'::jsonb
			), '{}'::jsonb),
			import_id
		  FROM (SELECT to_jsonb(n) AS j FROM new_rows n) r;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO change_history (table_name, row_id, op, actor_id, db_user, via, client_id, deal_id, changes, import_id)
		SELECT TG_TABLE_NAME, r.j ->> 'id', 'delete', actor_id, session_user, channel,
			CASE WHEN TG_TABLE_NAME = 'clients' THEN r.j ->> 'id' ELSE r.j ->> 'client_id' END::integer,
			CASE WHEN TG_TABLE_NAME = 'deals' THEN r.j ->> 'id' ELSE r.j ->> 'deal_id' END::integer,
			coalesce((
				SELECT jsonb_object_agg(e.key, CASE WHEN e.key = ANY (secrets) THEN jsonb_build_object('changed', true) ELSE jsonb_build_object('old', e.value) END)
				  FROM jsonb_each(r.j) e
				 WHERE e.key <> ALL (ignored) AND e.value <> 'null'::jsonb
			), '{}'::jsonb),
			import_id
		  FROM (SELECT to_jsonb(o) AS j FROM old_rows o) r;
	ELSE
		-- An update: old and new rows paired by id; a row whose fields did not change has no entry.
		INSERT INTO change_history (table_name, row_id, op, actor_id, db_user, via, client_id, deal_id, changes, import_id)
		SELECT TG_TABLE_NAME, d.nj ->> 'id', 'update', actor_id, session_user, channel,
			CASE WHEN TG_TABLE_NAME = 'clients' THEN d.nj ->> 'id' ELSE d.nj ->> 'client_id' END::integer,
			CASE WHEN TG_TABLE_NAME = 'deals' THEN d.nj ->> 'id' ELSE d.nj ->> 'deal_id' END::integer,
			d.diff, import_id
		  FROM (
			SELECT n.nj, (
				SELECT jsonb_object_agg(e.key, CASE WHEN e.key = ANY (secrets) THEN jsonb_build_object('changed', true) ELSE jsonb_build_object('old', o.oj -> e.key, 'new', e.value) END)
				  FROM jsonb_each(n.nj) e
				 WHERE e.key <> ALL (ignored) AND (o.oj -> e.key) IS DISTINCT FROM e.value
			) AS diff
			  FROM (SELECT to_jsonb(x) AS oj FROM old_rows x) o
			  JOIN (SELECT to_jsonb(y) AS nj FROM new_rows y) n ON n.nj -> 'id' = o.oj -> 'id'
		  ) d
		 WHERE d.diff IS NOT NULL;
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
-- history_track of migration 0010, which now also drops the set-wise triggers: a table tracked
-- again is back on the row trigger alone (never both, which would record a change twice).
CREATE OR REPLACE FUNCTION history_track(target regclass, ignored text[] DEFAULT '{}', secrets text[] DEFAULT '{}') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('DROP TRIGGER IF EXISTS history ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS history_truncate ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS history_set_insert ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS history_set_update ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS history_set_delete ON %s', target);
	EXECUTE format(
		'CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION history_record(%L, %L)',
		target, ignored::text, secrets::text
	);
	-- TRUNCATE fires no row trigger: one row says the whole table was emptied, and by whom.
	EXECUTE format('CREATE TRIGGER history_truncate AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION history_record()', target);
END
$$;--> statement-breakpoint
-- history_track plus the set-wise path: the row trigger skips itself (its WHEN, checked without a
-- PL/pgSQL call) exactly when the statement triggers record, i.e. when history_bulk is 'on'.
CREATE OR REPLACE FUNCTION history_track_bulk(target regclass, ignored text[] DEFAULT '{}', secrets text[] DEFAULT '{}') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM history_track(target, ignored, secrets);
	EXECUTE format('DROP TRIGGER history ON %s', target);
	EXECUTE format(
		'CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW'
		' WHEN (current_setting(''switchboard.history_bulk'', true) IS DISTINCT FROM ''on'') EXECUTE FUNCTION history_record(%L, %L)',
		target, ignored::text, secrets::text
	);
	EXECUTE format(
		'CREATE TRIGGER history_set_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION history_record_set(%L, %L)',
		target, ignored::text, secrets::text
	);
	EXECUTE format(
		'CREATE TRIGGER history_set_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION history_record_set(%L, %L)',
		target, ignored::text, secrets::text
	);
	EXECUTE format(
		'CREATE TRIGGER history_set_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION history_record_set(%L, %L)',
		target, ignored::text, secrets::text
	);
END
$$;--> statement-breakpoint
-- The tables an import writes, with the arguments migration 0010 gave them.
SELECT history_track_bulk('clients', '{last_contact_at}');--> statement-breakpoint
SELECT history_track_bulk('client_phones');--> statement-breakpoint
SELECT history_track_bulk('client_contacts');--> statement-breakpoint
SELECT history_track_bulk('client_notes');--> statement-breakpoint
SELECT history_track_bulk('client_lists');
