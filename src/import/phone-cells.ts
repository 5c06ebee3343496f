import { parsePhone, russianDigits, type CountryCode } from '../phones/normalize.js';

// A phone cell as people type it into Excel: several numbers in one cell, a number Excel kept as
// a float (`79035554436.0`, `7.9035554436E+10`), an extension. libphonenumber costs 7–20 µs a
// number on this VM, which alone would cap a dry run near 50,000 rows/s; the plain Russian forms
// (11 digits starting 7/8, 10 digits, with any punctuation) are decided here on the digits
// instead (normalize.ts, `russianDigits`). Everything else goes to parsePhone.
// A property test checks that both agree (test/import/phone-cells.test.ts).

export type PhoneCell = { ok: true; e164: string; raw: string } | { ok: false; raw: string };

// Separators between numbers: ',' ';' new lines, or " или ". A '/' is not one: "222-33-44/45" is.
const SPLIT = /[,;\n\r]+|\s+(?:или|or)\s+/iu;
const PUNCTUATION = /[\s()+.\-\u00a0\u2010-\u2015\u2212]/g;
// The extension forms normalize.ts cuts off (the main number is what a caller ID matches).
const EXTENSION = /[\s,;]*\(?\s*(?:добавочный|доб|доп|внутренний|внутр|вн|extension|ext|x|#)\.?\s*:?\s*\d{1,7}\s*\)?\s*$/iu;

/** The numbers of one cell, each parsed or not; an empty cell gives none. */
export function phonesOfCell(cell: string, region: CountryCode): PhoneCell[] {
  const out: PhoneCell[] = [];
  for (const part of cell.split(SPLIT)) {
    const raw = part.trim();
    if (raw === '') continue;
    const e164 = fastRu(raw, region) ?? slow(raw, region);
    out.push(e164 === null ? { ok: false, raw } : { ok: true, e164, raw });
  }
  return out;
}

/** An Excel numeric cell written as text: `79035554436.0` or `7.9035554436E+10`. */
function excelNumber(raw: string): string | null {
  if (/^\d{10,15}\.0+$/.test(raw)) return raw.slice(0, raw.indexOf('.'));
  if (/^\d(?:\.\d+)?e\+\d{1,2}$/i.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? String(n) : null;
  }
  return null;
}

function fastRu(raw: string, region: CountryCode): string | null {
  if (region !== 'RU') return null;
  const digits = (excelNumber(raw) ?? raw.replace(EXTENSION, '')).replace(PUNCTUATION, '');
  // Anything but digits (a letter, an extension, '#') is left to the full parser.
  if (!/^\d+$/.test(digits)) return null;
  return russianDigits(digits, raw.trimStart().startsWith('+'));
}

function slow(raw: string, region: CountryCode): string | null {
  const parsed = parsePhone(excelNumber(raw) ?? raw, region);
  return parsed.ok ? parsed.e164 : null;
}
