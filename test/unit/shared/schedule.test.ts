import { describe, expect, it } from '@jest/globals';
import { ConfigurationError, IntervalNotAllowed, IntervalNotClosed } from '../../../lambdas/shared/errors.js';
import {
  checkInterval,
  compactTime,
  explicitInterval,
  intervalAfter,
  intervalEndingBy,
  intervalsBetween,
  isOnGrid,
  parseSchedule,
} from '../../../lambdas/shared/schedule.js';

const at = (iso: string) => new Date(iso);

describe('data intervals of a schedule', () => {
  it('gives a rate(1 hour) run the whole hour that ended at or before its time', () => {
    const hourly = parseSchedule('rate(1 hour)');
    expect(intervalEndingBy(hourly, at('2026-11-25T13:00:00Z'))).toEqual({
      start: '2026-11-25T12:00:00.000Z',
      end: '2026-11-25T13:00:00.000Z',
    });
    // A rule created at :17 fires at :17; the interval stays on the hour grid.
    expect(intervalEndingBy(hourly, at('2026-11-25T13:17:42Z')).start).toBe('2026-11-25T12:00:00.000Z');
  });

  it('aligns rate(N days) on UTC midnights and rate(15 minutes) on quarter hours', () => {
    expect(intervalEndingBy(parseSchedule('rate(1 day)'), at('2026-11-25T00:00:05Z'))).toEqual({
      start: '2026-11-24T00:00:00.000Z',
      end: '2026-11-25T00:00:00.000Z',
    });
    expect(intervalEndingBy(parseSchedule('rate(15 minutes)'), at('2026-11-25T10:31:00Z'))).toEqual({
      start: '2026-11-25T10:15:00.000Z',
      end: '2026-11-25T10:30:00.000Z',
    });
  });

  it('runs a cron interval from the previous fire time to the last one', () => {
    const nightly = parseSchedule('cron(0 2 * * ? *)');
    expect(intervalEndingBy(nightly, at('2026-11-25T02:00:30Z'))).toEqual({
      start: '2026-11-24T02:00:00.000Z',
      end: '2026-11-25T02:00:00.000Z',
    });
    expect(intervalEndingBy(nightly, at('2026-11-25T01:59:00Z')).end).toBe('2026-11-24T02:00:00.000Z');
  });

  it('reads weekday names, ranges and steps as EventBridge does (1 = Sunday)', () => {
    const weekdays = parseSchedule('cron(30 6 ? * MON-FRI *)');
    // Monday 2026-11-30 06:30: the previous fire time is Friday 2026-11-27 06:30.
    expect(intervalEndingBy(weekdays, at('2026-11-30T07:00:00Z'))).toEqual({
      start: '2026-11-27T06:30:00.000Z',
      end: '2026-11-30T06:30:00.000Z',
    });
    const everyTen = parseSchedule('cron(0/10 * * * ? *)');
    expect(intervalEndingBy(everyTen, at('2026-11-25T10:25:00Z')).start).toBe('2026-11-25T10:10:00.000Z');
  });

  it('lists every whole interval of a backfill range, oldest first', () => {
    const intervals = intervalsBetween(
      parseSchedule('rate(1 hour)'),
      at('2026-11-25T09:30:00Z'),
      at('2026-11-25T13:00:00Z'),
    );
    expect(intervals.map((i) => i.start)).toEqual([
      '2026-11-25T10:00:00.000Z',
      '2026-11-25T11:00:00.000Z',
      '2026-11-25T12:00:00.000Z',
    ]);
  });

  it('evaluates L, W and # as EventBridge defines them', () => {
    // The last day of the month: 2027-02-28 → 2027-03-31.
    expect(intervalEndingBy(parseSchedule('cron(0 12 L * ? *)'), at('2027-04-01T00:00:00Z'))).toEqual({
      start: '2027-02-28T12:00:00.000Z',
      end: '2027-03-31T12:00:00.000Z',
    });
    // 2026-11-15 is a Sunday: the nearest weekday is Monday the 16th.
    expect(intervalEndingBy(parseSchedule('cron(0 8 15W * ? *)'), at('2026-11-20T00:00:00Z')).end).toBe(
      '2026-11-16T08:00:00.000Z',
    );
    // 2#1: the first Monday of the month (2026-11-02, 2026-12-07).
    expect(intervalEndingBy(parseSchedule('cron(0 9 ? * 2#1 *)'), at('2026-12-07T09:00:00Z'))).toEqual({
      start: '2026-11-02T09:00:00.000Z',
      end: '2026-12-07T09:00:00.000Z',
    });
    // 6L: the last Friday of the month (2026-11-27).
    expect(intervalEndingBy(parseSchedule('cron(0 18 ? * 6L *)'), at('2026-12-01T00:00:00Z')).end).toBe(
      '2026-11-27T18:00:00.000Z',
    );
  });

  it('checks an explicit interval and names runs by its compact start', () => {
    expect(() => explicitInterval('2026-11-25T13:00:00Z', '2026-11-25T12:00:00Z')).toThrow(/not before/);
    expect(() => explicitInterval('yesterday', '2026-11-25T12:00:00Z')).toThrow(/ISO 8601/);
    expect(compactTime('2026-11-25T13:00:00.000Z')).toBe('20261125T130000Z');
  });
});

