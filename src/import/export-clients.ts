import { PassThrough, Readable } from 'node:stream';
import { count, sql } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { clients } from '../clients/clients.table.js';
import type { Db } from '../db/client.js';
import { FIELD_LABELS, type ImportField } from './import-fields.js';
import { STATUS_LABELS, type ClientStatus } from './row-fate.js';

// The client base as a file with the columns the import reads, so export → import changes
// nothing (test/import/export.test.ts). Streamed a page at a time; the file says who exported it.

export const EXPORT_FIELDS: ImportField[] = ['name', 'phone', 'email', 'inn', 'contact', 'position', 'owner', 'status', 'segment', 'source', 'website', 'address', 'nextContactAt'];
const PAGE = 2000;

interface ExportRow {
  id: number;
  name: string;
  inn: string | null;
  emails: string[];
  website: string | null;
  address: string | null;
  status: ClientStatus;
  nextMs: number | string | null;
  owner: string;
  segment: string | null;
  source: string | null;
  phones: string | null;
  contact: string | null;
  position: string | null;
}

async function* pages(db: Db): AsyncGenerator<ExportRow[]> {
  let after = 0;
  for (;;) {
    // Keyset by id: a page costs the same at the end of a million rows as at the start.
    const { rows } = await db.execute<ExportRow & Record<string, unknown>>(
      sql`select c.id, c.name, c.inn, c.emails, c.website, c.address, c.status, (extract(epoch from c.next_contact_at) * 1000)::float8 as "nextMs", u.login as owner,
              seg.name as segment, src.name as source,
              (select string_agg(p.phone, ', ' order by p.id) from client_phones p where p.client_id = c.id and p.contact_id is null) as phones,
              k.name as contact, k.position
         from clients c
         join users u on u.id = c.owner_id
         left join client_lists seg on seg.id = c.segment_id
         left join client_lists src on src.id = c.source_id
         left join lateral (select name, position from client_contacts where client_id = c.id order by id limit 1) k on true
        where c.id > ${after}
        order by c.id
        limit ${PAGE}`,
    );
    if (rows.length === 0) return;
    yield rows;
    after = rows.at(-1)!.id;
  }
}

/** A moment as wall-clock time at `offset`, ISO 8601 with the offset (the import reads it back exactly). */
export function isoAt(date: Date, offset: string): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number) as [number, number];
  const shifted = new Date(date.getTime() + sign * (h * 60 + m) * 60_000);
  return shifted.toISOString().replace('Z', offset);
}

const nextOf = (r: ExportRow): Date | null => (r.nextMs === null ? null : new Date(Number(r.nextMs)));

function cellsOf(r: ExportRow, offset: string): string[] {
  const next = nextOf(r);
  const values: Record<ImportField, string> = {
    name: r.name, phone: r.phones ?? '', email: r.emails.join(', '), inn: r.inn ?? '', contact: r.contact ?? '', position: r.position ?? '',
    owner: r.owner, status: STATUS_LABELS[r.status], segment: r.segment ?? '', source: r.source ?? '', comment: '', website: r.website ?? '',
    address: r.address ?? '', nextContactAt: next ? isoAt(next, offset) : '',
  };
  return EXPORT_FIELDS.map((f) => values[f]);
}

const quote = (c: string) => (/[";\r\n]/.test(c) || c.startsWith(' ') ? `"${c.replace(/"/g, '""')}"` : c);

export interface ExportFile {
  stream: Readable;
  fileName: string;
  contentType: string;
  rows: number;
}

/** Audits the export, then streams it (CSV: UTF-8 with BOM and `;`, as Excel opens it). */
export async function exportClients(db: Db, actor: Actor, viewer: Viewer, format: 'csv' | 'xlsx', offset: string, now = new Date()): Promise<ExportFile> {
  const [{ rows } = { rows: 0 }] = await db.select({ rows: count() }).from(clients).where(sql`true`);
  await recordAudit(db, { ...actor, action: 'client.export', entity: 'client', entityId: null, details: { format, rows } });
  const who = `${viewer.name} (${viewer.login})`;
  const stamp = now.toISOString().slice(0, 16).replace(/[-:T]/g, '');
  const fileName = `clients-${stamp}.${format}`;
  if (format === 'csv') {
    async function* csv() {
      yield '\ufeff';
      // The first row names who exported and when; the import skips it (a title row above the header).
      yield `${quote(`Выгрузка клиентов / Clients export: ${who}, ${isoAt(now, offset)}`)}\r\n`;
      yield `${EXPORT_FIELDS.map((f) => FIELD_LABELS[f].ru).join(';')}\r\n`;
      for await (const page of pages(db)) yield page.map((r) => `${cellsOf(r, offset).map(quote).join(';')}\r\n`).join('');
    }
    return { stream: Readable.from(csv()), fileName, contentType: 'text/csv; charset=utf-8', rows };
  }
  // exceljs is loaded on the first XLSX export, not with the service (~15 MiB of RSS).
  const { default: ExcelJS } = await import('./exceljs.js');
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  // Document properties (File → Info in Excel): who exported the file and when.
  workbook.creator = who;
  workbook.lastModifiedBy = who;
  workbook.created = now;
  workbook.modified = now;
  workbook.title = `Выгрузка клиентов / Clients export: ${who}, ${isoAt(now, offset)}`;
  void (async () => {
    const sheet = workbook.addWorksheet('Клиенты');
    sheet.addRow(EXPORT_FIELDS.map((f) => FIELD_LABELS[f].ru)).commit();
    const dateColumn = EXPORT_FIELDS.indexOf('nextContactAt');
    for await (const page of pages(db)) {
      for (const r of page) {
        const cells: (string | Date)[] = cellsOf(r, offset);
        // A date cell, in wall-clock time as Excel keeps it (no zone), read back with the offset.
        const next = nextOf(r);
        if (next) cells[dateColumn] = new Date(isoAt(next, offset).slice(0, 23) + 'Z');
        const row = sheet.addRow(cells);
        if (next) row.getCell(dateColumn + 1).numFmt = 'dd.mm.yyyy hh:mm:ss';
        row.commit();
      }
    }
    sheet.commit();
    await workbook.commit();
  })().catch((err) => out.destroy(err));
  return { stream: out, fileName, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', rows };
}
