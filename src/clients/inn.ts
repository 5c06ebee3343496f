// ИНН (Russian taxpayer number): 10 digits for an organisation, 12 for a person or sole trader.
// The last one (or two) digits are check digits: a weighted sum mod 11, mod 10. A typo in a
// number nobody can verify by eye is caught here rather than on an invoice.
const W10 = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const W11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const W12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

const checkDigit = (digits: readonly number[], weights: readonly number[]): number =>
  (weights.reduce((sum, w, i) => sum + w * digits[i]!, 0) % 11) % 10;

/** Why `inn` is not a valid INN, or null when it is. */
export function innError(inn: string): string | null {
  if (!/^\d+$/.test(inn)) return 'must be digits only';
  const d = [...inn].map(Number);
  if (d.length === 10) return checkDigit(d, W10) === d[9] ? null : 'checksum does not match (10-digit INN)';
  if (d.length === 12) {
    return checkDigit(d, W11) === d[10] && checkDigit(d, W12) === d[11] ? null : 'checksum does not match (12-digit INN)';
  }
  return 'must have 10 digits (organisation) or 12 (person)';
}
