-- A callback says how many calls were missed and when the last one was as data, not as English
-- prose in `note` (which held 'N missed calls from +7…, the last at <ISO time>'): the console
-- writes it in the reader's language and time zone. `note` is left to people.
ALTER TABLE "reminders" ADD COLUMN "missed_calls" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "reminders" ADD COLUMN "last_missed_at" timestamp with time zone;--> statement-breakpoint
UPDATE "reminders" SET
  "missed_calls" = coalesce(substring("note" from '^(\d+) missed calls')::integer, 1),
  "last_missed_at" = coalesce(substring("note" from 'the last at (\S+)$')::timestamptz, "created_at"),
  "note" = ''
WHERE "kind" = 'callback' AND "note" ~ '^(Missed call from |\d+ missed calls from )';
