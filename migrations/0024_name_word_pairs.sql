-- Two words side by side in a name (issue 11 item 5, searches of several words). A fragment of
-- several words is found off the clients of its rarest word (src/clients/name-phrase.ts); when
-- both words are common and rarely side by side ('групп ооо': 333,000 and 500,000 clients, none
-- with the two together) neither a walk of one list, nor a merge of both, nor the trigram index
-- (which rechecks every client holding both words: 166,000, 0.5 s) is cheap. client_name_pairs
-- holds each pair of neighbouring words of the folded search text (client_search_text, 0012)
-- with what separates them — neighbours counting words of digits ('ромашка 12 групп' has no pair
-- ромашка/групп) — and the client's name, in a btree on (first, sep, second, name, client_id):
-- the clients of a pair come in the page's order, as those of a word do in client_name_words
-- (0020). The separator is part of the key because a fragment's words are separated exactly as
-- in the names it matches: `ооо ромашка` is not `ООО «Ромашка»` (12,500 clients of that pair).
-- Separators longer than 20 characters are left out (name-phrase.ts knows: SEP_MAX).
CREATE OR REPLACE FUNCTION name_pairs_of(name text, legal_name text, company text) RETURNS TABLE (first text, sep text, second text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT DISTINCT p.w, p.s, p.n FROM (
      SELECT m[1] AS w, m[2] AS s, lead(m[1]) OVER (ORDER BY i) AS n
      FROM regexp_matches(client_search_text(name, legal_name, company), '([0-9a-zа-я]+)([^0-9a-zа-я]*)', 'g') WITH ORDINALITY AS t(m, i)
    ) p
    WHERE p.w ~ '[a-zа-я]' AND p.n ~ '[a-zа-я]' AND length(p.w) <= 200 AND length(p.n) <= 200 AND length(p.s) <= 20 $$;--> statement-breakpoint
CREATE TABLE "client_name_pairs" (
	"first" text NOT NULL,
	"sep" text NOT NULL,
	"second" text NOT NULL,
	"name" text NOT NULL,
	"client_id" integer NOT NULL
);--> statement-breakpoint
-- As in 0020: writes to clients wait for the copy and the triggers (one transaction).
LOCK TABLE "clients" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
INSERT INTO "client_name_pairs" ("first", "sep", "second", "name", "client_id")
	SELECT p.first, p.sep, p.second, c.name, c.id FROM clients c, name_pairs_of(c.name, c.legal_name, c.company) p;--> statement-breakpoint
-- No foreign key, for the reason given in 0020: the triggers keep the rows in step.
CREATE INDEX "client_name_pairs_pair_name_client" ON "client_name_pairs" USING btree ("first", "sep", "second", "name", "client_id");--> statement-breakpoint
-- The triggers of 0020, each writing the pairs next to the words.
CREATE OR REPLACE FUNCTION client_name_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	WITH added AS (
		INSERT INTO client_name_words (word, name, client_id)
		SELECT w, n.name, n.id FROM new_rows n, name_words_of(n.name, n.legal_name, n.company) w
		RETURNING word
	)
	INSERT INTO name_words (word)
	SELECT DISTINCT a.word FROM added a WHERE NOT EXISTS (SELECT 1 FROM name_words d WHERE d.word = a.word);
	INSERT INTO client_name_pairs (first, sep, second, name, client_id)
	SELECT p.first, p.sep, p.second, n.name, n.id FROM new_rows n, name_pairs_of(n.name, n.legal_name, n.company) p;
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION client_name_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM client_name_words c USING old_rows o, name_words_of(o.name, o.legal_name, o.company) w
	 WHERE c.word = w AND c.name = o.name AND c.client_id = o.id;
	DELETE FROM client_name_pairs c USING old_rows o, name_pairs_of(o.name, o.legal_name, o.company) p
	 WHERE c.first = p.first AND c.sep = p.sep AND c.second = p.second AND c.name = o.name AND c.client_id = o.id;
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION client_name_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM client_name_words c USING name_words_of(OLD.name, OLD.legal_name, OLD.company) w
	 WHERE c.word = w AND c.name = OLD.name AND c.client_id = OLD.id;
	DELETE FROM client_name_pairs c USING name_pairs_of(OLD.name, OLD.legal_name, OLD.company) p
	 WHERE c.first = p.first AND c.sep = p.sep AND c.second = p.second AND c.name = OLD.name AND c.client_id = OLD.id;
	WITH added AS (
		INSERT INTO client_name_words (word, name, client_id)
		SELECT w, NEW.name, NEW.id FROM name_words_of(NEW.name, NEW.legal_name, NEW.company) w
		RETURNING word
	)
	INSERT INTO name_words (word)
	SELECT a.word FROM added a WHERE NOT EXISTS (SELECT 1 FROM name_words d WHERE d.word = a.word);
	INSERT INTO client_name_pairs (first, sep, second, name, client_id)
	SELECT p.first, p.sep, p.second, NEW.name, NEW.id FROM name_pairs_of(NEW.name, NEW.legal_name, NEW.company) p;
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION client_name_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE client_name_words;
	TRUNCATE client_name_pairs;
	RETURN NULL;
END $$;
