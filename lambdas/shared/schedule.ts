import { type CronSchedule, MINUTE, nextFire, parseCron, previousFire } from './cron.js';
import { ConfigurationError, IntervalNotAllowed, IntervalNotClosed } from './errors.js';

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

const UNIT_MS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE };

/**
 * Parses an EventBridge schedule expression, accepting exactly what EventBridge accepts (its
 * "Rate expressions" and "Cron expressions" references), so that a schedule `cdk deploy` would
 * fail to create is refused at `sluice check`, synth and load instead. Throws `ConfigurationError`
 * naming the part that is wrong and what was expected.
 */
export function parseSchedule(expression: string): Schedule {
  const problem = (what: string) => new ConfigurationError(`schedule '${expression}': ${what}`);
  if (expression.startsWith('rate(')) {
    const rate = /^rate\((\d+) ([a-z]+)\)$/.exec(expression);
    if (!rate) throw problem('expected rate(<value> <unit>), e.g. rate(1 hour) or rate(15 minutes)');
    const value = rate[1]!;
    const unit = rate[2]!;
    const singular = unit.replace(/s$/, '');
    if (UNIT_MS[singular] === undefined) {
      throw problem(`unknown unit '${unit}'; expected minute(s), hour(s) or day(s)`);
    }
    if (!/^[1-9]\d*$/.test(value)) throw problem(`the value '${value}' must be a whole number of at least 1`);
    const count = Number(value);
    // EventBridge refuses rate(1 hours) and rate(5 hour): the unit agrees with the value.
    const expected = count === 1 ? singular : `${singular}s`;
    if (unit !== expected) {
      throw problem(
        `EventBridge wants the unit '${expected}' with the value ${count}, as in rate(${count} ${expected})`,
      );
    }
    return { kind: 'rate', periodMs: count * UNIT_MS[singular]!, expression };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) {
    throw problem(
      'not an EventBridge expression; expected rate(<value> <unit>) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)',
    );
  }
  return parseCron(expression, cron[1]!, problem);
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

/** The interval that follows `interval` on the schedule's grid. */
export function intervalAfter(schedule: Schedule, interval: Interval): Interval {
  const start = Date.parse(interval.end);
  if (schedule.kind === 'rate') return toInterval(start, start + schedule.periodMs);
  return toInterval(start, nextFire(schedule, start));
}

/** Whether `interval` is one of the schedule's intervals (from one fire time to the next). */
export function isOnGrid(schedule: Schedule, interval: Interval): boolean {
  const grid = intervalEndingBy(schedule, new Date(interval.end));
  return (
    Date.parse(grid.start) === Date.parse(interval.start) && Date.parse(grid.end) === Date.parse(interval.end)
  );
}

/**
 * Refuses an interval a run may not take, unless `force`: one off the schedule's grid
 * (`IntervalNotAllowed`: it overlaps the intervals the schedule runs, whose records would land
 * twice) and one that has not ended at `now` (`IntervalNotClosed`: an interval is pulled once, so
 * pulling it early keeps a partial result for ever). Each message names the nearest valid intervals.
 */
export function checkInterval(
  schedule: Schedule | undefined,
  interval: Interval,
  now: Date,
  options: { force?: boolean; dataset: string },
): void {
  if (options.force) return;
  const span = `${interval.start} – ${interval.end}`;
  const show = (i: Interval) => `${i.start} – ${i.end}`;
  const forcing = 'pass --force (sluice run, sluice start) to take it anyway';
  if (schedule && !isOnGrid(schedule, interval)) {
    const before = intervalEndingBy(schedule, new Date(interval.start));
    const after = intervalAfter(schedule, before);
    throw new IntervalNotAllowed(
      `interval ${span} of dataset '${options.dataset}' is not an interval of its schedule ${schedule.expression}; ` +
        `the nearest are ${show(before)} and ${show(after)}. An interval off the schedule's grid overlaps the ones the schedule runs, ` +
        `and their records would land twice; ${forcing}.`,
    );
  }
  if (Date.parse(interval.end) > now.getTime()) {
    const latest = schedule ? intervalEndingBy(schedule, now) : undefined;
    throw new IntervalNotClosed(
      `interval ${span} of dataset '${options.dataset}' has not ended (it is ${now.toISOString()}); ` +
        `${latest ? `the latest closed interval of ${schedule!.expression} is ${show(latest)}. ` : ''}` +
        `An interval is pulled once, so pulling it before its end would keep a partial result for ever; ` +
        `wait until ${interval.end}, or ${forcing}.`,
    );
  }
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
