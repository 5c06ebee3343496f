// Phone numbers to E.164, for client imports (messy Excel cells) and for trunk caller IDs
// (the hot path: once per call step).
//
// Metadata and check: the default `libphonenumber-js` bundle (min metadata) with `isValid()`.
// - `isPossible()` checks only the length, so `0000000000` or `1234567890` (anonymised or
//   junk caller IDs, spreadsheet filler) would become `+70000000000` and could "match" other
//   junk imported the same way. Min metadata's validity is a per-country leading-digits + length
//   pattern (RU: `[347-9]\d{9}`), which rejects those.
// - `max` metadata checks exact number ranges. Regulators allocate new ranges faster than the
//   metadata is released, and a real client number rejected at import, or a real caller
//   treated as unknown, is worse than accepting a plausible but unassigned number. Max is also
//   about twice the size to load.
//
// Extensions (`+7 (495) 111-00-01 доб. 12`): the main number is kept and the extension is
// returned separately in `ext`. Calls from such a client arrive with the main number as the
// caller ID, so the main number is what must match; the importer may keep `ext` as a note.
// Several contacts behind one main number then match one caller: that is the routing tie.
//
// The `core` entry points with the min metadata passed explicitly: the same functions and data
// as the default bundle, without its per-call wrapper that copies the arguments to add the
// metadata (0.2–2.8 µs less a parse of a new caller ID: `npx tsx bench/route/hot-path.ts`).
import {
  getCountryCallingCode,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
  type PhoneNumber,
} from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';

export type { CountryCode };

export type PhoneParseResult =
  | { ok: true; e164: string; ext: string | null }
  | { ok: false; error: string };

// No real number with an extension needs more; this bounds the work done on garbage input.
const MAX_INPUT_LENGTH = 64;
// E.164 allows 15 digits; 810 / 00 international prefixes add up to 3, a national 8 adds 1.
const MAX_DIGITS = 18;

