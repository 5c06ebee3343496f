import ExcelJS from 'exceljs';

/** A column of an exported table: its header in both languages and how to read a row. */
export interface Column<T> {
  ru: string;
  en: string;
  value: (row: T) => string | number | null;
  /** Excel number format, e.g. '0.0%'. */
  format?: string;
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/**
 * One sheet, headers "Русский / English", frozen header row, numbers as numbers (a director sums
 * and charts them in Excel). exceljs writes a real .xlsx, not CSV renamed.
 */
export async function toXlsx<T>(sheet: string, columns: readonly Column<T>[], rows: readonly T[]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'Switchboard';
  const ws = book.addWorksheet(sheet.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = columns.map((c) => ({ header: `${c.ru} / ${c.en}`, width: Math.max(12, Math.min(40, c.ru.length + c.en.length + 3)), ...(c.format && { style: { numFmt: c.format } }) }));
  ws.getRow(1).font = { bold: true };
  for (const row of rows) ws.addRow(columns.map((c) => c.value(row)));
  return Buffer.from(await book.xlsx.writeBuffer());
}
