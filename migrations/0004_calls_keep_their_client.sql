-- A new user starts available: with 'offline' as the default, a manager who never opened the
-- console had every client's call skipped past their desk phone (issue 17). Existing rows keep
-- their value; routing no longer skips 'offline' anyway (decide-route.ts).
ALTER TABLE "users" ALTER COLUMN "presence" SET DEFAULT 'available';--> statement-breakpoint
-- The routing trace keeps a tie between clients that share the caller's number: whether there
-- was one, and the clients considered with their owner's state and which one won. json, not
-- jsonb, like the trace's other columns (migration 0002); null when there was no tie.
ALTER TABLE "route_decisions" ADD COLUMN "tie" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "route_decisions" ADD COLUMN "tie_clients" json;
