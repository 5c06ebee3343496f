import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import ExcelJS from '../../src/import/exceljs.js';
import iconv from 'iconv-lite';

// Client files with the dirt of real ones, made row by row (a million rows never sit in memory):
// phones in five spellings, two numbers in a cell, an extension, Excel's `79035554436.0`, 3 % not
// a number, 5 % duplicates of an earlier row's phone, 1 % a bad INN, owners by login, name,
// extension or unknown, Russian statuses, dates typed `ДД.ММ.ГГГГ ЧЧ:ММ`.

export const HEADER = ['Компания', 'Телефон', 'Моб.', 'E-mail', 'ИНН', 'Контактное лицо', 'Должность', 'Ответственный', 'Статус', 'Сегмент', 'Комментарий', 'Следующий звонок'];
export const OWNERS = Array.from({ length: 20 }, (_, i) => ({ login: `mgr${i}`, name: `Менеджер Номер${i}`, extension: String(200 + i) }));
const SEGMENTS = ['Опт', 'Розница', 'Стройка', 'IT', 'Медицина', 'Логистика', 'Общепит', 'Производство', 'Госзаказ', 'Образование'];
const STATUSES = ['Потенциальный', 'текущий', 'Бывший', ''];

const W10 = [2, 4, 10, 3, 5, 9, 4, 6, 8];
function inn(i: number): string {
  const d = String(7700000000 + ((i * 7919) % 99_999_999)).slice(0, 9).split('').map(Number);
  return d.join('') + (W10.reduce((s, w, k) => s + w * d[k]!, 0) % 11) % 10;
}

function spell(n: number, how: number): string {
  const s = String(n); // 10 digits, 9xxxxxxxxx
  const [a, b, c, d] = [s.slice(0, 3), s.slice(3, 6), s.slice(6, 8), s.slice(8)];
  switch (how % 6) {
    case 0: return `8 ${a} ${b}-${c}-${d}`;
    case 1: return `+7(${a})${b}-${c}-${d}`;
    case 2: return `7${s}.0`;
    case 3: return `8-${a}-${b}${c}${d}`;
    case 4: return `+7 ${a} ${b} ${c} ${d} доб. ${how % 90 + 10}`;
    default: return `${s}`;
  }
}

/** Row `i` (0-based) of the generated base. */
export function row(i: number): string[] {
  const r = (k: number) => (i * 2654435761 + k * 40503) >>> 0;
  // 5 %: the phone of an earlier row (a duplicate inside the file).
  const phoneOf = r(1) % 100 < 5 && i > 10 ? i - 1 - (r(2) % Math.min(i, 1000)) : i;
  let phone = spell(9_000_000_000 + phoneOf * 7, r(3));
  if (r(4) % 100 < 3) phone = ['нет', 'уточнить', '123', 'звонить секретарю'][r(5) % 4]!;
  const mobile = r(6) % 100 < 30 ? `${spell(9_500_000_000 + i * 3, r(7))}${r(8) % 3 === 0 ? `, ${spell(9_600_000_000 + i, r(9))}` : ''}` : '';
  const owner = OWNERS[r(10) % OWNERS.length]!;
  const ownerCell = r(11) % 100 < 2 ? 'Уволившийся Сотрудник' : [owner.login, owner.name, owner.extension][r(12) % 3]!;
  const innCell = r(13) % 100 < 30 ? inn(i) : r(13) % 100 < 31 ? '1234567890' : '';
  const date = r(14) % 100 < 20 ? `${String(1 + (r(15) % 28)).padStart(2, '0')}.${String(1 + (r(16) % 12)).padStart(2, '0')}.2027 ${String(9 + (r(17) % 9)).padStart(2, '0')}:30` : '';
  return [
    `ООО "Компания ${i}"`, phone, mobile, r(18) % 100 < 40 ? `info${i}@firm${i % 997}.example` : '', innCell,
    r(19) % 100 < 60 ? `Контакт ${i % 5000} Иванович` : '', r(19) % 100 < 30 ? 'Директор' : '', ownerCell,
    STATUSES[r(20) % 4]!, SEGMENTS[r(21) % SEGMENTS.length]!, r(22) % 100 < 10 ? `Звонить после обеда; договор №${i}` : '', date,
  ];
}

const quote = (c: string, d: string) => (c.includes(d) || c.includes('"') ? `"${c.replace(/"/g, '""')}"` : c);

async function write(out: WriteStream, text: string | Buffer) {
  if (!out.write(text)) await once(out, 'drain');
}

export async function makeCsv(path: string, rows: number, opts: { delimiter: string; cp1251: boolean }): Promise<void> {
  const out = createWriteStream(path);
  const enc = (s: string) => (opts.cp1251 ? iconv.encode(s, 'win1251') : Buffer.from(s));
  if (!opts.cp1251) await write(out, '\ufeff');
  await write(out, enc(HEADER.join(opts.delimiter) + '\r\n'));
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += row(i).map((c) => quote(c, opts.delimiter)).join(opts.delimiter) + '\r\n';
    if (chunk.length > 256 * 1024) {
      await write(out, enc(chunk));
      chunk = '';
    }
  }
  await write(out, enc(chunk));
  out.end();
  await once(out, 'finish');
}

export async function makeXlsx(path: string, rows: number): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: true });
  const ws = wb.addWorksheet('Клиенты');
  ws.addRow(HEADER).commit();
  for (let i = 0; i < rows; i++) {
    const cells: (string | number | Date)[] = row(i);
    // As Excel keeps them: a phone typed as digits is a number cell, a date a date cell.
    if (/^7\d{10}\.0$/.test(cells[1] as string)) cells[1] = Number((cells[1] as string).slice(0, 11));
    const m = /^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})$/.exec(cells[11] as string);
    if (m) cells[11] = new Date(Date.UTC(+m[3]!, +m[2]! - 1, +m[1]!, +m[4]!, +m[5]!));
    const r = ws.addRow(cells);
    if (m) r.getCell(12).numFmt = 'dd.mm.yyyy hh:mm';
    r.commit();
  }
  ws.commit();
  await wb.commit();
}
