/**
 * EventBridge cron expressions, `cron(min hour day-of-month month day-of-week year)`: each field
 * read as EventBridge reads it, and the minutes at which an expression fires, in UTC.
 */
import { ConfigurationError } from './errors.js';

export const MINUTE = 60_000;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Day-of-month: listed days, the last day of the month (`L`), or the weekday nearest a day (`15W`). */
type DaysOfMonth = { values: Set<number> } | { last: true } | { nearestWeekdayTo: number };
/** Day-of-week (1 = Sunday … 7 = Saturday): listed days, the last given day of the month (`6L`), or its nth (`2#1`). */
type DaysOfWeek = { values: Set<number> } | { lastOfMonth: number } | { nth: number; day: number };

export interface CronSchedule {
  kind: 'cron';
  expression: string;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: DaysOfMonth | 'any';
  months: Set<number>;
  daysOfWeek: DaysOfWeek | 'any';
  years: Set<number> | 'any';
}

/**
 * The fields of `cron(<fields>)` in `expression`. Throws what `problem` makes, naming the field
 * that is wrong and what was expected.
 */
export function parseCron(expression: string, body: string, problem: Problem): CronSchedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw problem(
      `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}` +
        (fields.length === 7 ? '; EventBridge has no seconds field' : ''),
    );
  }
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw problem(
      `exactly one of day-of-month ('${dom}') and day-of-week ('${dow}') must be '?', as EventBridge requires (e.g. cron(0 2 * * ? *) or cron(0 2 ? * MON-FRI *))`,
    );
  }
  const field = (text: string, name: string, lo: number, hi: number, names?: string[]) =>
    numericField(problem, text, name, lo, hi, names);
  return {
    kind: 'cron',
    expression,
    minutes: field(min, 'minutes', 0, 59),
    hours: field(hour, 'hours', 0, 23),
    daysOfMonth: dom === '?' || dom === '*' ? 'any' : dayOfMonthField(problem, dom),
    months: field(month, 'month', 1, 12, MONTHS),
    daysOfWeek: dow === '?' || dow === '*' ? 'any' : dayOfWeekField(problem, dow),
    years: year === '*' ? 'any' : field(year, 'year', 1970, 2199),
  };
}

export type Problem = (what: string) => ConfigurationError;

