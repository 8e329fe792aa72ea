import { describe, expect, it } from '@jest/globals';
import { csvContract, resultOf, validate } from './support.js';

/**
 * Validates one column `x` holding `cells` (an empty string is a null cell) against one expectation,
 * with `x` typed as given in the schema.
 */
async function expectOn(type: string, kwargs: Record<string, unknown>, cells: string[], xType = 'string') {
  const contract = csvContract(
    `type: object\nproperties:\n  x: { type: ${xType} }\n  id: { type: integer }`,
    `- type: ${type}\n  kwargs: ${JSON.stringify({ column: 'x', ...kwargs })}`,
  );
  const csv = `id,x\n${cells.map((cell, i) => `${i},${cell}`).join('\n')}\n`;
  const run = await validate(csv, contract);
  return { run, entry: resultOf(run, type) };
}

describe('expect_column_values_to_not_be_null', () => {
  const type = 'expect_column_values_to_not_be_null';

  it('passes when every value is present', async () => {
    // Act
    const { entry } = await expectOn(type, {}, ['a', 'b']);
    // Assess
    expect(entry).toMatchObject({ success: true, result: { element_count: 2, unexpected_count: 0 } });
  });

  it('fails on null cells, counting them over all rows, and quarantines those rows', async () => {
    // Act
    const { entry, run } = await expectOn(type, {}, ['a', '', 'c', '']);
    // Assess
    expect(entry.success).toBe(false);
    expect(entry.result).toEqual({
      element_count: 4,
      unexpected_count: 2,
      unexpected_percent: 50,
      partial_unexpected_list: [null, null],
      partial_unexpected_index_list: [1, 3],
      partial_unexpected_counts: [{ value: null, count: 2 }],
    });
    expect(run.quarantine.map((q) => q.row)).toEqual([3, 5]);
  });

  it('passes at the mostly boundary and fails just above it', async () => {
    // Prepare
    const cells = ['a', 'b', 'c', ''];
    // Act
    const atBoundary = await expectOn(type, { mostly: 0.75 }, cells);
    const above = await expectOn(type, { mostly: 0.76 }, cells);
    // Assess
    expect([atBoundary.entry.success, above.entry.success]).toEqual([true, false]);
  });
});

describe('expect_column_values_to_be_unique', () => {
  const type = 'expect_column_values_to_be_unique';

  it('passes when no value repeats', async () => {
    // Act
    const { entry } = await expectOn(type, {}, ['a', 'b', 'c']);
    // Assess
    expect(entry).toMatchObject({ success: true, result: { unexpected_count: 0 } });
  });

  it('counts every member of a duplicated group as unexpected, as GX does', async () => {
    // Act
    const { entry } = await expectOn(type, {}, ['A', 'B', 'A', 'C', 'A']);
    // Assess
    expect(entry.result).toMatchObject({
      unexpected_count: 3,
      partial_unexpected_list: ['A', 'A', 'A'],
      partial_unexpected_index_list: [0, 2, 4],
      partial_unexpected_counts: [{ value: 'A', count: 3 }],
    });
  });

  it('promotes the first record with a value and quarantines the later ones, naming the first row', async () => {
    // Act
    const { run } = await expectOn(type, {}, ['A', 'B', 'A', 'C', 'A']);
    // Assess
    expect(run.valid.map((r) => r.x)).toEqual(['A', 'B', 'C']);
    expect(run.quarantine.map((q) => [q.row, q.failures[0]?.reason])).toEqual([
      [4, 'must be unique; the same value is on row 2'],
      [6, 'must be unique; the same value is on row 2'],
    ]);
  });

  it('ignores nulls: two empty cells are not duplicates', async () => {
    // Act
    const { entry } = await expectOn(type, {}, ['a', '', '']);
    // Assess
    expect(entry).toMatchObject({ success: true, result: { missing_count: 2, unexpected_count: 0 } });
  });

  it('compares typed values: 1 and 1.0 in a number column are the same value', async () => {
    // Act
    const { entry } = await expectOn(type, {}, ['1', '1.0', '2'], 'number');
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual([1, 1]);
  });

  it('passes at the mostly boundary and fails just above it', async () => {
    // Prepare: 2 of 5 values are unexpected (both A's), so 60% pass.
    const cells = ['A', 'A', 'B', 'C', 'D'];
    // Act
    const atBoundary = await expectOn(type, { mostly: 0.6 }, cells);
    const above = await expectOn(type, { mostly: 0.61 }, cells);
    // Assess
    expect([atBoundary.entry.success, above.entry.success]).toEqual([true, false]);
  });
});

