import { and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import { canEditScorecard, seesScorecard } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { withActor } from '../history/with-actor.js';
import { criteriaProblem, type Criterion } from './review-score.js';
import { scorecards, scorecardVersions } from './review.table.js';

export interface ScorecardView {
  id: number;
  name: string;
  departmentId: number | null;
  archived: boolean;
  /** The version shown (the latest unless one was asked for). */
  version: number;
  versionId: number;
  criteria: Criterion[];
  updatedAt: string;
}

type ScorecardRow = typeof scorecards.$inferSelect;
type VersionRow = typeof scorecardVersions.$inferSelect;

const view = (card: ScorecardRow, version: VersionRow): ScorecardView => ({
  id: card.id,
  name: card.name,
  departmentId: card.departmentId,
  archived: card.archived,
  version: version.version,
  versionId: version.id,
  criteria: version.criteria,
  updatedAt: card.updatedAt.toISOString(),
});

function checkCriteria(criteria: Criterion[]): void {
  const problem = criteriaProblem(criteria);
  if (problem) throw new AppError('VALIDATION', problem);
}

export async function createScorecard(db: Db, viewer: Viewer, input: { name: string; departmentId?: number | null; criteria: Criterion[] }): Promise<ScorecardView> {
  const departmentId = input.departmentId ?? (viewer.role === 'curator' ? viewer.departmentId : null);
  if (!canEditScorecard(viewer, departmentId)) {
    throw new AppError('FORBIDDEN', 'scorecards are written by a director, or by a curator for their own department');
  }
  checkCriteria(input.criteria);
  return withActor(db, viewer, 'api', async (tx) => {
    const [card] = await tx.insert(scorecards).values({ name: input.name, departmentId, createdById: viewer.id }).returning();
    const [version] = await tx.insert(scorecardVersions).values({ scorecardId: card!.id, version: 1, criteria: input.criteria, createdById: viewer.id }).returning();
    return view(card!, version!);
  });
}

async function loadCard(db: Db, viewer: Viewer, id: number): Promise<ScorecardRow> {
  const [card] = await db.select().from(scorecards).where(eq(scorecards.id, id)).limit(1);
  if (!card || !seesScorecard(viewer, card.departmentId)) throw new AppError('NOT_FOUND', `scorecard ${id} not found`);
  return card;
}

async function versionOf(db: Pick<Db, 'select'>, scorecardId: number, version?: number): Promise<VersionRow | undefined> {
  const [row] = await db
    .select()
    .from(scorecardVersions)
    .where(and(eq(scorecardVersions.scorecardId, scorecardId), version === undefined ? undefined : eq(scorecardVersions.version, version)))
    .orderBy(desc(scorecardVersions.version))
    .limit(1);
  return row;
}

export async function getScorecard(db: Db, viewer: Viewer, id: number, version?: number): Promise<ScorecardView> {
  const card = await loadCard(db, viewer, id);
  const row = await versionOf(db, id, version);
  if (!row) throw new AppError('NOT_FOUND', `scorecard ${id} has no version ${version}`);
  return view(card, row);
}

/** The scorecards a viewer may use or read, latest versions; archived ones only when asked. */
export async function listScorecards(db: Db, viewer: Viewer, query: { archived?: boolean }): Promise<ScorecardView[]> {
  const rows = await db
    .selectDistinctOn([scorecards.id], { card: scorecards, version: scorecardVersions })
    .from(scorecards)
    .innerJoin(scorecardVersions, eq(scorecardVersions.scorecardId, scorecards.id))
    .where(
      and(
        query.archived ? undefined : eq(scorecards.archived, false),
        viewer.role === 'director' ? undefined : or(isNull(scorecards.departmentId), viewer.departmentId === null ? undefined : eq(scorecards.departmentId, viewer.departmentId)),
      ),
    )
    .orderBy(scorecards.id, desc(scorecardVersions.version));
  return rows.map((r) => view(r.card, r.version));
}

/**
 * A rename or an archive changes the scorecard; new criteria add a version. Past reviews keep
 * pointing at the version they were made with, so their totals never move.
 */
export async function updateScorecard(db: Db, viewer: Viewer, id: number, patch: { name?: string; archived?: boolean; criteria?: Criterion[] }): Promise<ScorecardView> {
  const card = await loadCard(db, viewer, id);
  if (!canEditScorecard(viewer, card.departmentId)) throw new AppError('FORBIDDEN', 'a curator edits only their own department’s scorecards');
  if (patch.criteria) checkCriteria(patch.criteria);
  return withActor(db, viewer, 'api', async (tx) => {
    // Locks the card: two edits at once get versions n+1 and n+2, not the unique violation.
    const [updated] = await tx
      .update(scorecards)
      .set({ ...(patch.name !== undefined && { name: patch.name }), ...(patch.archived !== undefined && { archived: patch.archived }), updatedAt: sql`now()` })
      .where(eq(scorecards.id, id))
      .returning();
    let version = (await versionOf(tx, id))!;
    if (patch.criteria) {
      [version] = (await tx
        .insert(scorecardVersions)
        .values({ scorecardId: id, version: version.version + 1, criteria: patch.criteria, createdById: viewer.id })
        .returning()) as [VersionRow];
    }
    return view(updated!, version);
  });
}

/** The version a new review is made with: the latest of a usable scorecard. */
export async function latestUsableVersion(db: Db, viewer: Viewer, scorecardId: number, managerDepartmentId: number | null): Promise<VersionRow> {
  const card = await loadCard(db, viewer, scorecardId);
  if (card.archived) throw new AppError('VALIDATION', `scorecardId: scorecard ${scorecardId} is archived`);
  if (card.departmentId !== null && card.departmentId !== managerDepartmentId) {
    throw new AppError('VALIDATION', `scorecardId: scorecard ${scorecardId} belongs to another department than this call's manager`);
  }
  return (await versionOf(db, scorecardId))!;
}
