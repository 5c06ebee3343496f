import type pg from 'pg';
import type { TriedStep } from './types.js';

// From step 2 on, the decision must know what earlier steps of the call already tried: the
// call's stored trace. Requests that arrive together share one query (one row of the unnest per
// call); a named statement is parsed and planned once per connection.
const EARLIER_STEPS_SQL = {
  name: 'switchboard-route-earlier-steps',
  text: `
select r.idx, t.tried
from unnest($1::text[]) with ordinality as r(linkedid, idx)
left join lateral (
  select coalesce(json_agg(x order by x.step), '[]'::json) as tried from (
    select step, reason, action from route_decisions where linkedid = r.linkedid) x
) t on true`,
};

const MAX_BATCH = 64;

/**
 * Reads the earlier steps of calls, coalescing the lookups that arrive in the same turn of the
 * event loop into one query (at most 64 calls per query).
 */
export function createEarlierStepsLoader(pool: pg.Pool) {
  let pending: Array<{ linkedid: string; resolve: (t: TriedStep[]) => void; reject: (e: unknown) => void }> = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    while (pending.length > 0) {
      const batch = pending.slice(0, MAX_BATCH);
      pending = pending.slice(batch.length);
      pool.query<{ idx: string; tried: TriedStep[] }>({ ...EARLIER_STEPS_SQL, values: [batch.map((b) => b.linkedid)] }).then(
        ({ rows }) => {
          const byIdx = new Map(rows.map((row) => [Number(row.idx) - 1, row.tried]));
          batch.forEach((b, i) => b.resolve(byIdx.get(i) ?? []));
        },
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      );
    }
  };

  return (linkedid: string): Promise<TriedStep[]> =>
    new Promise((resolve, reject) => {
      pending.push({ linkedid, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
