-- Name search by words (issue 11 item 5, the searches that missed p95 ≤ 50 ms). A fragment made
-- of letters and digits only can match a client only inside one word of its folded search text
-- (client_search_text, 0012), so "the names holding 'ромаш'" = the clients of the words that hold
-- it. Two tables make that cheap:
-- * name_words: the distinct words of all names (tens of thousands, not a million clients),
--   with a trigram index: the words holding a fragment, or close to a typo, in a few ms;
-- * client_name_words: word → client, with the client's name, in a btree on (word, name,
--   client_id): the clients of one word come already in the page's order (name, id), so the
--   first page of 25,000 matches costs a few index pages wherever they sit in the alphabet.
-- Words of digits only are left out (every client of a big base has its own number; a fragment
-- of digits keeps the trigram path). client-search.ts decides which path a search takes.
CREATE OR REPLACE FUNCTION name_words_of(name text, legal_name text, company text) RETURNS SETOF text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT DISTINCT w FROM regexp_split_to_table(client_search_text(name, legal_name, company), '[^0-9a-zа-я]+') w WHERE w ~ '[a-zа-я]' AND length(w) <= 200 $$;--> statement-breakpoint
CREATE TABLE "client_name_words" (
	"word" text NOT NULL,
	"name" text NOT NULL,
	"client_id" integer NOT NULL
);--> statement-breakpoint
-- Not unique on purpose: two imports adding the same new word at once must not wait for each
-- other (a unique key makes the second wait, and two such waits in opposite order deadlock).
-- A word twice costs a row; readers ask for distinct words.
CREATE TABLE "name_words" (
	"word" text NOT NULL
);--> statement-breakpoint
-- Writes to clients wait for the rest of this migration (it runs in one transaction; seconds for
-- a million clients): a client added between the copy below and the triggers would have no words.
LOCK TABLE "clients" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
-- The words of the clients already there; the indexes built after, in one sorted pass each.
INSERT INTO "client_name_words" ("word", "name", "client_id")
	SELECT w, c.name, c.id FROM clients c, name_words_of(c.name, c.legal_name, c.company) w;--> statement-breakpoint
INSERT INTO "name_words" ("word") SELECT DISTINCT word FROM "client_name_words";--> statement-breakpoint
-- No foreign key: its per-row check would cost the import ~3 lookups per client; the triggers
-- below keep the rows in step with clients (deletes and TRUNCATE included).
CREATE INDEX "client_name_words_word_name_client" ON "client_name_words" USING btree ("word", "name", "client_id");--> statement-breakpoint
CREATE INDEX "name_words_word" ON "name_words" USING btree ("word");--> statement-breakpoint
CREATE INDEX "name_words_word_trgm" ON "name_words" USING gin ("word" gin_trgm_ops);--> statement-breakpoint
-- The words of a statement's new clients, set-wise: the import writes 2,000 clients a statement.
CREATE OR REPLACE FUNCTION client_name_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	WITH added AS (
		INSERT INTO client_name_words (word, name, client_id)
		SELECT w, n.name, n.id FROM new_rows n, name_words_of(n.name, n.legal_name, n.company) w
		RETURNING word
	)
	INSERT INTO name_words (word)
	SELECT DISTINCT a.word FROM added a WHERE NOT EXISTS (SELECT 1 FROM name_words d WHERE d.word = a.word);
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION client_name_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM client_name_words c USING old_rows o, name_words_of(o.name, o.legal_name, o.company) w
	 WHERE c.word = w AND c.name = o.name AND c.client_id = o.id;
	RETURN NULL;
END $$;--> statement-breakpoint
-- Row by row for updates: a trigger with transition tables cannot name columns, and one that
-- fired on every update of clients (each call bumps last_activity_at) would cost every call.
CREATE OR REPLACE FUNCTION client_name_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM client_name_words c USING name_words_of(OLD.name, OLD.legal_name, OLD.company) w
	 WHERE c.word = w AND c.name = OLD.name AND c.client_id = OLD.id;
	WITH added AS (
		INSERT INTO client_name_words (word, name, client_id)
		SELECT w, NEW.name, NEW.id FROM name_words_of(NEW.name, NEW.legal_name, NEW.company) w
		RETURNING word
	)
	INSERT INTO name_words (word)
	SELECT a.word FROM added a WHERE NOT EXISTS (SELECT 1 FROM name_words d WHERE d.word = a.word);
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION client_name_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE client_name_words;
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "clients_name_words_insert" AFTER INSERT ON "clients" REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION client_name_words_insert();--> statement-breakpoint
CREATE TRIGGER "clients_name_words_delete" AFTER DELETE ON "clients" REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION client_name_words_delete();--> statement-breakpoint
CREATE TRIGGER "clients_name_words_update" AFTER UPDATE OF "name", "legal_name", "company" ON "clients"
	FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.legal_name IS DISTINCT FROM NEW.legal_name OR OLD.company IS DISTINCT FROM NEW.company)
	EXECUTE FUNCTION client_name_words_update();--> statement-breakpoint
CREATE TRIGGER "clients_name_words_truncate" AFTER TRUNCATE ON "clients"
	FOR EACH STATEMENT EXECUTE FUNCTION client_name_words_truncate();--> statement-breakpoint
-- A typo that is not one word (`ромашка-5000`, digits) still tests closeness row by row (`<%`).
-- Its function is declared as cheap as `=`, so for a manager the planner flipped, seed to seed,
-- between the trigram index (3 ms) and testing each of the owner's 5,000 rows (27 ms, 5 µs
-- each): its real cost makes the index win. Only the extension's owner may change it; where a
-- DBA installed pg_trgm the migration goes on without (the searches stay right, only slower).
DO $$
BEGIN
	ALTER FUNCTION word_similarity_op(text, text) COST 100;
EXCEPTION WHEN insufficient_privilege THEN
	RAISE NOTICE 'word_similarity_op belongs to another role: its planner cost is left as it is';
END $$;
