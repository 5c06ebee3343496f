// The columns an import reads and an export writes, and how a header names them. Pure: the dry
// run shows the mapping it guessed, and the user may send it back changed for the real run.

export const IMPORT_FIELDS = [
  'name',
  'phone',
  'email',
  'inn',
  'contact',
  'position',
  'owner',
  'status',
  'segment',
  'source',
  'comment',
  'website',
  'address',
  'nextContactAt',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

/** Several columns may carry these (phones of the office and of the director; two addresses). */
const REPEATABLE: ReadonlySet<ImportField> = new Set(['phone', 'email']);

/** The header the export writes (Russian: what the teams' own files say), and the English one. */
export const FIELD_LABELS: Record<ImportField, { ru: string; en: string }> = {
  name: { ru: 'Название', en: 'Name' },
  phone: { ru: 'Телефон', en: 'Phone' },
  email: { ru: 'E-mail', en: 'E-mail' },
  inn: { ru: 'ИНН', en: 'INN' },
  contact: { ru: 'Контактное лицо', en: 'Contact' },
  position: { ru: 'Должность', en: 'Position' },
  owner: { ru: 'Менеджер', en: 'Owner' },
  status: { ru: 'Статус', en: 'Status' },
  segment: { ru: 'Сегмент', en: 'Segment' },
  source: { ru: 'Источник', en: 'Source' },
  comment: { ru: 'Комментарий', en: 'Comment' },
  website: { ru: 'Сайт', en: 'Website' },
  address: { ru: 'Адрес', en: 'Address' },
  nextContactAt: { ru: 'Следующий звонок', en: 'Next call' },
};

// Normalised header words (lower case, ё as е, punctuation as spaces). A header matches when it
// equals an alias or starts with one followed by a space ("телефон 2", "тел моб").
const ALIASES: [ImportField, string[]][] = [
  // Phone first: "Контактный телефон" is a phone column, not the contact's name.
  ['phone', ['телефон', 'тел', 'моб', 'мобильный', 'сотовый', 'phone', 'tel', 'mobile', 'cell']],
  ['email', ['e mail', 'email', 'почта', 'эл почта', 'электронная почта', 'mail']],
  ['inn', ['инн', 'inn', 'tin', 'tax id']],
  ['contact', ['контактное лицо', 'контакт', 'фио', 'contact person', 'contact', 'full name']],
  ['position', ['должность', 'position', 'job title']],
  ['owner', ['менеджер', 'ответственный', 'ответственный менеджер', 'owner', 'manager', 'responsible']],
  ['status', ['статус', 'status']],
  ['segment', ['сегмент', 'отрасль', 'segment', 'industry']],
  ['source', ['источник', 'source']],
  ['comment', ['комментарий', 'примечание', 'примечания', 'заметка', 'comment', 'comments', 'note', 'notes']],
  ['website', ['сайт', 'website', 'web site', 'site', 'url']],
  ['address', ['адрес', 'address']],
  ['nextContactAt', ['следующий звонок', 'след звонок', 'следующий контакт', 'дата звонка', 'next call', 'next contact']],
  ['name', ['название', 'наименование', 'компания', 'клиент', 'организация', 'name', 'company', 'client', 'company name']],
];

const normalise = (header: string): string =>
  header.toLowerCase().replace(/ё/g, 'е').replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/** The field a header names, or null. */
export function fieldOfHeader(header: string): ImportField | null {
  const h = normalise(header);
  if (h === '') return null;
  for (const [field, aliases] of ALIASES) {
    for (const alias of aliases) if (h === alias || h.startsWith(`${alias} `)) return field;
  }
  return null;
}

export interface ColumnMapping {
  index: number;
  header: string;
  field: ImportField | null;
}

/** The guessed mapping of a header row: a field named twice keeps its first column (phones and e-mails excepted). */
export function guessMapping(headers: readonly string[]): ColumnMapping[] {
  const taken = new Set<ImportField>();
  return headers.map((header, index) => {
    let field = fieldOfHeader(header);
    if (field !== null && !REPEATABLE.has(field)) {
      if (taken.has(field)) field = null;
      else taken.add(field);
    }
    return { index, header, field };
  });
}

/** Why a mapping sent back by the user cannot be used, or null. */
export function mappingError(mapping: readonly ColumnMapping[], columnCount: number): string | null {
  const seen = new Set<ImportField>();
  for (const column of mapping) {
    if (column.index < 0 || column.index >= columnCount) return `mapping: column ${column.index} does not exist (the file has ${columnCount})`;
    if (column.field === null) continue;
    if (!REPEATABLE.has(column.field) && seen.has(column.field)) return `mapping: ${column.field} is mapped to more than one column`;
    seen.add(column.field);
  }
  if (!seen.has('name') && !seen.has('contact')) return 'mapping: no column is the client\'s name (Название) or contact (Контактное лицо)';
  return null;
}

/** Whether a row looks like the header: two cells or more name known fields (title rows above it are skipped). */
export const looksLikeHeader = (cells: readonly string[]): boolean => cells.filter((c) => fieldOfHeader(c) !== null).length >= 2;
