import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePhone } from '../../src/phones/normalize.js';
import { phonesOfCell } from '../../src/import/phone-cells.js';
import { detectDelimiter, detectEncoding } from '../../src/import/read-rows.js';
import { guessMapping } from '../../src/import/import-fields.js';
import { parseDate } from '../../src/import/row-fate.js';
import iconv from 'iconv-lite';

const e164 = (cell: string) => phonesOfCell(cell, 'RU').map((p) => (p.ok ? p.e164 : `bad:${p.raw}`));

describe('phone cells', () => {
  it('reads the forms people type into Excel', () => {
    expect(e164('8 916 123-45-67')).toEqual(['+79161234567']);
    expect(e164('+7(495)222-33-44 доб. 12')).toEqual(['+74952223344']);
    expect(e164('79035554436.0')).toEqual(['+79035554436']);
    expect(e164('7.9035554436E+10')).toEqual(['+79035554436']);
    expect(e164('8 (812) 555-01-02, 8 921 000-11-22')).toEqual(['+78125550102', '+79210001122']);
    expect(e164('9161234567; +7 916 765 43 21')).toEqual(['+79161234567', '+79167654321']);
    expect(e164('нет телефона')).toEqual(['bad:нет телефона']);
    expect(e164('8 000 000-00-00')).toEqual(['bad:8 000 000-00-00']);
    expect(e164('  ')).toEqual([]);
  });

  it('the digits-only fast path agrees with libphonenumber on every input', () => {
    const digit = fc.constantFrom(...'0123456789');
    const sep = fc.constantFrom('', ' ', '-', '(', ')', '.', '\u00a0');
    const piece = fc.tuple(digit, sep).map(([d, s]) => d + s);
    const ext = fc.constantFrom('', '', ' доб. 12', ' доб 3', ', вн. 45', ' ext 5', ' x7', ' #7', ' (доб. 123)');
    const typed = fc.tuple(fc.constantFrom('', '+', '8', '+7', '7', '8 ('), fc.array(piece, { minLength: 8, maxLength: 13 }), ext).map(([p, xs, e]) => p + xs.join('') + e);
    fc.assert(
      fc.property(typed, (cell) => {
        const [got] = phonesOfCell(cell, 'RU');
        const want = parsePhone(cell, 'RU');
        expect(got?.ok ? got.e164 : null).toBe(want.ok ? want.e164 : null);
      }),
      { numRuns: 20000 },
    );
  });
});

describe('file shape', () => {
  it('tells UTF-8 from Windows-1251, a sample cut inside a character included', () => {
    const text = 'Название;Телефон\nООО Ромашка;8 916 123-45-67\n';
    expect(detectEncoding(Buffer.from(text))).toBe('utf-8');
    expect(detectEncoding(Buffer.from(text).subarray(0, 5))).toBe('utf-8');
    expect(detectEncoding(iconv.encode(text, 'win1251'))).toBe('windows-1251');
    expect(detectEncoding(Buffer.from('\ufeffName,Phone'))).toBe('utf-8');
  });
  it('picks the delimiter that splits the lines evenly, not one inside quotes or a title', () => {
    expect(detectDelimiter('Выгрузка, декабрь\nа;б;в\n1;"2,5";3\n4;5;6')).toBe(';');
    expect(detectDelimiter('a,b,c\n"x;y",2,3\n4,5,6')).toBe(',');
    expect(detectDelimiter('a\tb\tc\n1\t2\t3')).toBe('\t');
  });
  it('maps Russian and English headers; phone columns may repeat, others keep their first column', () => {
    const fields = guessMapping(['Компания', 'Тел.', 'Моб. телефон', 'Почта', 'ИНН', 'ФИО', 'Ответственный', 'Примечание', 'Сайт', 'Адрес', 'След. звонок', 'Клиент', 'Whatever']).map((m) => m.field);
    expect(fields).toEqual(['name', 'phone', 'phone', 'email', 'inn', 'contact', 'owner', 'comment', 'website', 'address', 'nextContactAt', null, null]);
    expect(guessMapping(['Client', 'Phone', 'E-mail', 'Contact person', 'Position', 'Manager', 'Status', 'Segment', 'Next call']).map((m) => m.field)).toEqual([
      'name', 'phone', 'email', 'contact', 'position', 'owner', 'status', 'segment', 'nextContactAt',
    ]);
  });
  it('reads dates as typed in Russia, in the given offset, and refuses impossible ones', () => {
    expect(parseDate('15.01.2027 10:30', '+03:00')?.toISOString()).toBe('2027-01-15T07:30:00.000Z');
    expect(parseDate('2027-01-15', '+03:00')?.toISOString()).toBe('2027-01-14T21:00:00.000Z');
    expect(parseDate('2027-01-15T10:30:15.250+03:00', '+05:00')?.toISOString()).toBe('2027-01-15T07:30:15.250Z');
    expect(parseDate('31.02.2027', '+03:00')).toBeNull();
    expect(parseDate('завтра', '+03:00')).toBeNull();
  });
});
