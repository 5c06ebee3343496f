import { describe, expect, it } from 'vitest';
import { formatPhone } from '../../web/src/ui/phone-format.js';

describe('a number as the console shows it', () => {
  it.each([
    ['+79161234567', '+7 916 123-45-67'], // a mobile, as the API stores it
    ['79161234567', '+7 916 123-45-67'], // a caller ID from the PBX, no `+`
    ['+74951110001', '+7 495 111-00-01'], // Moscow
    ['+78121234567', '+7 812 123-45-67'], // Saint Petersburg
    ['+493012345678', '+49 30 12345678'], // Berlin: the library's groups for the country
    ['+12025550123', '+1 202 555-0123'], // Washington
  ])('%s → %s', (stored, shown) => {
    expect(formatPhone(stored)).toBe(shown);
  });

  it.each([
    '+7 916 ***-**-67', // masked by the server for a list: already grouped
    '101', // an extension
    '8 916 123-45-67', // a national form typed into a card: shown as typed
    '+7916', // too short to be a number
    'не указан',
  ])('leaves %s as it is', (text) => {
    expect(formatPhone(text)).toBe(text);
  });
});
