-- Issue 11: the sales pipeline, deal types, status history, deal files, typed notes and touches.
-- The old five statuses map onto the pipeline the sales teams use (src/deals/deal-statuses.ts).
UPDATE "deals" SET "status" = CASE "status"
  WHEN 'negotiation' THEN 'collecting_info'
  WHEN 'proposal' THEN 'proposal_sent'
  WHEN 'won' THEN 'completed'
  WHEN 'lost' THEN 'refused_not_needed'
  ELSE "status" END;--> statement-breakpoint
CREATE TABLE "deal_types" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"name" text NOT NULL,
	"color" text NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deal_types_name_unique" UNIQUE("name")
);--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "currency" text DEFAULT 'RUB' NOT NULL;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "type_id" integer REFERENCES "deal_types"("id") ON DELETE restrict;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "important" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "owner_id" integer REFERENCES "users"("id") ON DELETE restrict;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "created_by_id" integer REFERENCES "users"("id") ON DELETE set null;--> statement-breakpoint
-- An existing deal is owned by whoever owns its client, as a new one is by default.
UPDATE "deals" d SET "owner_id" = c."owner_id" FROM "clients" c WHERE c."id" = d."client_id";--> statement-breakpoint
-- NOT VALID: a database that already holds a deal of a deleted client still migrates; new rows
-- are checked, and deleting a client now takes its deals (and their files' rows) with it.
ALTER TABLE "deals" ADD CONSTRAINT "deals_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE cascade NOT VALID;--> statement-breakpoint
CREATE INDEX "deals_owner_id_index" ON "deals" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "deals_type_id_index" ON "deals" USING btree ("type_id");--> statement-breakpoint
CREATE TABLE "deal_status_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"deal_id" integer NOT NULL REFERENCES "deals"("id") ON DELETE cascade,
	"from_status" text,
	"to_status" text NOT NULL,
	"changed_by_id" integer REFERENCES "users"("id") ON DELETE set null,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
CREATE INDEX "deal_status_changes_deal_id_changed_at_index" ON "deal_status_changes" USING btree ("deal_id","changed_at");--> statement-breakpoint
CREATE INDEX "deal_status_changes_changed_at_index" ON "deal_status_changes" USING btree ("changed_at");--> statement-breakpoint
-- The statistics issue counts from this table: an existing deal gets its current status as its
-- first row, dated when the deal was created.
INSERT INTO "deal_status_changes" ("deal_id", "from_status", "to_status", "changed_at") SELECT "id", NULL, "status", "created_at" FROM "deals";--> statement-breakpoint
CREATE TABLE "deal_files" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"deal_id" integer NOT NULL REFERENCES "deals"("id") ON DELETE cascade,
	"storage_key" text NOT NULL,
	"file_name" text NOT NULL,
	"content_type" text NOT NULL,
	"size" bigint NOT NULL,
	"uploaded_by_id" integer REFERENCES "users"("id") ON DELETE set null,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deal_files_storage_key_unique" UNIQUE("storage_key")
);--> statement-breakpoint
CREATE INDEX "deal_files_deal_id_index" ON "deal_files" USING btree ("deal_id");--> statement-breakpoint
ALTER TABLE "client_notes" ADD COLUMN "deal_id" integer REFERENCES "deals"("id") ON DELETE cascade;--> statement-breakpoint
ALTER TABLE "client_notes" ADD COLUMN "kind" text DEFAULT 'note' NOT NULL;--> statement-breakpoint
CREATE INDEX "client_notes_deal_id_created_at_index" ON "client_notes" USING btree ("deal_id","created_at");--> statement-breakpoint
ALTER TABLE "reminders" ADD COLUMN "deal_id" integer REFERENCES "deals"("id") ON DELETE set null;--> statement-breakpoint
CREATE INDEX "reminders_deal_id_index" ON "reminders" USING btree ("deal_id");--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "last_contact_at" timestamp with time zone;--> statement-breakpoint
-- Owned by the clients work (migration 0008); added here too so this one stands alone.
ALTER TABLE "clients" ADD COLUMN IF NOT EXISTS "next_contact_at" timestamp with time zone;--> statement-breakpoint
-- The last touch so far: the last ended call or note of each client.
UPDATE "clients" c SET "last_contact_at" = t."at" FROM (
  SELECT "client_id", max("at") AS "at" FROM (
    SELECT "client_id", "ended_at" AS "at" FROM "calls" WHERE "client_id" IS NOT NULL AND "ended_at" IS NOT NULL
    UNION ALL SELECT "client_id", "created_at" FROM "client_notes") x GROUP BY "client_id") t
WHERE t."client_id" = c."id";--> statement-breakpoint
CREATE INDEX "clients_last_contact_at_index" ON "clients" USING btree ("last_contact_at");
