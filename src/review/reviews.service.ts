import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { recordAudit, type Actor } from '../audit/audit.js';
import { canReviewCallOf, seesFiguresOf, seesReview } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { withActor } from '../history/with-actor.js';
import { callManager, RECORDED_SQL } from '../stats/call-manager.js';
import { users } from '../users/users.table.js';
import { scoreAnswers, type Answers, type Criterion } from './review-score.js';
import { callReviews, reviewComments, scorecards, scorecardVersions } from './review.table.js';
import { latestUsableVersion } from './scorecards.service.js';

export interface ReviewDeps {
  db: Db;
  bus?: Pick<EventBus, 'publish'>;
}

export interface CommentInput {
  atSecond: number;
  toSecond?: number;
  text: string;
}

export interface CommentView {
  id: number;
  parentId: number | null;
  authorId: number | null;
  atSecond: number | null;
  toSecond: number | null;
  text: string;
  createdAt: string;
}

export interface ReviewView {
  id: number;
  callId: number;
  managerId: number | null;
  reviewerId: number | null;
  scorecardId: number;
  scorecardName: string;
  version: number;
  criteria: Criterion[];
  answers: Answers;
  total: number;
  summary: string;
  createdAt: string;
  comments: CommentView[];
}

interface Person {
  id: number;
  departmentId: number | null;
}

/** The call and whom it counts for; NOT_FOUND for a call that does not exist. */
async function callWithManager(db: Db, callId: number): Promise<{ id: number; ended: boolean; recorded: boolean; manager: Person | null }> {
  const { rows } = await db.execute<{ id: string; ended: boolean; recorded: boolean; manager_id: number | null; department_id: number | null }>(sql`
    SELECT c.id, c.disposition IS NOT NULL AS ended, ${RECORDED_SQL} AS recorded, u.id AS manager_id, u.department_id
    FROM calls c LEFT JOIN users u ON u.id = ${callManager}
    WHERE c.id = ${callId}`);
  const row = rows[0];
  if (!row) throw new AppError('NOT_FOUND', `call ${callId} not found`);
  return { id: Number(row.id), ended: row.ended, recorded: row.recorded, manager: row.manager_id === null ? null : { id: row.manager_id, departmentId: row.department_id } };
}

function checkComment(c: CommentInput, index: number): void {
  if (c.toSecond !== undefined && c.toSecond < c.atSecond) throw new AppError('VALIDATION', `comments.${index}.toSecond: before atSecond`);
}

/**
 * A supervisor's review of a call: the answers to the latest version of a scorecard, the weighted
 * total, a summary and comments pinned to moments of the recording. The manager gets
 * `call.reviewed` on every instance (the bus), after the commit.
 */
export async function createReview(
  deps: ReviewDeps,
  viewer: Viewer,
  callId: number,
  input: { scorecardId: number; answers: Answers; summary?: string; comments?: CommentInput[] },
): Promise<ReviewView> {
  const call = await callWithManager(deps.db, callId);
  // A call the viewer may not review looks like one that does not exist, as for a listen.
  if (!call.manager || !canReviewCallOf(viewer, call.manager)) throw new AppError('NOT_FOUND', `call ${callId} not found`);
  if (!call.ended || !call.recorded) throw new AppError('VALIDATION', `call ${callId} has no recording to review yet`);
  const version = await latestUsableVersion(deps.db, viewer, input.scorecardId, call.manager.departmentId);
  const scored = scoreAnswers(version.criteria, input.answers);
  if ('error' in scored) throw new AppError('VALIDATION', scored.error);
  (input.comments ?? []).forEach(checkComment);
  const manager = call.manager;

  const reviewId = await withActor(deps.db, viewer, 'api', async (tx) => {
    const [review] = await tx
      .insert(callReviews)
      .values({ callId, scorecardVersionId: version.id, reviewerId: viewer.id, managerId: manager.id, answers: input.answers, total: scored.total, summary: input.summary ?? '' })
      .returning({ id: callReviews.id });
    if (input.comments?.length) {
      await tx.insert(reviewComments).values(
        input.comments.map((c) => ({ reviewId: review!.id, authorId: viewer.id, atSecond: c.atSecond, toSecond: c.toSecond ?? null, body: c.text })),
      );
    }
    return review!.id;
  });
  deps.bus?.publish({ userIds: [manager.id] }, { type: 'call.reviewed', callId, reviewId, scorecardId: input.scorecardId, total: scored.total, reviewerId: viewer.id });
  return (await loadReviews(deps.db, [reviewId]))[0]!;
}

async function loadReviews(db: Db, ids: number[]): Promise<ReviewView[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ review: callReviews, version: scorecardVersions, name: scorecards.name })
    .from(callReviews)
    .innerJoin(scorecardVersions, eq(scorecardVersions.id, callReviews.scorecardVersionId))
    .innerJoin(scorecards, eq(scorecards.id, scorecardVersions.scorecardId))
    .where(inArray(callReviews.id, ids))
    .orderBy(asc(callReviews.id));
  const comments = await db.select().from(reviewComments).where(inArray(reviewComments.reviewId, ids)).orderBy(asc(reviewComments.id));
  return rows.map(({ review, version, name }) => ({
    id: review.id,
    callId: review.callId,
    managerId: review.managerId,
    reviewerId: review.reviewerId,
    scorecardId: version.scorecardId,
    scorecardName: name,
    version: version.version,
    criteria: version.criteria,
    answers: review.answers,
    total: Number(review.total),
    summary: review.summary,
    createdAt: review.createdAt.toISOString(),
    comments: comments
      .filter((c) => c.reviewId === review.id)
      .map((c) => ({
        id: c.id,
        parentId: c.parentId,
        authorId: c.authorId,
        atSecond: c.atSecond === null ? null : Number(c.atSecond),
        toSecond: c.toSecond === null ? null : Number(c.toSecond),
        text: c.body,
        createdAt: c.createdAt.toISOString(),
      })),
  }));
}

