-- Routing answers from the in-memory directory without asking PostgreSQL first (issue 16). When
-- the directory could not be shown current within ROUTE_FRESH_MS (PostgreSQL slow or down), the
-- answer still comes from it, and the trace says so: `stale`, and how old the directory's last
-- proof of being current was. null: not measured (rows from before this migration).
ALTER TABLE "route_decisions" ADD COLUMN "stale" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "route_decisions" ADD COLUMN "directory_age_ms" integer;