describe('expect_column_values_to_be_between', () => {
  const type = 'expect_column_values_to_be_between';

  it('includes both bounds by default', async () => {
    // Act
    const { entry } = await expectOn(type, { min_value: 0, max_value: 10 }, ['0', '5', '10'], 'number');
    // Assess
    expect(entry.success).toBe(true);
  });

  it('excludes a bound with strict_min or strict_max', async () => {
    // Act
    const { entry } = await expectOn(
      type,
      { min_value: 0, max_value: 10, strict_min: true, strict_max: true },
      ['0', '5', '10'],
      'number',
    );
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual([0, 10]);
  });

  it('treats a null bound as no bound', async () => {
    // Act
    const { entry } = await expectOn(type, { min_value: null, max_value: 10 }, ['-1000', '11'], 'number');
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual([11]);
  });

  it('quarantines a value out of range, saying what was expected', async () => {
    // Act
    const { run } = await expectOn(type, { min_value: 0, max_value: 10 }, ['11'], 'number');
    // Assess
    expect(run.quarantine[0]?.failures).toEqual([
      { column: 'x', expectation: type, reason: 'must be >= 0 and <= 10, got 11', value: 11 },
    ]);
  });

  it('ignores nulls and reports percentages over the non-null values', async () => {
    // Act
    const { entry } = await expectOn(type, { min_value: 0 }, ['1', '', '', '-1'], 'number');
    // Assess
    expect(entry.result).toMatchObject({
      element_count: 4,
      missing_count: 2,
      missing_percent: 50,
      unexpected_count: 1,
      unexpected_percent: 50,
      unexpected_percent_total: 25,
      unexpected_percent_nonmissing: 50,
    });
  });

  it('passes at the mostly boundary and fails just above it', async () => {
    // Prepare: 1 of 4 non-null values is out of range; the null does not count.
    const cells = ['1', '2', '3', '-1', ''];
    // Act
    const atBoundary = await expectOn(type, { min_value: 0, mostly: 0.75 }, cells, 'number');
    const above = await expectOn(type, { min_value: 0, mostly: 0.76 }, cells, 'number');
    // Assess
    expect([atBoundary.entry.success, above.entry.success]).toEqual([true, false]);
  });

  it('compares an untyped cell that reads as a number as a number', async () => {
    // Act
    const { entry } = await expectOn(type, { min_value: 9, max_value: 100 }, ['10', '9.5', 'ten']);
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['ten']);
  });

  it('compares strings with string bounds, as ISO dates sort', async () => {
    // Act
    const { entry } = await expectOn(type, { min_value: '2026-01-01' }, ['2026-03-01', '2025-12-31']);
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['2025-12-31']);
  });

  it('cannot be evaluated when both bounds are null', async () => {
    // Act
    const { entry } = await expectOn(type, { min_value: null, max_value: null }, ['1'], 'number');
    // Assess
    expect(entry).toMatchObject({
      success: false,
      exception_info: {
        raised_exception: true,
        exception_message: 'min_value and max_value cannot both be None',
      },
    });
  });
});

