import { describe, expect, it } from 'vitest';
import {
  isOpen, validateSchedule, validateTimeZone, type WeeklySchedule,
} from '../../src/routing/business-hours.js';

const office: WeeklySchedule = {
  mon: [['09:00', '18:00']],
  tue: [['09:00', '18:00']],
  wed: [['09:00', '18:00']],
  thu: [['09:00', '18:00']],
  fri: [['09:00', '18:00']],
  sat: [],
  sun: [],
};

const at = (iso: string) => new Date(iso);

describe('isOpen', () => {
  it.each([
    // Moscow is UTC+3 all year: winter and summer read the same.
    ['Europe/Moscow', office, '2025-01-15T06:00:00Z', true], // Wed 09:00
    ['Europe/Moscow', office, '2025-01-15T05:59:00Z', false], // Wed 08:59
    ['Europe/Moscow', office, '2025-01-15T14:59:00Z', true], // Wed 17:59
    ['Europe/Moscow', office, '2025-01-15T15:00:00Z', false], // Wed 18:00: close is exclusive
    ['Europe/Moscow', office, '2025-07-16T06:00:00Z', true], // Wed 09:00 in summer
    ['Europe/Moscow', office, '2025-07-16T05:59:00Z', false],
    ['Europe/Moscow', office, '2025-01-18T08:00:00Z', false], // Sat
    // The local weekday differs from the UTC one: Sun 23:00Z is Mon 09:00 in Vladivostok.
    ['Asia/Vladivostok', office, '2025-01-19T23:00:00Z', true],
    ['Asia/Vladivostok', office, '2025-01-19T22:59:00Z', false],
    // Berlin, spring forward on Sun 2025-03-30 at 01:00Z (02:00 CET → 03:00 CEST).
    ['Europe/Berlin', office, '2025-03-28T08:00:00Z', true], // Fri 09:00 CET
    ['Europe/Berlin', office, '2025-03-28T07:59:00Z', false],
    ['Europe/Berlin', office, '2025-03-31T07:00:00Z', true], // Mon 09:00 CEST
    ['Europe/Berlin', office, '2025-03-31T06:59:00Z', false],
    ['Europe/Berlin', { sun: [['03:00', '04:00']] }, '2025-03-30T01:00:00Z', true], // 03:00 CEST
    ['Europe/Berlin', { sun: [['03:00', '04:00']] }, '2025-03-30T00:59:00Z', false], // 01:59 CET
    // Berlin, fall back on Sun 2025-10-26 at 01:00Z (03:00 CEST → 02:00 CET): 02:30 twice.
    ['Europe/Berlin', { sun: [['02:00', '03:00']] }, '2025-10-26T00:30:00Z', true],
    ['Europe/Berlin', { sun: [['02:00', '03:00']] }, '2025-10-26T01:30:00Z', true],
    ['Europe/Berlin', { sun: [['02:00', '03:00']] }, '2025-10-26T02:00:00Z', false], // 03:00 CET
    ['Europe/Berlin', { sun: [['02:00', '03:00']] }, '2025-10-25T23:59:00Z', false], // 01:59 CEST
    ['Europe/Berlin', office, '2025-10-27T08:00:00Z', true], // Mon 09:00 CET
    ['Europe/Berlin', office, '2025-10-27T07:59:00Z', false],
  ] as const)('%s %s at %s → %s', (zone, schedule, iso, expected) => {
    expect(isOpen(schedule, zone, at(iso))).toBe(expected);
  });

  describe('ranges crossing midnight', () => {
    const nights: WeeklySchedule = { fri: [['22:00', '02:00']], sun: [['23:00', '01:00']] };
    it.each([
      ['2025-01-17T19:00:00Z', true], // Fri 22:00 MSK
      ['2025-01-17T18:59:00Z', false], // Fri 21:59
      ['2025-01-17T22:59:00Z', true], // Sat 01:59, from Friday's range
      ['2025-01-17T23:00:00Z', false], // Sat 02:00
      ['2025-01-18T19:00:00Z', false], // Sat 22:00: Saturday has no range
      ['2025-01-19T21:30:00Z', true], // Mon 00:30, from Sunday's range (week wraps)
      ['2025-01-19T22:00:00Z', false], // Mon 01:00
    ])('%s → %s', (iso, expected) => {
      expect(isOpen(nights, 'Europe/Moscow', at(iso))).toBe(expected);
    });
  });

  it('24:00 closes at midnight', () => {
    const late: WeeklySchedule = { mon: [['18:00', '24:00']] };
    expect(isOpen(late, 'Europe/Moscow', at('2025-01-13T20:59:00Z'))).toBe(true); // Mon 23:59
    expect(isOpen(late, 'Europe/Moscow', at('2025-01-13T21:00:00Z'))).toBe(false); // Tue 00:00
  });

  it('several ranges a day (lunch break)', () => {
    const lunch: WeeklySchedule = { wed: [['09:00', '13:00'], ['14:00', '18:00']] };
    expect(isOpen(lunch, 'Europe/Moscow', at('2025-01-15T09:30:00Z'))).toBe(true); // 12:30
    expect(isOpen(lunch, 'Europe/Moscow', at('2025-01-15T10:30:00Z'))).toBe(false); // 13:30
    expect(isOpen(lunch, 'Europe/Moscow', at('2025-01-15T11:30:00Z'))).toBe(true); // 14:30
  });

  it('missing and empty days are closed', () => {
    expect(isOpen({}, 'Europe/Moscow', at('2025-01-15T09:00:00Z'))).toBe(false);
    expect(isOpen({ wed: [] }, 'Europe/Moscow', at('2025-01-15T09:00:00Z'))).toBe(false);
  });

  describe('holidays (local dates)', () => {
    it('close the whole day', () => {
      const s: WeeklySchedule = { ...office, holidays: ['2025-01-15'] };
      expect(isOpen(s, 'Europe/Moscow', at('2025-01-15T09:00:00Z'))).toBe(false);
      expect(isOpen(s, 'Europe/Moscow', at('2025-01-16T09:00:00Z'))).toBe(true);
    });

    it('are local dates, not UTC dates', () => {
      // Mon 2025-01-20 09:00 in Vladivostok is still Sunday in UTC.
      const s: WeeklySchedule = { ...office, holidays: ['2025-01-20'] };
      expect(isOpen(s, 'Asia/Vladivostok', at('2025-01-19T23:00:00Z'))).toBe(false);
    });

    it('a night range belongs to the day it opens', () => {
      const nights = { fri: [['22:00', '02:00']] } as const;
      const satHoliday: WeeklySchedule = { ...nights, holidays: ['2025-01-18'] };
      const friHoliday: WeeklySchedule = { ...nights, holidays: ['2025-01-17'] };
      expect(isOpen(satHoliday, 'Europe/Moscow', at('2025-01-17T22:00:00Z'))).toBe(true); // Sat 01:00
      expect(isOpen(friHoliday, 'Europe/Moscow', at('2025-01-17T22:00:00Z'))).toBe(false);
      expect(isOpen(friHoliday, 'Europe/Moscow', at('2025-01-17T20:00:00Z'))).toBe(false); // Fri 23:00
    });

    it('finds yesterday across a year boundary', () => {
      const s: WeeklySchedule = { tue: [['22:00', '02:00']], holidays: ['2024-12-31'] };
      // Wed 2025-01-01 01:00 MSK: Tuesday's night range, Tuesday a holiday.
      expect(isOpen(s, 'Europe/Moscow', at('2024-12-31T22:00:00Z'))).toBe(false);
      expect(isOpen({ tue: s.tue }, 'Europe/Moscow', at('2024-12-31T22:00:00Z'))).toBe(true);
    });
  });

  it('throws RangeError for an unknown zone', () => {
    expect(() => isOpen(office, 'Mars/Olympus', new Date())).toThrow(RangeError);
  });
});