// From the EventBridge references "Rate expressions" and "Cron expressions" (user guide): the
// examples they give as valid, and expressions their rules refuse. CloudFormation fails to create
// a rule with any of the refused ones, and the stack rolls back.
const VALID = [
  'rate(1 minute)',
  'rate(5 minutes)',
  'rate(1 hour)',
  'rate(12 hours)',
  'rate(1 day)',
  'rate(7 days)',
  'cron(0 10 * * ? *)',
  'cron(15 12 * * ? *)',
  'cron(0 18 ? * MON-FRI *)',
  'cron(0 8 1 * ? *)',
  'cron(0/15 * * * ? *)',
  'cron(0/10 * ? * MON-FRI *)',
  'cron(0/5 8-17 ? * MON-FRI *)',
  'cron(0 9 ? * 2#1 *)',
  'cron(0 20 * * ? *)',
  'cron(0 2 ? JAN,FEB,MAR * *)',
  'cron(0 0 1-15 * ? 2027)',
  'cron(0 12 L * ? *)',
  'cron(0 8 3W * ? *)',
  'cron(0 18 ? * L *)',
  'cron(0 0 ? * 6L 2026-2030)',
  'cron(0 0 1 1 ? 1970)',
  'cron(0 0 1 1 ? 2199)',
];

