import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';

/**
 * A number grouped the way people read it: `+79161234567` → `+7 916 123-45-67`, by the same
 * library and metadata the server normalises and masks with (src/phones), and in the masked form's
 * shape (`+7 916 ***-**-67`, src/phones/mask.ts): the international groups, dashes after the area
 * or operator code. A caller ID the PBX sent without its `+` (`79161234567`) is read as
 * international; a masked number (already grouped) and anything not a valid number stay as they are.
 */
export function formatPhone(number: string): string {
  if (number.includes('*')) return number;
  const digits = number.replace(/\D/g, '');
  const international = number.trimStart().startsWith('+') ? number : digits.length >= 11 ? `+${digits}` : null;
  if (international === null) return number;
  const parsed = parsePhoneNumberFromString(international, metadata);
  if (!parsed?.isValid()) return number;
  const grouped = parsed.formatInternational();
  const head = /^\+\d+ \d+ /.exec(grouped)?.[0] ?? '';
  return head + grouped.slice(head.length).replace(/ /g, '-');
}
