import { innError } from '../clients/inn.js';
import type { CountryCode } from '../phones/normalize.js';
import type { ColumnMapping, ImportField } from './import-fields.js';
import { phonesOfCell } from './phone-cells.js';

// What one spreadsheet row becomes: a client to match or create, or a rejection with the reasons.
// Plain data in, plain data out (like routing/decide-route.ts); the service does the lookups.

export type ClientStatus = 'potential' | 'current' | 'former';

export interface ImportRow {
  row: number;
  name: string;
  kind: 'company' | 'person';
  phones: { phone: string; raw: string }[];
  emails: string[];
  inn: string | null;
  contact: string | null;
  position: string | null;
  /** Resolved owner; null = the import's default owner. */
  ownerId: number | null;
  status: ClientStatus | null;
  segment: string | null;
  source: string | null;
  comment: string | null;
  website: string | null;
  address: string | null;
  nextContactAt: Date | null;
}

export interface Problem {
  row: number;
  column: string;
  value: string;
  reason: string;
}

export type OwnerMatch = { ownerId: number } | { denial: string };

export interface RowContext {
  mapping: readonly ColumnMapping[];
  region: CountryCode;
  /** By lower-case login, full name or extension. */
  owners: ReadonlyMap<string, OwnerMatch>;
  /** `+03:00`: the offset of dates typed without one. */
  utcOffset: string;
}

export type RowFate =
  | { kind: 'ok'; row: ImportRow; unknownOwner: string | null }
  | { kind: 'rejected'; row: number; problems: Problem[] };

// Reasons are shown in the console and written into the rejected-rows file: both languages.
export const REASONS = {
  badPhone: 'не номер телефона / not a phone number',
  badInn: (e: string) => `неверный ИНН / invalid INN: ${e}`,
  noName: 'нет названия клиента / no client name',
  badStatus: 'неизвестный статус / unknown status (потенциальный, текущий, бывший)',
  badDate: 'не дата / not a date (ДД.ММ.ГГГГ [ЧЧ:ММ] or ISO 8601)',
  badEmail: 'не адрес e-mail / not an e-mail address',
  owner: (e: string) => `менеджер не подходит / owner not allowed: ${e}`,
  hidden: 'номер или ИНН принадлежат клиенту, которого вы не видите / number or INN of a client you cannot see',
} as const;

const STATUS_WORDS: Record<string, ClientStatus> = {
  потенциальный: 'potential', потенциальная: 'potential', потенциальные: 'potential', potential: 'potential', новый: 'potential',
  текущий: 'current', текущая: 'current', действующий: 'current', current: 'current', active: 'current',
  бывший: 'former', бывшая: 'former', former: 'former', ушел: 'former',
};
/** The label the export writes, read back by STATUS_WORDS. */
export const STATUS_LABELS: Record<ClientStatus, string> = { potential: 'Потенциальный', current: 'Текущий', former: 'Бывший' };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const blank = (s: string | undefined): string | null => {
  const t = s?.trim().replace(/\s+/g, ' ');
  return t === undefined || t === '' ? null : t;
};