/** A field of `,` lists, `-` ranges, `*` and `/` increments (minutes, hours, day-of-month, month, year). */
function numericField(
  problem: Problem,
  text: string,
  name: string,
  lo: number,
  hi: number,
  names?: string[],
  steps = true,
): Set<number> {
  const allowed = `${lo}-${hi}${names ? ` or ${names[0]}-${names.at(-1)}` : ''}`;
  const value = (token: string): number => {
    const named = names?.indexOf(token.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + 1 : /^\d+$/.test(token) ? Number(token) : Number.NaN;
    if (!(n >= lo && n <= hi)) {
      throw problem(`'${token}' in the ${name} field is not a value; expected ${allowed}`);
    }
    return n;
  };
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/') as [string, string | undefined, string | undefined];
    if (stepText !== undefined && !steps) {
      throw problem(`'${part}': the ${name} field takes no '/' increment`);
    }
    if (extra !== undefined || (stepText !== undefined && !/^[1-9]\d*$/.test(stepText))) {
      throw problem(`'${part}' in the ${name} field: an increment is /<whole number of at least 1>`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    let from: number;
    let to: number;
    if (range === '*') {
      from = lo;
      to = hi;
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-') as [string, string, string | undefined];
      if (more !== undefined) throw problem(`'${range}' in the ${name} field is not a range a-b`);
      from = value(a);
      to = value(b);
      if (from > to) throw problem(`the range '${range}' in the ${name} field runs backwards`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : hi;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}

/** Day-of-month: the numeric forms, or `L` (the last day) or `<day>W` (the weekday nearest it), alone. */
function dayOfMonthField(problem: Problem, text: string): DaysOfMonth {
  if (text === 'L') return { last: true };
  const weekday = /^(\d+)W$/.exec(text);
  if (weekday) {
    const day = Number(weekday[1]);
    if (!(day >= 1 && day <= 31)) throw problem(`'${text}': the day before W must be 1-31`);
    return { nearestWeekdayTo: day };
  }
  if (/[LW]/i.test(text)) {
    throw problem(
      `'${text}' in the day-of-month field: L and W stand alone (L, or <day>W such as 15W), not in a list or range`,
    );
  }
  return { values: numericField(problem, text, 'day-of-month', 1, 31) };
}

/**
 * Day-of-week (1 = Sunday, or SUN-SAT): lists and ranges without increments, or alone `L` (the last
 * day of the week, Saturday), `<day>L` (the last such day of the month) or `<day>#<n>` (its nth, 1-5).
 */
function dayOfWeekField(problem: Problem, text: string): DaysOfWeek {
  const day = (token: string) => [...numericField(problem, token, 'day-of-week', 1, 7, WEEKDAYS, false)][0]!;
  if (text === 'L') return { values: new Set([7]) };
  const last = /^(\w+)L$/.exec(text);
  if (last) return { lastOfMonth: day(last[1]!) };
  if (text.includes('#')) {
    const nth = /^(\w+)#(\d+)$/.exec(text);
    if (!nth) {
      throw problem(
        `'${text}' in the day-of-week field: '#' takes one expression <day>#<n>, e.g. 2#1 (the first Monday); a list such as 3#1,6#3 is refused`,
      );
    }
    const n = Number(nth[2]);
    if (!(n >= 1 && n <= 5)) throw problem(`'${text}': the n of <day>#<n> must be 1-5`);
    return { nth: n, day: day(nth[1]!) };
  }
  if (/L/i.test(text)) {
    throw problem(`'${text}' in the day-of-week field: L stands alone (L, or <day>L such as 6L)`);
  }
  return { values: numericField(problem, text, 'day-of-week', 1, 7, WEEKDAYS, false) };
}

/** The last minute at or before `at` (ms) when the cron expression fires. */
export function previousFire(cron: CronSchedule, at: number): number {
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

/** The first minute after `at` (ms) when the cron expression fires. */
export function nextFire(cron: CronSchedule, at: number): number {
  const date = new Date(Math.floor(at / MINUTE) * MINUTE + MINUTE);
  for (let guard = 0; guard < 200_000; guard++) {
    const year = date.getUTCFullYear();
    if (year > 2199) break;
    if (cron.years !== 'any' && !cron.years.has(year)) {
      date.setUTCFullYear(year + 1, 0, 1);
      date.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!cron.months.has(date.getUTCMonth() + 1)) {
      date.setUTCMonth(date.getUTCMonth() + 1, 1);
      date.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(cron, date)) {
      date.setUTCDate(date.getUTCDate() + 1);
      date.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!cron.hours.has(date.getUTCHours())) {
      date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!cron.minutes.has(date.getUTCMinutes())) {
      date.setTime(date.getTime() + MINUTE);
      continue;
    }
    return date.getTime();
  }
  throw new ConfigurationError(
    `schedule '${cron.expression}' never fires after ${new Date(at).toISOString()}`,
  );
}

function dayMatches(cron: CronSchedule, date: Date): boolean {
  return domMatches(cron.daysOfMonth, date) && dowMatches(cron.daysOfWeek, date);
}

function daysInMonth(date: Date): number {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

function domMatches(rule: DaysOfMonth | 'any', date: Date): boolean {
  if (rule === 'any') return true;
  const day = date.getUTCDate();
  const last = daysInMonth(date);
  if ('values' in rule) return rule.values.has(day);
  if ('last' in rule) return day === last;
  // The weekday nearest the day, within its month: a Saturday moves back to Friday (forward to
  // Monday on the 1st), a Sunday forward to Monday (back to Friday on the month's last day).
  const target = rule.nearestWeekdayTo;
  if (target > last) return false;
  const weekday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), target)).getUTCDay();
  let nearest = target;
  if (weekday === 6) nearest = target === 1 ? 3 : target - 1;
  if (weekday === 0) nearest = target === last ? target - 2 : target + 1;
  return day === nearest;
}

function dowMatches(rule: DaysOfWeek | 'any', date: Date): boolean {
  if (rule === 'any') return true;
  const weekday = date.getUTCDay() + 1;
  if ('values' in rule) return rule.values.has(weekday);
  const day = date.getUTCDate();
  if ('lastOfMonth' in rule) return weekday === rule.lastOfMonth && day + 7 > daysInMonth(date);
  return weekday === rule.day && Math.ceil(day / 7) === rule.nth;
}
