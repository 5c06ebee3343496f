-- Issue 11, the client base: the card's own fields, contact persons, and the lists (segment,
-- source) a director keeps. Hand-written: other branches add 0005-0007 in parallel.
CREATE TABLE "client_lists" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "client_lists_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "client_lists_kind_name_unique" UNIQUE("kind","name"),
	CONSTRAINT "client_lists_kind_check" CHECK ("kind" IN ('segment', 'source'))
);
--> statement-breakpoint
-- The sources the issue names; a director renames or adds to them.
INSERT INTO "client_lists" ("kind", "name") VALUES ('source', 'site'), ('source', 'call'), ('source', 'import'), ('source', 'manual');
--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "kind" text DEFAULT 'company' NOT NULL;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "legal_name" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "inn" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "emails" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "website" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "address" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "segment_id" integer;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "source_id" integer;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "status" text DEFAULT 'potential' NOT NULL;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "temperature" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "next_contact_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "tags" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_kind_check" CHECK ("kind" IN ('company', 'person'));--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_status_check" CHECK ("status" IN ('potential', 'current', 'former'));--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_temperature_check" CHECK ("temperature" IN ('cold', 'warm', 'hot'));--> statement-breakpoint
-- restrict: a list entry in use is renamed, not deleted (the service answers 409 first).
ALTER TABLE "clients" ADD CONSTRAINT "clients_segment_id_client_lists_id_fk" FOREIGN KEY ("segment_id") REFERENCES "public"."client_lists"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_source_id_client_lists_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."client_lists"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clients_next_contact_at_index" ON "clients" USING btree ("next_contact_at");--> statement-breakpoint
CREATE TABLE "client_contacts" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "client_contacts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"client_id" integer NOT NULL,
	"name" text NOT NULL,
	"position" text,
	"emails" text[] DEFAULT '{}' NOT NULL,
	"decision_maker" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "client_contacts_id_client_id_unique" UNIQUE("id","client_id")
);
--> statement-breakpoint
ALTER TABLE "client_contacts" ADD CONSTRAINT "client_contacts_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "client_contacts_client_id_index" ON "client_contacts" USING btree ("client_id");--> statement-breakpoint
-- A contact's numbers live with the client's: routing, the directory and its NOTIFY trigger
-- (0001) and the call's client lookup all read client_phones, so a contact's phone routes like
-- the client's with no second path. The pair key keeps a contact's phone on its own client.
ALTER TABLE "client_phones" ADD COLUMN "contact_id" integer;--> statement-breakpoint
ALTER TABLE "client_phones" ADD CONSTRAINT "client_phones_contact_fk" FOREIGN KEY ("contact_id","client_id") REFERENCES "public"."client_contacts"("id","client_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "client_phones_contact_id_index" ON "client_phones" USING btree ("contact_id");
