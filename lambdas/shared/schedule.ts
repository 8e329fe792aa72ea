import { ConfigurationError } from './errors.js';

/**
 * Data intervals of scheduled datasets, as Airflow names them: each run of a pulled source covers
 * one interval `[start, end)` of its schedule. The interval names the run (execution name, run id),
 * so a repeated or duplicated trigger for the same interval does the same work once.
 *
 * EventBridge expressions are read as follows:
 * - `rate(N unit)`: intervals of N units on the UTC grid counted from the Unix epoch, so
 *   `rate(1 hour)` gives whole hours and `rate(1 day)` whole UTC days. A deployed rate rule fires
 *   at an offset from when it was created; whatever the offset, a run at `time` covers the last
 *   whole interval that ended at or before `time` (`rate(1 hour)` at 13:00:04 or 13:17 → 12:00–13:00).
 * - `cron(min hour day-of-month month day-of-week year)`: an interval runs from one fire time to
 *   the next; a run at `time` covers the interval that ends at the last fire time at or before `time`.
 */

export interface Interval {
  /** Inclusive start, ISO 8601 UTC. */
  start: string;
  /** Exclusive end, ISO 8601 UTC. */
  end: string;
}

export type Schedule = { kind: 'rate'; periodMs: number; expression: string } | CronSchedule;

interface CronSchedule {
  kind: 'cron';
  expression: string;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number> | 'any';
  months: Set<number>;
  /** 1 = Sunday … 7 = Saturday, as EventBridge counts. */
  daysOfWeek: Set<number> | 'any';
  years: Set<number> | 'any';
}

const MINUTE = 60_000;
const UNITS: Record<string, number> = {
  minute: MINUTE,
  minutes: MINUTE,
  hour: 60 * MINUTE,
  hours: 60 * MINUTE,
  day: 24 * 60 * MINUTE,
  days: 24 * 60 * MINUTE,
};
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Parses an EventBridge schedule expression; throws `ConfigurationError` naming what is not supported. */
export function parseSchedule(expression: string): Schedule {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (rate) {
    const count = Number(rate[1]);
    if (count < 1) throw new ConfigurationError(`schedule '${expression}': the rate must be at least 1`);
    return { kind: 'rate', periodMs: count * UNITS[rate[2]!]!, expression };
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) {
    throw new ConfigurationError(
      `schedule '${expression}' is not an EventBridge expression; expected rate(N minutes|hours|days) or cron(min hour day month weekday year)`,
    );
  }
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ConfigurationError(
      `schedule '${expression}': a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}`,
    );
  }
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  const field = (text: string, what: string, lo: number, hi: number, names?: string[]) =>
    parseField(expression, text, what, lo, hi, names);
  const daysOfMonth = dom === '?' ? 'any' : field(dom, 'day-of-month', 1, 31);
  const daysOfWeek = dow === '?' ? 'any' : field(dow, 'day-of-week', 1, 7, WEEKDAYS);
  if ((dom === '?') === (dow === '?')) {
    throw new ConfigurationError(
      `schedule '${expression}': exactly one of day-of-month and day-of-week must be '?', as EventBridge requires`,
    );
  }
  return {
    kind: 'cron',
    expression,
    minutes: field(min, 'minutes', 0, 59),
    hours: field(hour, 'hours', 0, 23),
    daysOfMonth: dom === '*' ? 'any' : daysOfMonth,
    months: field(month, 'month', 1, 12, MONTHS),
    daysOfWeek: dow === '*' ? 'any' : daysOfWeek,
    years: year === '*' ? 'any' : field(year, 'year', 1970, 2199),
  };
}

