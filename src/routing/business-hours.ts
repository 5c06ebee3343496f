// Weekly opening hours of a department, in the department's own IANA time zone.
//
// Shape: `{ mon: [['09:00', '18:00']], …, sat: [], holidays: ['2025-01-01'] }`.
// - A day that is missing or empty is closed.
// - Times are wall-clock `HH:MM`, 24-hour; `24:00` is allowed as a closing time.
// - A range whose close is earlier than its open crosses midnight: fri `['22:00', '02:00']` is
//   open from Friday 22:00 to Saturday 02:00. It belongs to the day it opens: a holiday on
//   Saturday does not cut Friday's night shift short, a holiday on Friday cancels all of it.
// - Open equal to close is rejected (a full day is `['00:00', '24:00']`).
// - Ranges may overlap; the union is open.
// - `holidays` are local dates (`YYYY-MM-DD`) closed all day.
// Wall-clock reading through Intl makes DST free: 09:00 in Berlin is 09:00 before and after
// the switch, and a time inside a skipped or repeated hour is read as the clock shows it.

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `[open, close]`, each `HH:MM`. */
export type TimeRange = readonly [open: string, close: string];

export type WeeklySchedule = { readonly [D in Weekday]?: readonly TimeRange[] } & {
  readonly holidays?: readonly string[];
};

const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function minutes(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

// Creating a DateTimeFormat costs about 15 formatToParts calls, and the route asks per request;
// zones are few (one per department), so the cache stays small.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // h23: never '24' at midnight (a known quirk of hour12: false).
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const DAY_INDEX: Readonly<Record<string, number>> = {
  Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6,
};

interface LocalTime {
  day: number;
  minute: number;
  year: number;
  month: number;
  date: number;
}

// Every request of the same minute reads the same wall clock (zone offsets are whole minutes):
// remember the last reading per zone, which saves the formatToParts call.
const lastRead = new Map<string, { at: number; time: LocalTime }>();

function localTime(timeZone: string, now: Date): LocalTime {
  const at = Math.floor(now.getTime() / 60_000);
  const last = lastRead.get(timeZone);
  if (last !== undefined && last.at === at) return last.time;
  const time = readLocalTime(timeZone, now);
  lastRead.set(timeZone, { at, time });
  return time;
}

function readLocalTime(timeZone: string, now: Date): LocalTime {
  const t: LocalTime = { day: 0, minute: 0, year: 0, month: 0, date: 0 };
  for (const part of formatter(timeZone).formatToParts(now)) {
    switch (part.type) {
      case 'weekday': t.day = DAY_INDEX[part.value] ?? 0; break;
      case 'hour': t.minute += Number(part.value) * 60; break;
      case 'minute': t.minute += Number(part.value); break;
      case 'year': t.year = Number(part.value); break;
      case 'month': t.month = Number(part.value); break;
      case 'day': t.date = Number(part.value); break;
    }
  }
  return t;
}

function isoDate(year: number, month: number, date: number): string {
  // Date.UTC normalises date 0 to the last day of the previous month (and year).
  return new Date(Date.UTC(year, month - 1, date)).toISOString().slice(0, 10);
}

function ranges(schedule: WeeklySchedule, day: number): readonly TimeRange[] {
  const list = schedule[WEEKDAYS[day] ?? 'mon'];
  return Array.isArray(list) ? list : [];
}

/**
 * Whether the schedule is open at `now`. Throws RangeError for an unknown time zone (see
 * `validateTimeZone`). A range that does not parse counts as closed.
 */
export function isOpen(schedule: WeeklySchedule, timeZone: string, now: Date): boolean {
  const t = localTime(timeZone, now);
  const holidays = schedule.holidays ?? [];

  if (holidays.length === 0 || !holidays.includes(isoDate(t.year, t.month, t.date))) {
    for (const [open, close] of ranges(schedule, t.day)) {
      const o = minutes(open);
      const c = minutes(close);
      if (o < c ? t.minute >= o && t.minute < c : o > c && t.minute >= o) return true;
    }
  }
  // Last night's ranges that cross midnight.
  if (holidays.length === 0 || !holidays.includes(isoDate(t.year, t.month, t.date - 1))) {
    for (const [open, close] of ranges(schedule, (t.day + 6) % 7)) {
      const o = minutes(open);
      const c = minutes(close);
      if (o > c && t.minute < c) return true;
    }
  }
  return false;
}

/** A message when `timeZone` is not an IANA zone this runtime knows, else null. */
export function validateTimeZone(timeZone: string): string | null {
  try {
    formatter(timeZone);
    return null;
  } catch {
    return `"${timeZone}" is not a known time zone`;
  }
}

/** Problems with a schedule given to the API, as messages; empty when it is valid. */
export function validateSchedule(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['business hours must be an object keyed by mon…sun (and optionally holidays)'];
  }
  const errors: string[] = [];
  for (const [key, list] of Object.entries(value)) {
    if (key === 'holidays') {
      if (!Array.isArray(list)) {
        errors.push('holidays must be a list of dates YYYY-MM-DD');
        continue;
      }
      list.forEach((d: unknown, i) => {
        if (typeof d !== 'string' || !isRealDate(d)) {
          errors.push(`holidays[${i}]: ${JSON.stringify(d)} is not a date YYYY-MM-DD`);
        }
      });
      continue;
    }
    if (!(WEEKDAYS as readonly string[]).includes(key)) {
      errors.push(`${key}: unknown day (use ${WEEKDAYS.join(', ')})`);
      continue;
    }
    if (!Array.isArray(list)) {
      errors.push(`${key} must be a list of ["HH:MM", "HH:MM"] ranges`);
      continue;
    }
    list.forEach((range: unknown, i) => {
      const at = `${key}[${i}]`;
      if (!Array.isArray(range) || range.length !== 2) {
        errors.push(`${at} must be ["HH:MM", "HH:MM"]`);
        return;
      }
      const [open, close] = range as unknown[];
      if (typeof open !== 'string' || !TIME.test(open) || open === '24:00') {
        errors.push(`${at}: opening time ${JSON.stringify(open)} is not HH:MM (00:00–23:59)`);
      } else if (typeof close !== 'string' || !TIME.test(close)) {
        errors.push(`${at}: closing time ${JSON.stringify(close)} is not HH:MM (00:00–24:00)`);
      } else if (open === close) {
        errors.push(`${at}: opening and closing times are equal (a full day is ["00:00", "24:00"])`);
      }
    });
  }
  return errors;
}

function isRealDate(text: string): boolean {
  const m = DATE.exec(text);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return isoDate(y, mo, d) === text;
}
