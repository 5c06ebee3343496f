-- The answer and the plan of each routing answer kept as text (issue 16, src/routing/trace-encoding.ts):
-- `answer_body` is the hash body the dialplan received, `candidate_list` the plan in a short form.
-- As json they were most of a trace row's bytes and cost a JSON.stringify on the ring path and a
-- json parse in PostgreSQL on every answer. Rows written before keep `answer` and `candidates`;
-- a row has one form or the other.
ALTER TABLE "route_decisions" ADD COLUMN "answer_body" text;--> statement-breakpoint
ALTER TABLE "route_decisions" ADD COLUMN "candidate_list" text;--> statement-breakpoint
ALTER TABLE "route_decisions" ALTER COLUMN "answer" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "route_decisions" ALTER COLUMN "candidates" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "route_decisions" ADD CONSTRAINT "route_decisions_answer_kept" CHECK ((answer_body IS NOT NULL OR answer IS NOT NULL) AND (candidate_list IS NOT NULL OR candidates IS NOT NULL));