describe('expect_column_values_to_be_in_set', () => {
  const type = 'expect_column_values_to_be_in_set';

  it('passes when every value is in the set', async () => {
    // Act
    const { entry } = await expectOn(type, { value_set: ['a', 'b'] }, ['a', 'b', 'a']);
    // Assess
    expect(entry.success).toBe(true);
  });

  it('fails on a value outside the set, naming the set', async () => {
    // Act
    const { entry, run } = await expectOn(type, { value_set: ['a', 'b'] }, ['a', 'c']);
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['c']);
    expect(run.quarantine[0]?.failures[0]?.reason).toBe('must be one of {"a", "b"}, got "c"');
  });

  it('ignores nulls', async () => {
    // Act
    const { entry } = await expectOn(type, { value_set: ['a'] }, ['a', '']);
    // Assess
    expect(entry).toMatchObject({ success: true, result: { missing_count: 1 } });
  });

  it('passes at the mostly boundary and fails just above it', async () => {
    // Prepare
    const cells = ['a', 'a', 'a', 'z'];
    // Act
    const atBoundary = await expectOn(type, { value_set: ['a'], mostly: 0.75 }, cells);
    const above = await expectOn(type, { value_set: ['a'], mostly: 0.76 }, cells);
    // Assess
    expect([atBoundary.entry.success, above.entry.success]).toEqual([true, false]);
  });

  it('matches typed values against a set of numbers', async () => {
    // Act
    const { entry } = await expectOn(type, { value_set: [1, 2] }, ['1', '2.0', '3'], 'integer');
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual([3]);
  });

  it('matches an untyped cell that reads as a number against a set of numbers', async () => {
    // Act
    const { entry } = await expectOn(type, { value_set: [1, 2] }, ['1', '2', 'two']);
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['two']);
  });
});

describe('expect_column_values_to_match_regex', () => {
  const type = 'expect_column_values_to_match_regex';

  it('searches: the pattern may match anywhere in the value, as re.search does', async () => {
    // Act
    const { entry } = await expectOn(type, { regex: 'b+' }, ['abbc', 'b']);
    // Assess
    expect(entry.success).toBe(true);
  });

  it('fails on a value the pattern does not match', async () => {
    // Act
    const { entry, run } = await expectOn(type, { regex: '^[A-Z]{3}$' }, ['ABC', 'AB1']);
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['AB1']);
    expect(run.quarantine[0]?.failures[0]?.reason).toBe('must match /^[A-Z]{3}$/u, got "AB1"');
  });

  it('reads the pattern with the u flag: one character is one code point', async () => {
    // Act
    const { entry } = await expectOn(type, { regex: '^.$' }, ['😀']);
    // Assess
    expect(entry.success).toBe(true);
  });

  it('matches typed values through their text', async () => {
    // Act
    const { entry } = await expectOn(type, { regex: '^\\d{2}$' }, ['12', '123'], 'integer');
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual([123]);
  });

  it('ignores nulls', async () => {
    // Act
    const { entry } = await expectOn(type, { regex: '^a$' }, ['a', '']);
    // Assess
    expect(entry).toMatchObject({ success: true, result: { missing_count: 1, unexpected_count: 0 } });
  });

  it('passes at the mostly boundary and fails just above it', async () => {
    // Prepare
    const cells = ['a', 'a', 'b', 'b'];
    // Act
    const atBoundary = await expectOn(type, { regex: '^a$', mostly: 0.5 }, cells);
    const above = await expectOn(type, { regex: '^a$', mostly: 0.51 }, cells);
    // Assess
    expect([atBoundary.entry.success, above.entry.success]).toEqual([true, false]);
  });

  it('validates a value that makes a backtracking engine take exponential time', async () => {
    // Prepare: V8 tries 2^40 ways to split the a's between the two + before it gives up on the "!".
    const value = `${'a'.repeat(40)}!`;
    // Act
    const { entry } = await expectOn(type, { regex: '^(a+)+$' }, [value, 'aaa']);
    // Assess
    expect(entry.result).toMatchObject({ unexpected_count: 1, partial_unexpected_list: [value] });
  });

  it('reads \\s and . as JavaScript does: a no-break space is a space, a carriage return is not any character', async () => {
    // Act
    const { entry } = await expectOn(type, { regex: '^\\S+\\s.$' }, ['"a\u00a0b"', '"a \r"', 'a b']);
    // Assess
    expect(entry.result).toMatchObject({ unexpected_count: 1, partial_unexpected_list: ['a \r'] });
  });
});

