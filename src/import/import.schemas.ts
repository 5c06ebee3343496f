import { Type, type Static } from '@sinclair/typebox';
import { IMPORT_FIELDS } from './import-fields.js';
import { IMPORT_STATUSES } from './import-jobs.table.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const ColumnBody = Type.Object({
  index: Type.Integer({ minimum: 0, maximum: 1000, description: 'the column, 0 = first' }),
  header: Type.String({ maxLength: 500, description: 'as written in the file' }),
  field: Type.Union([...IMPORT_FIELDS.map((f) => Type.Literal(f)), Type.Null()], { description: 'what the column is read as; null = ignored' }),
});
export const MappingBody = Type.Array(ColumnBody, { maxItems: 1000 });

const ProblemBody = Type.Object({ row: Type.Integer(), column: Type.String(), value: Type.String(), reason: Type.String() });
const Problems = Type.Object({ total: Type.Integer(), items: Type.Array(ProblemBody, { description: 'the first 200' }) });
const SampleClient = Type.Object({
  name: Type.String(), inn: Nullable(Type.String()), emails: Type.Array(Type.String()), contact: Nullable(Type.String()), position: Nullable(Type.String()),
  ownerId: Type.Union([Type.Integer(), Type.Null()]), status: Nullable(Type.String()), segment: Nullable(Type.String()), source: Nullable(Type.String()),
  website: Nullable(Type.String()), address: Nullable(Type.String()), phones: Type.Array(Type.String()), nextContactAt: Nullable(Type.String()),
});

export const ReportBody = Type.Object({
  header: Type.Array(Type.String()),
  rowsRead: Type.Integer(),
  rowsRejected: Type.Integer({ description: 'rows not imported; GET …/rejected gives them with the reason' }),
  clientsToCreate: Type.Integer(),
  clientsToUpdate: Type.Integer(),
  clientsUnchanged: Type.Integer(),
  duplicatesInFile: Type.Integer({ description: 'rows merged into an earlier row of the file (same phone, INN or name)' }),
  matchedInBase: Type.Integer({ description: 'rows that match a client of the base' }),
  badPhones: Problems,
  problems: Problems,
  unknownOwners: Type.Array(Type.Object({ value: Type.String(), rows: Type.Integer() }), { description: 'imported with the default owner' }),
  newSegments: Type.Array(Type.String()),
  newSources: Type.Array(Type.String()),
  sample: Type.Array(
    Type.Object({
      row: Type.Integer(),
      fate: Type.Union(['create', 'update', 'unchanged', 'duplicate', 'rejected'].map((f) => Type.Literal(f))),
      clientId: Type.Union([Type.Integer(), Type.Null()]),
      client: Type.Union([SampleClient, Type.Null()]),
      reasons: Type.Array(Type.String()),
    }),
    { description: 'what the first 20 rows become' },
  ),
});

export const ImportJobBody = Type.Object(
  {
    id: Type.Integer({ description: 'the N of "import #N" in the history' }),
    fileName: Type.String(),
    format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]),
    encoding: Nullable(Type.String()),
    delimiter: Nullable(Type.String()),
    sheet: Nullable(Type.String()),
    status: Type.Union(IMPORT_STATUSES.map((s) => Type.Literal(s))),
    mapping: MappingBody,
    defaultOwnerId: Type.Integer(),
    progress: Type.Object({
      rowsDone: Type.Integer(),
      rowsTotal: Type.Integer(),
      rowsPerSecond: Type.Integer(),
      etaSeconds: Type.Union([Type.Integer(), Type.Null()]),
    }),
    counts: Type.Object({ created: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer(), rejected: Type.Integer() }),
    report: Type.Union([ReportBody, Type.Null()]),
    error: Nullable(Type.String()),
    createdBy: Type.Integer(),
    createdAt: Timestamp,
    startedAt: Type.Union([Timestamp, Type.Null()]),
    finishedAt: Type.Union([Timestamp, Type.Null()]),
  },
  {
    examples: [
      {
        id: 7, fileName: 'base.csv', format: 'csv', encoding: 'windows-1251', delimiter: ';', sheet: null, status: 'running',
        mapping: [{ index: 0, header: 'Компания', field: 'name' }, { index: 1, header: 'Тел.', field: 'phone' }, { index: 2, header: 'Менеджер', field: 'owner' }],
        defaultOwnerId: 1, progress: { rowsDone: 40000, rowsTotal: 100000, rowsPerSecond: 21000, etaSeconds: 3 },
        counts: { created: 30000, updated: 2000, unchanged: 7000, rejected: 1000 }, report: null, error: null, createdBy: 1,
        createdAt: '2026-12-02T10:00:00.000Z', startedAt: '2026-12-02T10:01:00.000Z', finishedAt: null,
      },
    ],
  },
);
export type ImportJobView = Static<typeof ImportJobBody>;

export const UploadQuery = Type.Object({
  fileName: Type.String({ minLength: 1, maxLength: 255, description: 'the file name, kept for the list of imports' }),
  sheet: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'XLSX: the sheet to read (default the first)' })),
  ownerId: Type.Optional(Type.Integer({ minimum: 1, description: 'owner of rows whose manager is empty or unknown (default: you)' })),
});
export const JobParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
