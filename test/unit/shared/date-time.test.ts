import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { isDateLike, parseDateTime } from '../../../lambdas/shared/date-time.js';

const NOV_25 = Date.UTC(2026, 10, 25);
const NOV_25_10H = Date.UTC(2026, 10, 25, 10);

describe('parseDateTime', () => {
  it.each([
    ['2026-11-25', NOV_25],
    ['20261125', NOV_25],
    ['25/11/2026', NOV_25],
    ['25.11.2026', NOV_25],
    ['11/25/2026', NOV_25],
    ['Nov 25 2026', NOV_25],
    ['  2026-11-25  ', NOV_25],
    ['2026-11-25T10:00', NOV_25_10H],
    ['2026-11-25 10:00:00', NOV_25_10H],
    ['2026-11-25T10:00:00Z', NOV_25_10H],
    ['2026-11-25T12:00:00+02:00', NOV_25_10H],
    ['Wed, 25 Nov 2026 10:00:00 GMT', NOV_25_10H],
    ['20261125T100000', NOV_25_10H],
    ['25/11/2026 10:00', NOV_25_10H],
  ])('reads %j as the instant it names', (text, instant) => {
    expect(parseDateTime(text)).toBe(instant);
  });

  it('reads month first, as dateutil does, when both readings make a date', () => {
    expect(parseDateTime('01/02/2026')).toBe(Date.UTC(2026, 0, 2));
  });

  it.each(['', 'soon', 'Tuesday at noon', '2026-02-30', '2026-13-01', '32/01/2026', '25/11/2026 25:00'])(
    'refuses %j',
    (text) => {
      expect(parseDateTime(text)).toBeUndefined();
      expect(isDateLike(text)).toBe(false);
    },
  );

  it('reads a date-time without a zone as UTC whatever the machine time zone is', () => {
    // Prepare: the time zone is read once per process, so ask a process started in New York.
    const script = [
      `import { parseDateTime } from ${JSON.stringify(join(import.meta.dirname, '../../../lambdas/shared/date-time.ts'))};`,
      `console.log(JSON.stringify(['2026-11-25', '2026-11-25T10:00', 'Nov 25 2026 10:00', '2026-11-25T10:00:00Z'].map(parseDateTime)));`,
    ].join('\n');
    // Act
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TZ: 'America/New_York', NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    // Assess
    expect(JSON.parse(out)).toEqual([NOV_25, NOV_25_10H, NOV_25_10H, NOV_25_10H]);
  });
});
