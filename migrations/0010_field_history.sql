-- Field-level change history, written by PostgreSQL itself (issue 11, item 7): a trigger sees
-- every write, also one made in psql or by a script that bypasses the service. The service tells
-- the trigger who acts and through what with transaction-local settings (src/history/with-actor.ts);
-- without them the actor is only the database user, and the channel 'psql' ('system' for the
-- service's own connections).
CREATE TABLE "change_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "change_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"table_name" text NOT NULL,
	"row_id" text,
	"op" text NOT NULL,
	"actor_id" integer,
	"db_user" text NOT NULL,
	"via" text NOT NULL,
	"client_id" integer,
	"deal_id" integer,
	"changes" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE INDEX "change_history_client_id_id_index" ON "change_history" USING btree ("client_id","id");--> statement-breakpoint
CREATE INDEX "change_history_deal_id_id_index" ON "change_history" USING btree ("deal_id","id");--> statement-breakpoint
CREATE INDEX "change_history_table_name_row_id_id_index" ON "change_history" USING btree ("table_name","row_id","id");--> statement-breakpoint
-- Append-only: an edit of the history is refused even from psql (a superuser can still drop the
-- trigger; that is then a schema change, visible in the migrations and the server log).
CREATE OR REPLACE FUNCTION history_refuse_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'change_history is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;--> statement-breakpoint
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON change_history FOR EACH ROW EXECUTE FUNCTION history_refuse_edit();--> statement-breakpoint
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON change_history FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_edit();--> statement-breakpoint
-- One generic trigger function. `changes` holds {column: {old, new}} for every column that differs
-- (an insert has only `new`, a delete only `old`); TG_ARGV[0] adds columns to leave out, TG_ARGV[1]
-- columns that are secrets: for those only {changed: true} is kept, never a value.
-- client_id / deal_id are copied from the row (or its id, for clients and deals) so that a client's
-- history finds its phones, notes and deals with an index, even after they were deleted.
CREATE OR REPLACE FUNCTION history_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
	new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
	row_data jsonb := coalesce(new_row, old_row);
	-- Bumped by every call or edit: would bury the real changes.
	ignored text[] := ARRAY['updated_at', 'last_activity_at'] || coalesce(TG_ARGV[0], '{}')::text[];
	secrets text[] := ARRAY['password_hash', 'token_hash', 'secret'] || coalesce(TG_ARGV[1], '{}')::text[];
	diff jsonb := '{}';
	k text;
	actor text := nullif(current_setting('switchboard.actor_id', true), '');
	-- Unsaid: the service's own background work (reminder firing, …) connects as application
	-- 'switchboard' (src/db/client.ts); anything else is a person or script at the database.
	channel text := coalesce(
		nullif(current_setting('switchboard.via', true), ''),
		CASE WHEN current_setting('application_name', true) = 'switchboard' THEN 'system' ELSE 'psql' END
	);
BEGIN
	FOR k IN SELECT jsonb_object_keys(row_data) LOOP
		CONTINUE WHEN k = ANY (ignored);
		CONTINUE WHEN (old_row -> k) IS NOT DISTINCT FROM (new_row -> k);
		-- An insert or delete lists the fields that hold something.
		CONTINUE WHEN TG_OP <> 'UPDATE' AND row_data -> k = 'null'::jsonb;
		IF k = ANY (secrets) THEN
			diff := diff || jsonb_build_object(k, jsonb_build_object('changed', true));
		ELSIF TG_OP = 'INSERT' THEN
			diff := diff || jsonb_build_object(k, jsonb_build_object('new', new_row -> k));
		ELSIF TG_OP = 'DELETE' THEN
			diff := diff || jsonb_build_object(k, jsonb_build_object('old', old_row -> k));
		ELSE
			diff := diff || jsonb_build_object(k, jsonb_build_object('old', old_row -> k, 'new', new_row -> k));
		END IF;
	END LOOP;
	IF TG_OP = 'UPDATE' AND diff = '{}'::jsonb THEN
		RETURN NULL;
	END IF;
	INSERT INTO change_history (table_name, row_id, op, actor_id, db_user, via, client_id, deal_id, changes)
	VALUES (
		TG_TABLE_NAME,
		row_data ->> 'id',
		lower(TG_OP),
		CASE WHEN actor ~ '^[0-9]{1,9}$' THEN actor::integer END,
		session_user,
		channel,
		CASE WHEN TG_TABLE_NAME = 'clients' THEN row_data ->> 'id' ELSE row_data ->> 'client_id' END::integer,
		CASE WHEN TG_TABLE_NAME = 'deals' THEN row_data ->> 'id' ELSE row_data ->> 'deal_id' END::integer,
		diff
	);
	RETURN NULL;
END
$$;--> statement-breakpoint
-- Puts a table under history: SELECT history_track('client_contacts'); with optional columns to
-- leave out and secret columns. Running it again replaces the trigger (new arguments apply).
CREATE OR REPLACE FUNCTION history_track(target regclass, ignored text[] DEFAULT '{}', secrets text[] DEFAULT '{}') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('DROP TRIGGER IF EXISTS history ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS history_truncate ON %s', target);
	EXECUTE format(
		'CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION history_record(%L, %L)',
		target, ignored::text, secrets::text
	);
	-- TRUNCATE fires no row trigger: one row says the whole table was emptied, and by whom.
	EXECUTE format('CREATE TRIGGER history_truncate AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION history_record()', target);
END
$$;--> statement-breakpoint
-- last_contact_at is bumped by every call and note (migration 0009), like last_activity_at.
SELECT history_track('clients', '{last_contact_at}');--> statement-breakpoint
SELECT history_track('client_phones');--> statement-breakpoint
SELECT history_track('deals');--> statement-breakpoint
SELECT history_track('client_notes');--> statement-breakpoint
-- The screen's receipt (delivered_at) is not a change anybody made.
SELECT history_track('reminders', '{delivered_at}');--> statement-breakpoint
-- Presence flips many times a day and has its own audit row (user.presence).
SELECT history_track('users', '{presence,presence_changed_at}');--> statement-breakpoint
SELECT history_track('departments');--> statement-breakpoint
-- Tables of migrations 0008 and 0009. deal_status_changes is left out: it is itself an
-- append-only record of every status, and the deal's own row shows each change already.
SELECT history_track('client_contacts');--> statement-breakpoint
SELECT history_track('client_lists');--> statement-breakpoint
SELECT history_track('deal_types');--> statement-breakpoint
SELECT history_track('deal_files');