/** The reviews (with their managers' departments) the viewer may read, among `where`. */
async function visibleReviewIds(db: Db, viewer: Viewer, where: ReturnType<typeof eq>): Promise<Array<{ id: number; managerId: number | null; reviewerId: number | null }>> {
  const rows = await db
    .select({ id: callReviews.id, reviewerId: callReviews.reviewerId, managerId: callReviews.managerId, departmentId: users.departmentId })
    .from(callReviews)
    .leftJoin(users, eq(users.id, callReviews.managerId))
    .where(where);
  return rows.filter((r) => seesReview(viewer, { reviewerId: r.reviewerId, manager: r.managerId === null ? null : { id: r.managerId, departmentId: r.departmentId } }));
}

/**
 * Reading somebody else's review is audited like a listen (`review.read`): the manager reading
 * their own and the reviewer reading what they wrote are not.
 */
async function auditReads(db: Db, actor: Actor, reviews: ReviewView[]): Promise<void> {
  for (const r of reviews) {
    if (r.managerId === actor.actorId || r.reviewerId === actor.actorId) continue;
    await recordAudit(db, { actorId: actor.actorId, action: 'review.read', entity: 'call', entityId: r.callId, details: { reviewId: r.id, managerId: r.managerId }, ip: actor.ip });
  }
}

export async function getReview(db: Db, viewer: Viewer, actor: Actor, id: number): Promise<ReviewView> {
  const [seen] = await visibleReviewIds(db, viewer, eq(callReviews.id, id));
  if (!seen) throw new AppError('NOT_FOUND', `review ${id} not found`);
  const reviews = await loadReviews(db, [id]);
  await auditReads(db, actor, reviews);
  return reviews[0]!;
}

/** 404 unless the viewer sees the figures of the call's manager, as for every object out of scope. */
export async function listCallReviews(db: Db, viewer: Viewer, actor: Actor, callId: number): Promise<ReviewView[]> {
  const call = await callWithManager(db, callId);
  if (!call.manager || !seesFiguresOf(viewer, call.manager)) throw new AppError('NOT_FOUND', `call ${callId} not found`);
  const seen = await visibleReviewIds(db, viewer, eq(callReviews.callId, callId));
  const reviews = await loadReviews(db, seen.map((r) => r.id));
  await auditReads(db, actor, reviews);
  return reviews;
}

/**
 * A comment on a review: pinned to a moment (a supervisor who may review the call, or the
 * reviewer), or a reply to a comment (`parentId`: whoever reads the review, above all the
 * manager). The other side of the conversation gets a `review.comment` frame.
 */
export async function addComment(
  deps: ReviewDeps,
  viewer: Viewer,
  reviewId: number,
  input: { parentId?: number; atSecond?: number; toSecond?: number; text: string },
): Promise<CommentView> {
  const [seen] = await visibleReviewIds(deps.db, viewer, eq(callReviews.id, reviewId));
  if (!seen) throw new AppError('NOT_FOUND', `review ${reviewId} not found`);
  if (input.parentId !== undefined) {
    if (input.atSecond !== undefined || input.toSecond !== undefined) throw new AppError('VALIDATION', 'a reply answers a comment and pins no moment of its own: leave out atSecond and toSecond');
    const [parent] = await deps.db.select().from(reviewComments).where(and(eq(reviewComments.id, input.parentId), eq(reviewComments.reviewId, reviewId))).limit(1);
    if (!parent) throw new AppError('VALIDATION', `parentId: comment ${input.parentId} is not on review ${reviewId}`);
    if (parent.parentId !== null) throw new AppError('VALIDATION', `parentId: comment ${input.parentId} is itself a reply; answer the comment it replies to`);
  } else {
    const isSupervisor = seen.reviewerId === viewer.id || (viewer.role !== 'manager' && viewer.role !== 'assistant' && seen.managerId !== viewer.id);
    if (!isSupervisor) throw new AppError('FORBIDDEN', 'a manager replies to a comment (parentId); comments at a moment are the reviewers’');
    if (input.atSecond === undefined) throw new AppError('VALIDATION', 'atSecond: a comment is pinned to a moment of the recording');
    checkComment({ atSecond: input.atSecond, text: input.text, ...(input.toSecond !== undefined && { toSecond: input.toSecond }) }, 0);
  }
  const [row] = await withActor(deps.db, viewer, 'api', (tx) =>
    tx
      .insert(reviewComments)
      .values({ reviewId, parentId: input.parentId ?? null, authorId: viewer.id, atSecond: input.atSecond ?? null, toSecond: input.toSecond ?? null, body: input.text })
      .returning(),
  );
  const comment: CommentView = {
    id: row!.id,
    parentId: row!.parentId,
    authorId: row!.authorId,
    atSecond: row!.atSecond === null ? null : Number(row!.atSecond),
    toSecond: row!.toSecond === null ? null : Number(row!.toSecond),
    text: row!.body,
    createdAt: row!.createdAt.toISOString(),
  };
  const others = [seen.managerId, seen.reviewerId].filter((id): id is number => id !== null && id !== viewer.id);
  if (others.length > 0) deps.bus?.publish({ userIds: [...new Set(others)] }, { type: 'review.comment', reviewId, commentId: comment.id, parentId: comment.parentId, authorId: viewer.id });
  return comment;
}
