-- The routing trace's two JSON columns become json (text kept as written) instead of jsonb:
-- they are written at the route webhook's rate and only read back whole, and the conversion to
-- jsonb was more than half of PostgreSQL's CPU per trace row. USING: there is no assignment
-- cast from jsonb to json.
ALTER TABLE "route_decisions" ALTER COLUMN "answer" SET DATA TYPE json USING "answer"::json;--> statement-breakpoint
ALTER TABLE "route_decisions" ALTER COLUMN "candidates" SET DATA TYPE json USING "candidates"::json;