const INVALID: Array<[string, RegExp]> = [
  ['rate(1 hours)', /the unit 'hour' with the value 1/],
  ['rate(5 hour)', /the unit 'hours' with the value 5/],
  ['rate(1 minutes)', /the unit 'minute' with the value 1/],
  ['rate(2 day)', /the unit 'days' with the value 2/],
  ['rate(0 minutes)', /at least 1/],
  ['rate(01 hour)', /whole number of at least 1/],
  ['rate(1.5 hours)', /expected rate\(<value> <unit>\)/],
  ['rate(1 week)', /unknown unit 'week'/],
  ['rate(1  hour)', /expected rate\(<value> <unit>\)/],
  ['cron(0 2 * * *)', /6 fields .* found 5/],
  ['cron(0 0 2 * * ? *)', /found 7; EventBridge has no seconds field/],
  ['cron(0 10 * * * *)', /exactly one of day-of-month \('\*'\) and day-of-week \('\*'\) must be '\?'/],
  ['cron(0 10 ? * ? *)', /exactly one of day-of-month/],
  ['cron(0 10 1 * MON *)', /exactly one of day-of-month/],
  ['cron(60 10 * * ? *)', /'60' in the minutes field .* expected 0-59/],
  ['cron(0 24 * * ? *)', /'24' in the hours field/],
  ['cron(0 10 32 * ? *)', /'32' in the day-of-month field/],
  ['cron(0 10 0 * ? *)', /'0' in the day-of-month field/],
  ['cron(0 10 * 13 ? *)', /'13' in the month field .* JAN-DEC/],
  ['cron(0 10 * JAN-XYZ ? *)', /'XYZ' in the month field/],
  ['cron(0 10 ? * 8 *)', /'8' in the day-of-week field .* SUN-SAT/],
  ['cron(0 10 ? * 0 *)', /'0' in the day-of-week field/],
  ['cron(0 10 * * ? 1969)', /'1969' in the year field .* 1970-2199/],
  ['cron(0 10 * * ? 2200)', /'2200' in the year field/],
  ['cron(0 9 ? * 3#1,6#3 *)', /a list such as 3#1,6#3 is refused/],
  ['cron(0 9 ? * 2#6 *)', /1-5/],
  ['cron(0 10 ? * MON/2 *)', /the day-of-week field takes no '\/' increment/],
  ['cron(0 10 W * ? *)', /L and W stand alone/],
  ['cron(0 10 L,15 * ? *)', /L and W stand alone/],
  ['cron(0 10 ? * L,MON *)', /L stands alone/],
  ['cron(0/0 10 * * ? *)', /an increment is/],
  ['cron(0 17-9 * * ? *)', /runs backwards/],
  ['cron(0 10 * * ? *', /not an EventBridge expression/],
  ['every hour', /not an EventBridge expression/],
];

describe('schedule expressions, checked as EventBridge checks them', () => {
  it.each(VALID)('accepts %s', (expression) => {
    expect(parseSchedule(expression).expression).toBe(expression);
  });

  it.each(INVALID)('refuses %s, saying why', (expression, why) => {
    expect(() => parseSchedule(expression)).toThrow(ConfigurationError);
    expect(() => parseSchedule(expression)).toThrow(why);
  });
});

describe('intervals a run may take', () => {
  const hourly = parseSchedule('rate(1 hour)');
  const now = at('2026-11-25T13:30:00Z');
  const check = (start: string, end: string, force = false) =>
    checkInterval(hourly, explicitInterval(start, end), now, { force, dataset: 'api-pages' });

  it('takes an interval of the grid that has ended', () => {
    expect(() => check('2026-11-25T12:00:00Z', '2026-11-25T13:00:00Z')).not.toThrow();
  });

  it('refuses an interval off the grid, naming the nearest intervals of the schedule', () => {
    expect(() => check('2026-11-25T10:00:00Z', '2026-11-25T10:17:00Z')).toThrow(IntervalNotAllowed);
    expect(() => check('2026-11-25T10:00:00Z', '2026-11-25T10:17:00Z')).toThrow(
      'the nearest are 2026-11-25T09:00:00.000Z – 2026-11-25T10:00:00.000Z and 2026-11-25T10:00:00.000Z – 2026-11-25T11:00:00.000Z',
    );
    // Two hours at once overlap the hours the schedule runs.
    expect(() => check('2026-11-25T10:00:00Z', '2026-11-25T12:00:00Z')).toThrow(IntervalNotAllowed);
  });

  it('refuses an interval that has not ended, naming the latest closed one', () => {
    expect(() => check('2026-11-25T13:00:00Z', '2026-11-25T14:00:00Z')).toThrow(IntervalNotClosed);
    expect(() => check('2030-01-01T00:00:00Z', '2030-01-01T01:00:00Z')).toThrow(
      /has not ended .* the latest closed interval of rate\(1 hour\) is 2026-11-25T12:00:00.000Z – 2026-11-25T13:00:00.000Z/,
    );
  });

  it('takes either when forced', () => {
    expect(() => check('2030-01-01T00:00:00Z', '2030-01-01T00:17:00Z', true)).not.toThrow();
  });

  it('finds the grid of a cron schedule, and of no schedule refuses only what has not ended', () => {
    const nightly = parseSchedule('cron(0 2 * * ? *)');
    const night = { start: '2026-11-23T02:00:00.000Z', end: '2026-11-24T02:00:00.000Z' };
    expect(isOnGrid(nightly, night)).toBe(true);
    expect(isOnGrid(nightly, { start: '2026-11-23T00:00:00Z', end: '2026-11-24T00:00:00Z' })).toBe(false);
    expect(intervalAfter(nightly, night)).toEqual({
      start: '2026-11-24T02:00:00.000Z',
      end: '2026-11-25T02:00:00.000Z',
    });
    const any = explicitInterval('2026-11-25T10:05:00Z', '2026-11-25T10:17:00Z');
    expect(() => checkInterval(undefined, any, now, { dataset: 'x' })).not.toThrow();
    expect(() =>
      checkInterval(undefined, explicitInterval('2026-11-25T13:00:00Z', '2026-11-25T14:00:00Z'), now, {
        dataset: 'x',
      }),
    ).toThrow(IntervalNotClosed);
  });
});