export function rowFate(cells: readonly string[], rowNumber: number, ctx: RowContext): RowFate {
  const problems: Problem[] = [];
  const one: Partial<Record<ImportField, { value: string; header: string }>> = {};
  const phones: { phone: string; raw: string }[] = [];
  const emails: string[] = [];
  const seenPhones = new Set<string>();
  for (const column of ctx.mapping) {
    if (column.field === null) continue;
    const value = blank(cells[column.index]);
    if (value === null) continue;
    if (column.field === 'phone') {
      for (const p of phonesOfCell(cells[column.index]!, ctx.region)) {
        if (!p.ok) problems.push({ row: rowNumber, column: column.header, value: p.raw, reason: REASONS.badPhone });
        else if (!seenPhones.has(p.e164)) {
          seenPhones.add(p.e164);
          phones.push({ phone: p.e164, raw: p.raw });
        }
      }
    } else if (column.field === 'email') {
      for (const e of value.split(/[,;\s]+/).filter(Boolean)) {
        if (!EMAIL.test(e)) problems.push({ row: rowNumber, column: column.header, value: e, reason: REASONS.badEmail });
        else if (!emails.some((x) => x.toLowerCase() === e.toLowerCase())) emails.push(e);
      }
    } else {
      one[column.field] = { value, header: column.header };
    }
  }

  const contact = one.contact?.value ?? null;
  const name = one.name?.value ?? contact;
  if (name === null) problems.push({ row: rowNumber, column: '', value: '', reason: REASONS.noName });

  let inn: string | null = null;
  if (one.inn) {
    // Excel shows a long number as 7.70708E+09 only on screen; the cell holds the digits.
    inn = one.inn.value.replace(/\s+/g, '').replace(/\.0+$/, '');
    const error = innError(inn);
    if (error) problems.push({ row: rowNumber, column: one.inn.header, value: one.inn.value, reason: REASONS.badInn(error) });
  }

  let status: ClientStatus | null = null;
  if (one.status) {
    status = STATUS_WORDS[one.status.value.toLowerCase().replace(/ё/g, 'е')] ?? null;
    if (status === null) problems.push({ row: rowNumber, column: one.status.header, value: one.status.value, reason: REASONS.badStatus });
  }

  let nextContactAt: Date | null = null;
  if (one.nextContactAt) {
    nextContactAt = parseDate(one.nextContactAt.value, ctx.utcOffset);
    if (nextContactAt === null) problems.push({ row: rowNumber, column: one.nextContactAt.header, value: one.nextContactAt.value, reason: REASONS.badDate });
  }

  let ownerId: number | null = null;
  let unknownOwner: string | null = null;
  if (one.owner) {
    const match = ctx.owners.get(one.owner.value.toLowerCase());
    if (match === undefined) unknownOwner = one.owner.value;
    else if ('denial' in match) problems.push({ row: rowNumber, column: one.owner.header, value: one.owner.value, reason: REASONS.owner(match.denial) });
    else ownerId = match.ownerId;
  }

  if (problems.length > 0) return { kind: 'rejected', row: rowNumber, problems };
  return {
    kind: 'ok',
    unknownOwner,
    row: {
      row: rowNumber,
      name: name!,
      kind: one.name ? 'company' : 'person',
      phones,
      emails,
      inn,
      contact: one.name ? contact : null,
      position: one.position?.value ?? null,
      ownerId,
      status,
      segment: one.segment?.value ?? null,
      source: one.source?.value ?? null,
      comment: one.comment?.value ?? null,
      website: one.website?.value ?? null,
      address: one.address?.value ?? null,
      nextContactAt,
    },
  };
}

/** `31.12.2026`, `31.12.2026 14:30`, `2026-12-31 14:30` (the offset given), or ISO 8601 with an offset. */
export function parseDate(text: string, utcOffset: string): Date | null {
  let m = /^(\d{1,2})[./](\d{1,2})[./](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  let parts: string[] | null = m ? [m[3]!, m[2]!, m[1]!, m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'] : null;
  if (!parts) {
    m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
    if (!m) return null;
    if (m[7]) {
      const d = new Date(text.replace(' ', 'T'));
      return Number.isNaN(d.getTime()) ? null : d;
    }
    parts = [m[1]!, m[2]!, m[3]!, m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'];
  }
  const [y, mo, d, h, mi, s] = parts.map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const iso = `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${utcOffset}`;
  const date = new Date(iso);
  // 31.02 rolls over to March in Date: refuse it instead.
  return Number.isNaN(date.getTime()) || new Date(`${y}-${pad(mo)}-${pad(d)}T12:00:00Z`).getUTCDate() !== d ? null : date;
}
const pad = (n: number) => String(n).padStart(2, '0');

/** The keys a row is matched by, strongest first: every phone, then INN, then the exact name. */
export function matchKeys(row: Pick<ImportRow, 'phones' | 'inn' | 'name'>): string[] {
  const keys = row.phones.map((p) => `p${p.phone}`);
  if (row.inn !== null) keys.push(`i${row.inn}`);
  keys.push(`n${row.name}`);
  return keys;
}
