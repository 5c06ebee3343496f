import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { visibleClients } from '../clients/clients.service.js';
import { clients } from '../clients/clients.table.js';
import type { Db } from '../db/client.js';
import { loadVisibleDeal } from '../deals/deals.service.js';
import { AppError } from '../errors.js';
import type { CreateNoteInput, NotesFilter, NoteView } from './notes.schemas.js';
import { clientNotes } from './notes.table.js';
import { withActor } from '../history/with-actor.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** What a note hangs on: a client, or one deal of a client. Visibility is the client's (access.ts noteScope). */
export type NoteSubject = { kind: 'client'; id: number } | { kind: 'deal'; id: number };

const columns = {
  id: clientNotes.id,
  clientId: clientNotes.clientId,
  dealId: clientNotes.dealId,
  kind: clientNotes.kind,
  text: clientNotes.text,
  authorId: clientNotes.authorId,
  createdAt: clientNotes.createdAt,
};

/** The subject's client id if the viewer sees it; 404 otherwise. */
async function resolveSubject(db: Db | Tx, viewer: Viewer, subject: NoteSubject): Promise<{ clientId: number; dealId: number | null }> {
  if (subject.kind === 'deal') {
    const deal = await loadVisibleDeal(db, viewer, subject.id);
    return { clientId: deal.clientId, dealId: deal.id };
  }
  const [client] = await db.select({ id: clients.id }).from(clients).where(and(eq(clients.id, subject.id), visibleClients(db, viewer)));
  if (!client) throw new AppError('NOT_FOUND', `client ${subject.id} does not exist`);
  return { clientId: client.id, dealId: null };
}

/** A note is a touch: the client's lastContactAt moves to now, in the note's transaction. */
export async function addNote(db: Db, actor: Actor, viewer: Viewer, subject: NoteSubject, input: CreateNoteInput): Promise<NoteView> {
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const { clientId, dealId } = await resolveSubject(tx, viewer, subject);
    const [row] = await tx
      .insert(clientNotes)
      .values({ clientId, dealId, kind: input.kind ?? 'note', text: input.text.trim(), authorId: viewer.id })
      .returning(columns);
    await tx
      .update(clients)
      .set({ lastContactAt: sql`greatest(coalesce(${clients.lastContactAt}, ${row!.createdAt}), ${row!.createdAt})` })
      .where(eq(clients.id, clientId));
    await recordAudit(tx, { ...actor, action: 'note.create', entity: 'client', entityId: clientId, details: { noteId: row!.id, dealId, kind: row!.kind } });
    return row!;
  });
}

/** A client's notes include those on its deals (each names its deal); a deal's, only its own. Newest first. */
export async function listNotes(db: Db, viewer: Viewer, subject: NoteSubject, filter: NotesFilter): Promise<{ items: NoteView[]; nextCursor: number | null }> {
  const { clientId, dealId } = await resolveSubject(db, viewer, subject);
  const rows = await db
    .select(columns)
    .from(clientNotes)
    .where(
      and(
        dealId === null ? eq(clientNotes.clientId, clientId) : eq(clientNotes.dealId, dealId),
        filter.kind !== undefined ? eq(clientNotes.kind, filter.kind) : undefined,
        filter.before !== undefined ? lt(clientNotes.id, filter.before) : undefined,
      ),
    )
    .orderBy(desc(clientNotes.id))
    .limit(filter.limit + 1);
  const items = rows.slice(0, filter.limit);
  return { items, nextCursor: rows.length > filter.limit ? items.at(-1)!.id : null };
}