function parseField(
  expression: string,
  text: string,
  what: string,
  lo: number,
  hi: number,
  names?: string[],
): Set<number> {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = names?.indexOf(token.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + (names === MONTHS || names === WEEKDAYS ? 1 : 0) : Number(token);
    if (!Number.isInteger(n) || n < lo || n > hi) {
      throw new ConfigurationError(
        `schedule '${expression}': '${token}' in the ${what} field is not supported; expected ${lo}-${hi}${names ? ` or ${names[0]}-${names.at(-1)}` : ''} (L, W and # are not supported)`,
      );
    }
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) {
      throw new ConfigurationError(`schedule '${expression}': bad step '/${stepText}' in the ${what} field`);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      from = lo;
      to = hi;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      from = value(a);
      to = value(b);
    } else {
      from = value(range);
      to = stepText === undefined ? from : hi;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}

/** The interval a run at `time` covers: the last whole interval that ended at or before `time`. */
export function intervalEndingBy(schedule: Schedule, time: Date): Interval {
  if (schedule.kind === 'rate') {
    const end = Math.floor(time.getTime() / schedule.periodMs) * schedule.periodMs;
    return toInterval(end - schedule.periodMs, end);
  }
  const end = previousFire(schedule, time.getTime());
  const start = previousFire(schedule, end - MINUTE);
  return toInterval(start, end);
}

/** Every whole interval inside `[from, to)`, oldest first (the runs a backfill starts). */
export function intervalsBetween(schedule: Schedule, from: Date, to: Date, limit = 10_000): Interval[] {
  if (!(from.getTime() < to.getTime())) {
    throw new ConfigurationError(
      `the backfill range is empty: --from ${from.toISOString()} is not before --to ${to.toISOString()}`,
    );
  }
  const intervals: Interval[] = [];
  let current = intervalEndingBy(schedule, to);
  while (Date.parse(current.start) >= from.getTime()) {
    intervals.push(current);
    if (intervals.length > limit) {
      throw new ConfigurationError(
        `the range ${from.toISOString()} to ${to.toISOString()} holds more than ${limit} intervals of ${schedule.expression}; backfill it in parts`,
      );
    }
    current = intervalEndingBy(schedule, new Date(Date.parse(current.start)));
  }
  return intervals.reverse();
}

/** The interval of an explicit start and end (the CLI's --interval-start/--interval-end). */
export function explicitInterval(start: string, end: string): Interval {
  const s = Date.parse(start);
  const e = Date.parse(end);
  if (Number.isNaN(s) || Number.isNaN(e)) {
    throw new ConfigurationError(
      `interval ${start} – ${end} is not a pair of ISO 8601 timestamps (e.g. 2026-11-25T13:00:00Z)`,
    );
  }
  if (!(s < e)) throw new ConfigurationError(`interval start ${start} is not before its end ${end}`);
  return toInterval(s, e);
}

/** A compact, name-safe form of a timestamp: 2026-11-25T13:00:00Z → 20261125T130000Z. */
export function compactTime(iso: string): string {
  return new Date(iso)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function toInterval(start: number, end: number): Interval {
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/** The last minute at or before `at` (ms) when the cron expression fires. */
function previousFire(cron: CronSchedule, at: number): number {
  const date = new Date(Math.floor(at / MINUTE) * MINUTE);
  const floorYear = 1970;
  for (let guard = 0; guard < 200_000; guard++) {
    const year = date.getUTCFullYear();
    if (year < floorYear) break;
    if (cron.years !== 'any' && !cron.years.has(year)) {
      date.setUTCFullYear(year, 0, 1);
      date.setUTCHours(0, -1, 0, 0);
      continue;
    }
    if (!cron.months.has(date.getUTCMonth() + 1)) {
      date.setUTCDate(1);
      date.setUTCHours(0, -1, 0, 0);
      continue;
    }
    if (!dayMatches(cron, date)) {
      date.setUTCHours(0, -1, 0, 0);
      continue;
    }
    if (!cron.hours.has(date.getUTCHours())) {
      date.setUTCMinutes(-1, 0, 0);
      continue;
    }
    if (!cron.minutes.has(date.getUTCMinutes())) {
      date.setTime(date.getTime() - MINUTE);
      continue;
    }
    return date.getTime();
  }
  throw new ConfigurationError(
    `schedule '${cron.expression}' never fired before ${new Date(at).toISOString()}`,
  );
}

function dayMatches(cron: CronSchedule, date: Date): boolean {
  const dom = cron.daysOfMonth === 'any' || cron.daysOfMonth.has(date.getUTCDate());
  const dow = cron.daysOfWeek === 'any' || cron.daysOfWeek.has(date.getUTCDay() + 1);
  return dom && dow;
}
