-- The transfers of a call (who handed the caller to whom, when, blind or attended), with the
-- users as they were at the time, like "rang". Existing calls had none recorded.
ALTER TABLE "calls" ADD COLUMN "transfers" jsonb DEFAULT '[]'::jsonb NOT NULL;