// An extension at the end: "доб. 12", "доб 12", "вн. 12", "ext. 12", "x12", "#12".
const EXTENSION =
  /[\s,;]*\(?\s*(?:добавочный|доб|доп|внутренний|внутр|вн|extension|ext|x|#)\.?\s*:?\s*(\d{1,7})\s*\)?\s*$/iu;
// What may remain around the digits once the extension is cut off: spaces (incl. the NBSP
// Excel produces), + ( ) . / and the various dashes. Any letter left means "not a number".
const ALLOWED = /^[\s\d+().\/\-\u2010-\u2015\u2212]*$/u;

const callingCodes = new Map<CountryCode, string>();
function callingCode(region: CountryCode): string {
  let code = callingCodes.get(region);
  if (code === undefined) {
    code = getCountryCallingCode(region, metadata);
    callingCodes.set(region, code);
  }
  return code;
}

function validE164(text: string, region: CountryCode): string | null {
  let parsed: PhoneNumber | undefined;
  try {
    parsed = parsePhoneNumberFromString(text, { defaultCountry: region, extract: false }, metadata);
  } catch {
    return null;
  }
  return parsed !== undefined && parsed.isValid() ? parsed.number : null;
}

/**
 * Parses a phone number written by a person or sent by a trunk.
 *
 * Digits-only input (caller IDs) is tried in this order, the first valid reading wins:
 * 1. as dialled in `region`: national number, national prefix (`8…` in RU), the region's
 *    international prefix (`810…` in RU), or the calling code without `+` where the national
 *    reading is impossible (libphonenumber does these);
 * 2. with `+` in front, only when the digits start with the region's own calling code
 *    (`7…` in RU). Foreign numbers without a prefix (`380…` from RU) are not guessed: a wrong
 *    guess routes the call to the wrong manager, no match routes it to the department;
 * 3. `00…` as the international prefix, which trunks use whatever the region's own prefix.
 * The national reading wins an ambiguity on purpose: in regions with variable-length numbers
 * (DE) `491701234567` is a valid national number and is read as one.
 */
export function parsePhone(input: string, region: CountryCode): PhoneParseResult {
  let memo = memos.get(region);
  if (memo === undefined) memos.set(region, (memo = new Memo<PhoneParseResult>(MEMO_GENERATION)));
  let result = memo.get(input);
  if (result === undefined) {
    result = Object.freeze(parseUncached(input, region));
    memo.set(input, result);
  }
  return result;
}

// libphonenumber-js costs 7–20 µs a parse on this project's 2-core VM. A call asks for a route
// once per step with the same caller ID, and busy clients call often, so a memo turns most
// hot-path parses into one Map lookup. Results are frozen: shared. One memo per region.
const MEMO_GENERATION = 10_000;
const memos = new Map<CountryCode, Memo<PhoneParseResult>>();

/**
 * Remembers the last 10,000–20,000 keys in two generations: when the young one is full it
 * becomes the old one and the previous old one is dropped; a hit in the old one moves the key
 * back to the young one. Trimming a single Map from its oldest end instead (`keys().next()` then
 * `delete`) cost 8–14 µs more a miss, about as much as the parse (`bench/route/hot-path.ts`):
 * V8 leaves a hole per deleted entry at the front of its table, and every `keys().next()` walks
 * over them until the next rehash.
 */
class Memo<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  constructor(private readonly generation: number) {}

  get(key: string): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const older = this.old.get(key);
    if (older !== undefined) this.set(key, older);
    return older;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}

function parseUncached(input: string, region: CountryCode): PhoneParseResult {
  if (input.length > MAX_INPUT_LENGTH) return failure(input, 'too long');
  // What trunks send (`79161234567`, `+79161234567`): nothing to cut or check but the digits.
  // The extension pattern below is costly to run on every caller ID.
  const plain = PLAIN_NUMBER.exec(input);
  if (plain !== null) return validDigits(plain[2]!, plain[1] === '+', region, input);

  let main = input;
  let ext: string | null = null;
  const extMatch = EXTENSION.exec(input);
  if (extMatch !== null) {
    ext = extMatch[1] ?? null;
    main = input.slice(0, extMatch.index);
  }
  if (!ALLOWED.test(main)) return failure(input, 'unexpected characters');

  const digits = main.replace(/\D/g, '');
  if (digits.length === 0) return failure(input, input.trim() === '' ? 'empty' : 'no digits');
  if (digits.length > MAX_DIGITS) return failure(input, 'too long');
  const plusAt = main.indexOf('+');
  if (plusAt !== main.lastIndexOf('+') || (plusAt >= 0 && /\d/.test(main.slice(0, plusAt)))) {
    return failure(input, 'misplaced +');
  }
  const result = validDigits(digits, plusAt >= 0, region, input);
  return result.ok ? { ...result, ext } : result;
}

const PLAIN_NUMBER = /^(\+?)(\d{1,18})$/;

/** The refusal of `input`, saying why (for the person fixing the spreadsheet). */
function failure(input: string, why: string): PhoneParseResult {
  return {
    ok: false,
    error: `${JSON.stringify(input.length > MAX_INPUT_LENGTH ? `${input.slice(0, MAX_INPUT_LENGTH)}…` : input)} is not a phone number (${why})`,
  };
}

const RU_NATIONAL = /^[347-9]\d{9}$/;

/**
 * The plain Russian forms decided on the digits alone: libphonenumber costs 7–20 µs a number on
 * this VM, the dearest step of a routing answer for a new caller and of an import row. Eleven
 * digits starting 7 (or 8, the trunk prefix, without a plus) or ten digits, valid when the
 * national number matches the rule min metadata has for RU (`[347-9]\d{9}`). Null: not one of
 * these forms, so libphonenumber decides (it never says "invalid" on its own). A property test
 * (test/phones/russian-digits.test.ts) checks it against libphonenumber.
 */
export function russianDigits(digits: string, plus: boolean): string | null {
  if (digits.length === 11 && (digits[0] === '7' || (digits[0] === '8' && !plus))) {
    const national = digits.slice(1);
    return RU_NATIONAL.test(national) ? `+7${national}` : null;
  }
  // Ten digits starting with 8 may be the trunk prefix and nine digits: libphonenumber decides.
  if (digits.length === 10 && !plus && digits[0] !== '8' && RU_NATIONAL.test(digits)) return `+7${digits}`;
  return null;
}

/** libphonenumber's reading of bare digits, in the order described at `parsePhone`. */
export function e164OfDigits(digits: string, plus: boolean, region: CountryCode): string | null {
  if (plus) return validE164(`+${digits}`, region);
  let e164 = validE164(digits, region);
  if (e164 === null && digits.startsWith(callingCode(region))) {
    e164 = validE164(`+${digits}`, region);
  }
  if (e164 === null && digits.startsWith('00')) {
    e164 = validE164(`+${digits.slice(2)}`, region);
  }
  return e164;
}

/** The digits of a number, read in the order described at `parsePhone`; `input` is what was given. */
function validDigits(digits: string, plus: boolean, region: CountryCode, input: string): PhoneParseResult {
  const e164 = (region === 'RU' ? russianDigits(digits, plus) : null) ?? e164OfDigits(digits, plus, region);
  if (e164 !== null) return { ok: true, e164, ext: null };
  // Only on failure: say why, for the person fixing the spreadsheet.
  const lengthProblem = validatePhoneNumberLength(plus ? `+${digits}` : digits, region, metadata);
  return failure(input, LENGTH_PROBLEMS[lengthProblem ?? ''] ?? 'invalid number');
}

const LENGTH_PROBLEMS: Readonly<Record<string, string>> = {
  TOO_SHORT: 'too short',
  TOO_LONG: 'too long',
  INVALID_LENGTH: 'wrong length',
  INVALID_COUNTRY: 'unknown country code',
};

/** E.164 (`+79161234567`) or null when the input cannot be a phone number. */
export function normalizePhone(input: string, region: CountryCode): string | null {
  const result = parsePhone(input, region);
  return result.ok ? result.e164 : null;
}
