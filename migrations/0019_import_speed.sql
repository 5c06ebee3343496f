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
	simple boolean;
	fields text;
	n_fields bigint;
	has_id boolean;
	has_client boolean;
	has_deal boolean;
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
		-- One jsonb_build_object over the table's columns, generated for this table: a third of the
		-- cost of to_jsonb + jsonb_each + jsonb_object_agg per row. jsonb_strip_nulls then drops
		-- the empty fields; it also recurses into values, so this path is only taken when no column
		-- can hold an object (json, jsonb, a composite or an array of them).
		SELECT bool_and(t.typtype <> 'c' AND t.typname NOT IN ('json', 'jsonb') AND coalesce(et.typtype <> 'c' AND et.typname NOT IN ('json', 'jsonb'), true)),
		       string_agg(format('%L, CASE WHEN n.%I IS NOT NULL THEN %s END', a.attname, a.attname,
		           CASE WHEN a.attname = ANY (secrets) THEN '''{"changed": true}''::jsonb' ELSE format('jsonb_build_object(''new'', to_jsonb(n.%I))', a.attname) END), ', ' ORDER BY a.attnum)
		         FILTER (WHERE a.attname <> ALL (ignored)),
		       count(*) FILTER (WHERE a.attname <> ALL (ignored)),
		       bool_or(a.attname = 'id'), bool_or(a.attname = 'client_id'), bool_or(a.attname = 'deal_id')
		  INTO simple, fields, n_fields, has_id, has_client, has_deal
		  FROM pg_attribute a
		  JOIN pg_type t ON t.oid = a.atttypid
		  LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
		 WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped;
		IF simple AND n_fields BETWEEN 1 AND 50 AND has_id THEN
			EXECUTE format(
				'INSERT INTO change_history (table_name, row_id, op, actor_id, db_user, via, client_id, deal_id, changes, import_id)'
				' SELECT %L, to_jsonb(n.id) #>> ''{}'', ''insert'', $1, session_user, $2, %s, %s, jsonb_strip_nulls(jsonb_build_object(%s)), $3 FROM new_rows n',
				TG_TABLE_NAME,
				CASE WHEN TG_TABLE_NAME = 'clients' THEN '(to_jsonb(n.id) #>> ''{}'')::integer' WHEN has_client THEN '(to_jsonb(n.client_id) #>> ''{}'')::integer' ELSE 'NULL::integer' END,
				CASE WHEN TG_TABLE_NAME = 'deals' THEN '(to_jsonb(n.id) #>> ''{}'')::integer' WHEN has_deal THEN '(to_jsonb(n.deal_id) #>> ''{}'')::integer' ELSE 'NULL::integer' END,
				fields
			) USING actor_id, channel, import_id;
			RETURN NULL;
		END IF;
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
SELECT history_track_bulk('client_lists');--> statement-breakpoint
-- Most history rows belong to no deal (an import writes 3–4 per file row, none with a deal):
-- they need no entry in the deal index. A deal's history (deal_id = $1 or = any(…)) still uses it.
DROP INDEX "change_history_deal_id_id_index";--> statement-breakpoint
CREATE INDEX "change_history_deal_id_id_index" ON "change_history" USING btree ("deal_id","id") WHERE "deal_id" IS NOT NULL;
