import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';

/**
 * A number as a list shows it to someone who may not copy the base: grouped the international
 * way, the country and area code and the last two digits kept so a person can tell their
 * clients' numbers apart: `+7 916 ***-**-67`. Unparseable text keeps only its last two digits.
 */
export function maskPhoneForList(phone: string): string {
  const parsed = parsePhoneNumberFromString(phone, metadata);
  const formatted = parsed?.formatInternational() ?? phone;
  // The first group after the country code is the area or mobile operator code.
  const head = /^\+\d+ \d+ /.exec(formatted)?.[0] ?? '';
  // International groups are spaced; dashes keep the masked tail readable as one block.
  const rest = parsed ? formatted.slice(head.length).replace(/ /g, '-') : formatted;
  const digits = rest.replace(/\D/g, '').length;
  let seen = 0;
  return head + rest.replace(/\d/g, (d) => (++seen > digits - 2 ? d : '*'));
}
