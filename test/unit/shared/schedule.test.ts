import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../../../lambdas/shared/errors.js';
import {
  compactTime,
  explicitInterval,
  intervalEndingBy,
  intervalsBetween,
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

  it('refuses cron features it cannot evaluate, naming the field', () => {
    expect(() => parseSchedule('cron(0 2 L * ? *)')).toThrow(/'L' in the day-of-month field/);
    expect(() => parseSchedule('cron(0 2 * * *)')).toThrow(ConfigurationError);
    expect(() => parseSchedule('cron(0 2 * * MON *)')).toThrow(/exactly one of day-of-month and day-of-week/);
  });

  it('checks an explicit interval and names runs by its compact start', () => {
    expect(() => explicitInterval('2026-11-25T13:00:00Z', '2026-11-25T12:00:00Z')).toThrow(/not before/);
    expect(() => explicitInterval('yesterday', '2026-11-25T12:00:00Z')).toThrow(/ISO 8601/);
    expect(compactTime('2026-11-25T13:00:00.000Z')).toBe('20261125T130000Z');
  });
});
