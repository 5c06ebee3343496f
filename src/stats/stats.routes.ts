import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { departmentColumns, managerColumns, timelineColumns } from './stats-columns.js';
import { DepartmentStatsBody, ManagerStatsBody, MISSED_DEFINITIONS, StatsQuery, TimelineBody, TimelineQuery, UserParams } from './stats.schemas.js';
import { departmentStats, managerStats } from './stats.service.js';
import { timeline } from './timeline.js';
import { toXlsx, XLSX_TYPE, type Column } from './xlsx.js';

const tags = ['stats'];
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };
const xlsxContent = { [XLSX_TYPE]: { schema: { type: 'string', format: 'binary' } } };
const VISIBILITY = 'A director sees everybody, a curator their department, a manager or an assistant only themselves.';

async function sendXlsx<T>(reply: FastifyReply, name: string, columns: readonly Column<T>[], rows: readonly T[]) {
  return reply
    .type(XLSX_TYPE)
    .header('content-disposition', `attachment; filename="${name}.xlsx"`)
    .send(await toXlsx(name, columns, rows));
}

/** Statistics per person and department, comparisons, activity timelines; any table as XLSX (issue 13). */
export const statsRoutes: FastifyPluginAsyncTypebox<{ db: Db; callbackHours: number }> = async (app, { db, callbackHours }) => {
  app.addHook('preHandler', app.requireUser);

  app.get('/managers', {
    schema: {
      tags,
      summary: 'Figures per person and local period; `userIds=1&userIds=2&groupBy=total` compares people side by side; `format=xlsx` exports the table',
      description: `${VISIBILITY} A call counts for who answered it, else who clicked to call, else the client’s owner; periods are local days of each person’s department. ${MISSED_DEFINITIONS}`,
      querystring: StatsQuery,
      response: { 200: { description: 'the table (JSON), or an .xlsx file with format=xlsx', content: { 'application/json': { schema: ManagerStatsBody }, ...xlsxContent } }, ...errors },
    },
  }, async (request, reply) => {
    const { format, ...rest } = request.query;
    const q = { ...rest, callbackHours: rest.callbackHours ?? callbackHours };
    const rows = await managerStats(db, viewerOf(request), q);
    if (format === 'xlsx') return sendXlsx(reply, `managers-${q.from}-${q.to}`, managerColumns, rows);
    return { from: q.from, to: q.to, groupBy: q.groupBy, callbackHours: q.callbackHours, rows };
  });

  app.get('/departments', {
    schema: {
      tags,
      summary: 'The same figures added up per department (its people as they are now) and local period; `format=xlsx` exports',
      description: `${VISIBILITY} ${MISSED_DEFINITIONS}`,
      querystring: StatsQuery,
      response: { 200: { description: 'the table (JSON), or an .xlsx file with format=xlsx', content: { 'application/json': { schema: DepartmentStatsBody }, ...xlsxContent } }, ...errors },
    },
  }, async (request, reply) => {
    const { format, ...rest } = request.query;
    const q = { ...rest, callbackHours: rest.callbackHours ?? callbackHours };
    const rows = await departmentStats(db, viewerOf(request), q);
    if (format === 'xlsx') return sendXlsx(reply, `departments-${q.from}-${q.to}`, departmentColumns, rows);
    return { from: q.from, to: q.to, groupBy: q.groupBy, callbackHours: q.callbackHours, rows };
  });

  app.get('/managers/:id/timeline', {
    schema: {
      tags,
      summary: 'One person’s activity (default: this week, local): calls, notes, deals moved along the pipeline, deals handed over, reminders done',
      description: `${VISIBILITY} Kinds: call (counts for them), note (they wrote), deal_status (they moved a deal: from/to), deal_handed (they changed a deal’s owner), reminder_done (theirs, completed).`,
      params: UserParams,
      querystring: TimelineQuery,
      response: { 200: { description: 'the events (JSON), or an .xlsx file with format=xlsx', content: { 'application/json': { schema: TimelineBody }, ...xlsxContent } }, ...errors },
    },
  }, async (request, reply) => {
    const { format, ...range } = request.query;
    const result = await timeline(db, viewerOf(request), request.params.id, range);
    if (format === 'xlsx') return sendXlsx(reply, `timeline-${result.userId}-${result.from}`, timelineColumns, result.events);
    return result;
  });
};
