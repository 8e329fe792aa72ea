import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { rangeWithMargin, suggestContract } from '../../../src/cli/suggest.js';
import { validateCommand } from '../../../src/cli/validate.js';

// What `sluice suggest` recognises beyond types: dates and timestamps, ids, numeric ranges with a
// margin, and the comment that says why each suggestion was made.

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-suggest-kinds-'));
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(() => {
  jest.restoreAllMocks();
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The suggested contract's expectations of one column, as `type` → kwargs. */
function expectationsOf(yaml: string, column: string): Map<string, Record<string, unknown>> {
  const contract = parseContract(yaml, '<inline>');
  return new Map(
    contract.expectations
      .filter((e) => e.kwargs.column === column)
      .map((e) => [
        e.type,
        Object.fromEntries(Object.entries(e.kwargs).filter(([k]) => k !== 'result_format')),
      ]),
  );
}

const ORDERS = `order_id,day,placed_at,amount,delta,score
ORD-1,2026-11-01,2026-11-01T10:00:00Z,38.56,-3,0.5
ORD-2,2026-11-02,2026-11-01T10:00:01.5+01:00,587.59,7,0.25
ORD-3,2026-11-30,2026-11-02T00:00:00Z,100,2,0.125
`;

describe('sluice suggest recognises dates and timestamps', () => {
  it('gives a column of dates format: date and a strftime expectation of %Y-%m-%d', async () => {
    // Prepare
    const path = file('orders.csv', ORDERS);
    // Act
    const yaml = await suggestContract(path);
    // Assess
    expect(parseContract(yaml, '<inline>').schema.properties.day).toEqual({ type: 'string', format: 'date' });
    expect(expectationsOf(yaml, 'day').get('expect_column_values_to_match_strftime_format')).toEqual({
      column: 'day',
      strftime_format: '%Y-%m-%d',
    });
  });

  it('gives a column of RFC 3339 timestamps format: date-time, even with fractions in some rows only', async () => {
    // Prepare
    const path = file('orders.csv', ORDERS);
    // Act
    const yaml = await suggestContract(path);
    // Assess
    expect(parseContract(yaml, '<inline>').schema.properties.placed_at).toEqual({
      type: 'string',
      format: 'date-time',
    });
    expect(expectationsOf(yaml, 'placed_at').has('expect_column_values_to_be_unique')).toBe(false);
  });

  it('gives timestamps of one layout the strftime format of that layout', async () => {
    // Prepare
    const path = file('events.csv', 'at\n2026-11-01 10:00:00\n2026-11-01 10:00:05\n');
    // Act
    const yaml = await suggestContract(path);
    // Assess
    expect(expectationsOf(yaml, 'at').get('expect_column_values_to_match_strftime_format')).toEqual({
      column: 'at',
      strftime_format: '%Y-%m-%d %H:%M:%S%z',
    });
  });

  it('suggests no date for a column with one impossible date (2026-02-30)', async () => {
    // Prepare
    const path = file('days.csv', 'day\n2026-02-28\n2026-02-30\n');
    // Act
    const yaml = await suggestContract(path);
    // Assess
    expect(parseContract(yaml, '<inline>').schema.properties.day).toEqual({ type: 'string' });
    expect(expectationsOf(yaml, 'day').has('expect_column_values_to_match_strftime_format')).toBe(false);
  });

  it('suggests no date for JSON numbers, which are not text', async () => {
    // Prepare
    const path = file('n.jsonl', '{"day": 20261101}\n{"day": 20261102}\n');
    // Act
    const yaml = await suggestContract(path);
    // Assess
    expect(expectationsOf(yaml, 'day').has('expect_column_values_to_match_strftime_format')).toBe(false);
  });
});

describe('sluice suggest recognises ids', () => {
  it('suggests uniqueness for a column of different codes', async () => {
    // Prepare
    const path = file('orders.csv', ORDERS);
    // Act
    const yaml = await suggestContract(path);
    // Assess
    expect(expectationsOf(yaml, 'order_id').has('expect_column_values_to_be_unique')).toBe(true);
  });

  it('suggests no uniqueness for measurements that merely differ: negative integers, fractions, amounts as text', async () => {
    // Prepare
    const path = file('m.csv', 'delta,score,price\n-3,0.5,12.50\n7,0.25,3.10\n2,0.125,1.00\n');
    // Act
    const yaml = await suggestContract(path);
    // Assess
    for (const column of ['delta', 'score', 'price']) {
      expect(expectationsOf(yaml, column).has('expect_column_values_to_be_unique')).toBe(false);
    }
  });

  it('suggests uniqueness for a column named like an id whatever its values', async () => {
    // Prepare
    const path = file('c.csv', 'customerId\n-1\n-2\n');
    // Act
    const yaml = await suggestContract(path);
    // Assess
    expect(expectationsOf(yaml, 'customerId').has('expect_column_values_to_be_unique')).toBe(true);
  });
});

describe('sluice suggest bounds numbers with a margin', () => {
  it.each([
    [38.56, 587.59, false, { min: 0, max: 650 }],
    [-3, 7, true, { min: -4, max: 8 }],
    [1, 4, true, { min: 0, max: 5 }],
    [0.125, 0.5, false, { min: 0.08, max: 0.54 }],
    [5, 5, true, { min: 4, max: 6 }],
    [-2.5, -2.5, false, { min: -2.8, max: -2.2 }],
  ])('bounds %d…%d (integer: %s) as %j', (min, max, integer, expected) => {
    // Act
    const range = rangeWithMargin(min, max, integer);
    // Assess
    expect({ min: range.min, max: range.max }).toEqual(expected);
  });

  it('puts the bounds outside the observed extremes and never below 0 for a column with no negative value', async () => {
    // Prepare
    const path = file('orders.csv', ORDERS);
    // Act
    const between = expectationsOf(await suggestContract(path), 'amount').get(
      'expect_column_values_to_be_between',
    );
    // Assess
    expect(between?.min_value).toBe(0);
    expect(between?.max_value).toBeGreaterThan(587.59);
  });
});

describe('sluice suggest says why', () => {
  it('puts a comment above every suggested expectation', async () => {
    // Prepare
    const path = file('orders.csv', ORDERS);
    // Act
    const yaml = await suggestContract(path);
    // Assess
    const lines = yaml.split('\n');
    const items = lines.flatMap((line, i) => (/^ {2}- type: expect_/.test(line) ? [i] : []));
    expect(items.length).toBe(parseContract(yaml, '<inline>').expectations.length);
    for (const i of items) expect(lines[i - 1]).toMatch(/^ {2}# \S/);
    expect(yaml).toContain('# amount ranged from 38.56 to 587.59;');
    expect(yaml).toContain('# every value of day reads as %Y-%m-%d');
  });

  it('suggests a contract that passes the file it was suggested from', async () => {
    // Prepare
    const path = file('orders.csv', ORDERS);
    const contract = join(dir, 'orders.yaml');
    writeFileSync(contract, await suggestContract(path));
    const json = join(dir, 'result.json');
    // Act
    const code = await validateCommand(contract, path, { json });
    // Assess
    const result = JSON.parse(readFileSync(json, 'utf8')) as {
      statistics: { unsuccessful_expectations: number };
    };
    expect(code).toBe(0);
    expect(result.statistics.unsuccessful_expectations).toBe(0);
  });
});
