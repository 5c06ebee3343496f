-- Client import and export (issue 12). An import is a row here from upload to the end of its
-- real run: the dry run's report, the mapping, and the last file row whose batch committed, which
-- a restarted worker resumes after (the batch and this counter commit in one transaction).
CREATE TABLE "import_jobs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "import_jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"created_by" integer NOT NULL REFERENCES "users"("id") ON DELETE restrict,
	"file_name" text NOT NULL,
	"format" text NOT NULL,
	"encoding" text,
	"delimiter" text,
	"sheet" text,
	"mapping" jsonb NOT NULL,
	"default_owner_id" integer NOT NULL REFERENCES "users"("id") ON DELETE restrict,
	"status" text DEFAULT 'checked' NOT NULL,
	"rows_total" integer DEFAULT 0 NOT NULL,
	"last_row" integer DEFAULT 0 NOT NULL,
	"rows_done" integer DEFAULT 0 NOT NULL,
	"created_count" integer DEFAULT 0 NOT NULL,
	"updated_count" integer DEFAULT 0 NOT NULL,
	"unchanged_count" integer DEFAULT 0 NOT NULL,
	"rejected_count" integer DEFAULT 0 NOT NULL,
	"report" jsonb,
	"error" text,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "import_jobs_status_check" CHECK ("status" IN ('checked', 'queued', 'running', 'done', 'failed', 'cancelled')),
	CONSTRAINT "import_jobs_format_check" CHECK ("format" IN ('csv', 'xlsx'))
);--> statement-breakpoint
CREATE INDEX "import_jobs_created_by_index" ON "import_jobs" USING btree ("created_by");--> statement-breakpoint
-- Which import made a change: the history says "import #N by <user>" (actor_id is the user).
ALTER TABLE "change_history" ADD COLUMN "import_id" integer;--> statement-breakpoint
CREATE INDEX "change_history_import_id_index" ON "change_history" USING btree ("import_id") WHERE "import_id" IS NOT NULL;--> statement-breakpoint
-- The trigger of migration 0010, reading one more transaction-local setting.
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
	-- Set by an import's batches (withImport in src/import/real-run.ts): "import #N by <user>".
	import_run text := nullif(current_setting('switchboard.import_id', true), '');
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
	INSERT INTO change_history (table_name, row_id, op, actor_id, db_user, via, client_id, deal_id, changes, import_id)
	VALUES (
		TG_TABLE_NAME,
		row_data ->> 'id',
		lower(TG_OP),
		CASE WHEN actor ~ '^[0-9]{1,9}$' THEN actor::integer END,
		session_user,
		channel,
		CASE WHEN TG_TABLE_NAME = 'clients' THEN row_data ->> 'id' ELSE row_data ->> 'client_id' END::integer,
		CASE WHEN TG_TABLE_NAME = 'deals' THEN row_data ->> 'id' ELSE row_data ->> 'deal_id' END::integer,
		diff,
		CASE WHEN import_run ~ '^[0-9]{1,9}$' THEN import_run::integer END
	);
	RETURN NULL;
END
$$;
