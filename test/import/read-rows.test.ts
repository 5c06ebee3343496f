import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import ExcelJS from '../../src/import/exceljs.js';
import { readRows, sniffFile } from '../../src/import/read-rows.js';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'sb-xlsx-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

it('reads Cyrillic text of a large XLSX intact (exceljs split letters at zip chunk boundaries)', async () => {
  const path = join(dir, 'big.xlsx');
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true });
  const ws = wb.addWorksheet('Клиенты');
  const text = (i: number) => `ООО "Компания ${i}" — Иванович, договор №${i}`;
  for (let i = 0; i < 5000; i++) ws.addRow([text(i), `Контакт ${i}`]).commit();
  ws.commit();
  await wb.commit();
  let n = 0;
  for await (const r of readRows(path, { shape: await sniffFile(path) })) {
    expect(r.cells).toEqual([text(n), `Контакт ${n}`]);
    n++;
  }
  expect(n).toBe(5000);
});
