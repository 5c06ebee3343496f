import { randomUUID } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { reviewQueue } from './review-queue.js';
import {
  AddComment, CommentBody, CreateReview, CreateScorecard, IdParams, PatchScorecard, QueueBody, QueueQuery, ReviewBody, ScorecardBody, ScorecardListQuery, ScorecardQuery,
} from './review.schemas.js';
import { addComment, createReview, getReview, listCallReviews } from './reviews.service.js';
import { createScorecard, getScorecard, listScorecards, updateScorecard } from './scorecards.service.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** Scorecards, reviews of recorded calls with comments at a moment, and the review queue (issue 13). */
export const reviewRoutes: FastifyPluginAsyncTypebox<{ db: Db; bus?: EventBus; readBudget?: ReadRecorder }> = async (app, { db, bus, readBudget }) => {
  app.addHook('preHandler', app.requireUser);
  const deps = { db, ...(bus && { bus }) };

  app.get('/scorecards', {
    schema: { tags: ['review'], summary: 'Scorecards the viewer may use: the company’s and their department’s (a director: all)', querystring: ScorecardListQuery, response: { 200: Type.Array(ScorecardBody), ...errors } },
  }, async (request) => listScorecards(db, viewerOf(request), request.query));

  app.post('/scorecards', {
    schema: { tags: ['review'], summary: 'Define a scorecard (director: any; curator: their department’s)', body: CreateScorecard, response: { 201: ScorecardBody, ...errors } },
  }, async (request, reply) => reply.status(201).send(await createScorecard(db, viewerOf(request), request.body)));

  app.get('/scorecards/:id', {
    schema: { tags: ['review'], summary: 'A scorecard, its latest version or an older one', params: IdParams, querystring: ScorecardQuery, response: { 200: ScorecardBody, ...errors } },
  }, async (request) => getScorecard(db, viewerOf(request), request.params.id, request.query.version));

  app.patch('/scorecards/:id', {
    schema: {
      tags: ['review'],
      summary: 'Rename or archive a scorecard, or change its criteria (a new version; past reviews keep the version they were made with)',
      params: IdParams, body: PatchScorecard, response: { 200: ScorecardBody, ...errors },
    },
  }, async (request) => updateScorecard(db, viewerOf(request), request.params.id, request.body));

  app.get('/review/queue', {
    schema: {
      tags: ['review'],
      summary: 'Recorded calls to review, with filters; `random=true&reviewed=false&managerId=…&from=…&to=…&limit=N` gives N random unreviewed calls',
      description: 'A call counts for who answered it, else who clicked to call, else the client’s owner. A director sees every call, a curator their department’s, a manager their own.',
      querystring: QueueQuery, response: { 200: QueueBody, ...errors },
    },
  }, async (request) => {
    const page = await reviewQueue(db, viewerOf(request), request.query);
    // Calls with their clients' names, like the calls list. A random draw is new rows every time:
    // the same query again is another read.
    const query = request.query.random === true ? { ...request.query, draw: randomUUID() } : request.query;
    await readBudget?.record(viewerOf(request), readOf.page('review-queue', query), request.ip);
    return page;
  });

  app.post('/calls/:id/reviews', {
    schema: {
      tags: ['review'],
      summary: 'Review a recorded call with a scorecard: answers, weighted total, summary, comments at moments; the manager gets a `call.reviewed` frame',
      params: IdParams, body: CreateReview, response: { 201: ReviewBody, ...errors },
    },
  }, async (request, reply) => reply.status(201).send(await createReview(deps, viewerOf(request), request.params.id, request.body)));

  app.get('/calls/:id/reviews', {
    schema: { tags: ['review'], summary: 'The reviews of a call the viewer may read (reading another’s review is audited, like a listen)', params: IdParams, response: { 200: Type.Array(ReviewBody), ...errors } },
  }, async (request) => listCallReviews(db, viewerOf(request), actorOf(request), request.params.id));

  app.get('/reviews/:id', {
    schema: { tags: ['review'], summary: 'One review with its comments and replies (reading another’s review is audited)', params: IdParams, response: { 200: ReviewBody, ...errors } },
  }, async (request) => getReview(db, viewerOf(request), actorOf(request), request.params.id));

  app.post('/reviews/:id/comments', {
    schema: {
      tags: ['review'],
      summary: 'Comment at a moment of the recording (reviewers), or reply to a comment with parentId (the manager); the other side gets a `review.comment` frame',
      params: IdParams, body: AddComment, response: { 201: CommentBody, ...errors },
    },
  }, async (request, reply) => reply.status(201).send(await addComment(deps, viewerOf(request), request.params.id, request.body)));
};