describe('validateTimeZone', () => {
  it('accepts IANA zones and rejects the rest', () => {
    expect(validateTimeZone('Europe/Moscow')).toBeNull();
    expect(validateTimeZone('Mars/Olympus')).toBe('"Mars/Olympus" is not a known time zone');
  });
});

describe('validateSchedule', () => {
  it('accepts a valid schedule', () => {
    expect(validateSchedule({ ...office, fri: [['22:00', '02:00']], mon: [['00:00', '24:00']], holidays: ['2025-01-01'] })).toEqual([]);
    expect(validateSchedule({})).toEqual([]);
  });

  it.each([
    [null, 'must be an object'],
    [[], 'must be an object'],
    ['09:00-18:00', 'must be an object'],
    [{ thur: [] }, 'thur: unknown day'],
    [{ mon: '09:00-18:00' }, 'mon must be a list'],
    [{ mon: [['09:00']] }, 'mon[0] must be ["HH:MM", "HH:MM"]'],
    [{ mon: [['9:00', '18:00']] }, 'mon[0]: opening time "9:00"'],
    [{ mon: [['09:00', '25:00']] }, 'mon[0]: closing time "25:00"'],
    [{ mon: [['09:00', '18:60']] }, 'closing time "18:60"'],
    [{ mon: [['24:00', '02:00']] }, 'opening time "24:00"'],
    [{ mon: [['09:00', 18]] }, 'closing time 18'],
    [{ tue: [['09:00', '18:00'], ['10:00', '10:00']] }, 'tue[1]: opening and closing times are equal'],
    [{ holidays: '2025-01-01' }, 'holidays must be a list'],
    [{ holidays: ['2025-02-30'] }, 'holidays[0]: "2025-02-30" is not a date'],
    [{ holidays: ['01.01.2025'] }, 'holidays[0]: "01.01.2025" is not a date'],
  ])('%j → %s', (value, message) => {
    const errors = validateSchedule(value);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
  });
});
