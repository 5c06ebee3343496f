-- Search over the whole client base (issue 11 item 5). pg_trgm ships with PostgreSQL's contrib
-- (the embedded binaries have it): fragments and typos in names, e-mails and phone digits.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
-- One text per client for name search: name, legal name and company, lower case, ё folded to е.
-- Expression indexes, not generated columns: the history trigger diffs whole rows (0010).
CREATE OR REPLACE FUNCTION client_search_text(name text, legal_name text, company text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN lower(translate(name || ' ' || coalesce(legal_name, '') || ' ' || coalesce(company, ''), 'ёЁ', 'еЕ'));--> statement-breakpoint
-- array_to_string is only STABLE in general (any element type); on text[] it cannot change.
CREATE OR REPLACE FUNCTION client_emails_text(emails text[]) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN lower(array_to_string(emails, ' '));--> statement-breakpoint
CREATE INDEX "clients_search_text_trgm" ON "clients" USING gin (client_search_text("name", "legal_name", "company") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "clients_emails_trgm" ON "clients" USING gin (client_emails_text("emails") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "clients_inn_prefix" ON "clients" USING btree ("inn" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "clients_tags_gin" ON "clients" USING gin ("tags");--> statement-breakpoint
-- E.164 is '+' and digits: a digit fragment is a substring of the stored number itself.
CREATE INDEX "client_phones_phone_trgm" ON "client_phones" USING gin ("phone" gin_trgm_ops);--> statement-breakpoint
-- "Has a deal in status X" for a rare status starts from the deals, not from every client.
CREATE INDEX "deals_status_client_id_index" ON "deals" USING btree ("status", "client_id");--> statement-breakpoint
-- Keyset pages, one pair per sort: the whole base (director) and one owner's book (manager).
-- Null dates sort last through ±infinity, so the key is never null and a row comparison works.
CREATE INDEX "clients_name_keyset" ON "clients" USING btree ("name", "id");--> statement-breakpoint
CREATE INDEX "clients_owner_name_keyset" ON "clients" USING btree ("owner_id", "name", "id");--> statement-breakpoint
CREATE INDEX "clients_last_contact_keyset" ON "clients" USING btree ((coalesce("last_contact_at", '-infinity')) DESC, "id" DESC);--> statement-breakpoint
CREATE INDEX "clients_owner_last_contact_keyset" ON "clients" USING btree ("owner_id", (coalesce("last_contact_at", '-infinity')) DESC, "id" DESC);--> statement-breakpoint
CREATE INDEX "clients_next_contact_keyset" ON "clients" USING btree ((coalesce("next_contact_at", 'infinity')), "id");--> statement-breakpoint
CREATE INDEX "clients_owner_next_contact_keyset" ON "clients" USING btree ("owner_id", (coalesce("next_contact_at", 'infinity')), "id");
