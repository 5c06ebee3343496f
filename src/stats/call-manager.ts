import { sql } from 'drizzle-orm';

/**
 * Whom a call counts for, in the statistics and the review queue: who answered it, else who
 * clicked to call, else the client's owner (the manager an unanswered inbound call was meant
 * for). Migration 0014 indexes exactly this expression (calls_stats_manager_index): keep the two
 * the same, or the planner stops using the index.
 */
export const CALL_MANAGER_SQL = 'coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id)';
export const callManager = sql.raw(CALL_MANAGER_SQL);

/** A call is recorded when the PBX said MixMonitor started, or a file is stored under its Linkedid. */
export const RECORDED_SQL = sql.raw(
  '(c.recording_uniqueid IS NOT NULL OR EXISTS (SELECT 1 FROM recordings r WHERE r.system_name = c.system_name AND r.uniqueid = c.linkedid))',
);
