-- Issue 11, item 4: requests from the company's websites. A site posts leads with a key a director
-- created; only its SHA-256 is kept (the key is high-entropy, so no slow hash is needed, and a
-- lookup by hash is one index probe). A lead keeps what the site sent; it becomes a deal at once
-- when its phone is a client's, otherwise when a curator assigns it (deals need a client, and an
-- unknown visitor has none yet).
CREATE TABLE "intake_sites" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"name" text NOT NULL,
	"department_id" integer NOT NULL REFERENCES "departments"("id") ON DELETE restrict,
	"allowed_origin" text NOT NULL,
	"key_hash" text NOT NULL,
	"key_hint" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "intake_sites_key_hash_unique" UNIQUE("key_hash")
);--> statement-breakpoint
CREATE TABLE "leads" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"site_id" integer NOT NULL REFERENCES "intake_sites"("id") ON DELETE restrict,
	"department_id" integer NOT NULL REFERENCES "departments"("id") ON DELETE restrict,
	"name" text DEFAULT '' NOT NULL,
	"phone" text,
	"phone_raw" text DEFAULT '' NOT NULL,
	"email" text,
	"message" text DEFAULT '' NOT NULL,
	"page_url" text,
	"utm" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ip" text,
	"client_id" integer REFERENCES "clients"("id") ON DELETE set null,
	"deal_id" integer REFERENCES "deals"("id") ON DELETE set null,
	"assigned_to_id" integer REFERENCES "users"("id") ON DELETE set null,
	"assigned_by_id" integer REFERENCES "users"("id") ON DELETE set null,
	"assigned_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
-- The waiting room: unassigned leads per department, counted on every curator's screen.
CREATE INDEX "leads_waiting_index" ON "leads" USING btree ("department_id","id") WHERE "assigned_at" IS NULL;--> statement-breakpoint
CREATE INDEX "leads_site_id_index" ON "leads" USING btree ("site_id");--> statement-breakpoint
SELECT history_track('intake_sites', '{}', '{key_hash}');--> statement-breakpoint
SELECT history_track('leads');