describe('regex lists and strftime formats, matched in linear time', () => {
  it('match_regex_list and not_match_regex_list complete on a value a backtracking engine would not', async () => {
    // Prepare
    const value = `${'a'.repeat(40)}!`;
    // Act
    const listed = await expectOn(
      'expect_column_values_to_match_regex_list',
      { regex_list: ['^(a|aa)+$', '^b'] },
      [value],
    );
    const notListed = await expectOn(
      'expect_column_values_to_not_match_regex_list',
      { regex_list: ['(a*)*b'] },
      [value],
    );
    // Assess
    expect(listed.entry.result.unexpected_count).toBe(1);
    expect(notListed.entry.success).toBe(true);
  });

  it('strftime formats still read their fields and check the calendar', async () => {
    // Act
    const { entry } = await expectOn(
      'expect_column_values_to_match_strftime_format',
      { strftime_format: '%d %b %Y' },
      ['29 FEB 2024', '29 feb 2023', '1  Mar 2024'],
    );
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['29 feb 2023']);
  });
});

describe('column expectations on a column the file lacks', () => {
  it('cannot be evaluated, and say which columns the file has', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  x: { type: string }\n  y: { type: string }',
      '- type: expect_column_values_to_not_be_null\n  kwargs: { column: y }',
    );
    // Act
    const run = await validate('x\na\n', contract);
    // Assess
    expect(resultOf(run, 'expect_column_values_to_not_be_null').exception_info.exception_message).toBe(
      "column 'y' is not in the file (columns: x)",
    );
  });
});

describe('expect_table_row_count_to_be_between', () => {
  const type = 'expect_table_row_count_to_be_between';
  const contract = (kwargs: string) =>
    csvContract('type: object\nproperties:\n  x: { type: string }', `- type: ${type}\n  kwargs: ${kwargs}`);

  it('passes within the bounds and reports the count as observed_value', async () => {
    // Act
    const run = await validate('x\na\nb\n', contract('{ min_value: 2, max_value: 2 }'));
    // Assess
    expect(resultOf(run, type)).toMatchObject({ success: true, result: { observed_value: 2 } });
  });

  it('fails below min_value', async () => {
    // Act
    const run = await validate('x\n', contract('{ min_value: 1 }'));
    // Assess
    expect(resultOf(run, type)).toMatchObject({ success: false, result: { observed_value: 0 } });
  });

  it('treats a null max_value as no upper bound', async () => {
    // Act
    const run = await validate('x\na\nb\nc\n', contract('{ min_value: 1, max_value: null }'));
    // Assess
    expect(resultOf(run, type).success).toBe(true);
  });

  it('counts rows that could not be read as records', async () => {
    // Act
    const run = await validate('x\na\nb,c\n', contract('{ max_value: 1 }'));
    // Assess
    expect(resultOf(run, type).result.observed_value).toBe(2);
  });
});

describe('expect_table_columns_to_match_set', () => {
  const type = 'expect_table_columns_to_match_set';
  const contract = (kwargs: string) =>
    csvContract(
      'type: object\nproperties:\n  a: { type: string }\n  b: { type: string }',
      `- type: ${type}\n  kwargs: ${kwargs}`,
    );

  it('passes when the header holds exactly the set, in any order', async () => {
    // Act
    const run = await validate('b,a\n1,2\n', contract('{ column_set: [a, b] }'));
    // Assess
    expect(resultOf(run, type)).toMatchObject({ success: true, result: { observed_value: ['b', 'a'] } });
  });

  it('fails on an extra column by default (exact_match), listing it', async () => {
    // Act
    const run = await validate('a,b,c\n1,2,3\n', contract('{ column_set: [a, b] }'));
    // Assess
    expect(resultOf(run, type)).toMatchObject({
      success: false,
      result: { observed_value: ['a', 'b', 'c'], details: { mismatched: { unexpected: ['c'] } } },
    });
  });

  it('allows extra columns when exact_match is false', async () => {
    // Act
    const run = await validate('a,b,c\n1,2,3\n', contract('{ column_set: [a, b], exact_match: false }'));
    // Assess
    expect(resultOf(run, type).success).toBe(true);
  });

  it('fails on a missing column even when exact_match is false', async () => {
    // Act
    const run = await validate('a\n1\n', contract('{ column_set: [a, b], exact_match: false }'));
    // Assess
    expect(resultOf(run, type)).toMatchObject({
      success: false,
      result: { details: { mismatched: { missing: ['b'] } } },
    });
  });
});
