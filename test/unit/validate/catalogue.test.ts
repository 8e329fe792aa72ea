import { describe, expect, it } from '@jest/globals';
import { EXPECTATION_CATALOGUE } from '../../../lambdas/shared/expectation-catalogue.js';
import { csvContract, resultOf, validate } from './support.js';

/**
 * Every catalogue expectation against GX's documented behaviour: passing, failing, `mostly` at its
 * boundary, nulls, an empty file and the result_format shapes. One column `x` (typed as given),
 * plus `y` for the pair and multicolumn ones; an empty cell is null.
 */
async function run(type: string, kwargs: Record<string, unknown>, rows: string[], types = 'string') {
  const [xType, yType] = types.split(';');
  const contract = csvContract(
    `type: object\nproperties:\n  id: { type: integer }\n  x: { type: ${xType} }\n  y: { type: ${yType ?? xType} }`,
    `- type: ${type}\n  kwargs: ${JSON.stringify(kwargs)}`,
  );
  const csv = `id,x,y\n${rows.map((row, i) => `${i},${row.includes(',') ? row : `${row},`}`).join('\n')}\n`;
  const outcome = await validate(rows.length === 0 ? 'id,x,y\n' : csv, contract);
  return { run: outcome, entry: resultOf(outcome, type) };
}

interface MapCase {
  kwargs: Record<string, unknown>;
  good: string[];
  bad: string;
  types?: string;
}

/** Column maps: three expected values and one unexpected one, in that order. */
const MAPS: Record<string, MapCase> = {
  expect_column_values_to_not_be_in_set: {
    kwargs: { value_set: ['x', 'z'] },
    good: ['a', 'b', 'c'],
    bad: 'x',
  },
  expect_column_values_to_not_match_regex: { kwargs: { regex: '\\d' }, good: ['a', 'b', 'c'], bad: 'a1' },
  expect_column_values_to_match_regex_list: {
    kwargs: { regex_list: ['^a', 'b$'], match_on: 'any' },
    good: ['ax', 'xb', 'ab'],
    bad: 'xx',
  },
  expect_column_values_to_not_match_regex_list: {
    kwargs: { regex_list: ['^x', '\\d'] },
    good: ['ax', 'b', 'c'],
    bad: 'xa',
  },
  expect_column_values_to_be_of_type: {
    kwargs: { type_: 'int' },
    good: ['1', '2', '3'],
    bad: '1.5',
    types: 'number',
  },
  expect_column_values_to_be_in_type_list: {
    kwargs: { type_list: ['int', 'bool'] },
    good: ['1', 'true', '3'],
    bad: 'abc',
    types: '[integer, boolean]',
  },
  expect_column_value_lengths_to_be_between: {
    kwargs: { min_value: 2, max_value: 3 },
    good: ['ab', 'abc', 'éé'],
    bad: 'abcd',
  },
  expect_column_value_lengths_to_equal: { kwargs: { value: 2 }, good: ['ab', 'cd', '😀😀'], bad: 'abc' },
  expect_column_values_to_match_strftime_format: {
    kwargs: { strftime_format: '%Y-%m-%d %H:%M' },
    good: ['2026-11-25 10:00', '2024-02-29 23:59', '2026-01-01 00:00'],
    bad: '2026-02-29 10:00',
  },
  expect_column_values_to_be_dateutil_parseable: {
    kwargs: {},
    good: ['2026-11-25', '25/11/2026', 'Nov 25 2026'],
    bad: 'not a date',
  },
  expect_column_values_to_be_json_parseable: { kwargs: {}, good: ['1', '"""a"""', '"{""a"":1}"'], bad: '{a' },
  expect_column_values_to_match_json_schema: {
    kwargs: { json_schema: { type: 'object', required: ['a'] } },
    good: ['"{""a"":1}"', '"{""a"":2}"', '"{""a"":null}"'],
    bad: '"{""b"":1}"',
  },
  expect_column_values_to_be_increasing: { kwargs: {}, good: ['1', '2', '2'], bad: '0', types: 'integer' },
  expect_column_values_to_be_decreasing: {
    kwargs: { strictly: true },
    good: ['3', '2', '1'],
    bad: '1',
    types: 'integer',
  },
};

describe.each(Object.entries(MAPS))('%s', (type, { kwargs, good, bad, types }) => {
  const k = { column: 'x', ...kwargs };

  it('passes when every non-null value is as expected, counting nulls as missing', async () => {
    // Act
    const { entry, run: r } = await run(type, k, [good[0]!, '', ...good.slice(1)], types);
    // Assess
    expect(entry.success).toBe(true);
    expect(entry.result).toMatchObject({ element_count: 4, missing_count: 1, unexpected_count: 0 });
    expect(r.outcome.rows.quarantined).toBe(0);
  });

  it('fails on the unexpected value and quarantines its row', async () => {
    // Act
    const { entry, run: r } = await run(type, k, [...good, bad], types);
    // Assess
    expect(entry.success).toBe(false);
    expect(entry.result).toMatchObject({ element_count: 4, unexpected_count: 1, unexpected_percent: 25 });
    expect(entry.result.partial_unexpected_index_list).toEqual([3]);
    expect(r.quarantine.map((q) => q.row)).toEqual([5]);
  });

  it('passes at the mostly boundary and fails just above it', async () => {
    // Act
    const at = await run(type, { ...k, mostly: 0.75 }, [...good, bad], types);
    const above = await run(type, { ...k, mostly: 0.76 }, [...good, bad], types);
    // Assess
    expect([at.entry.success, above.entry.success]).toEqual([true, false]);
  });

  it('passes on an empty file', async () => {
    // Act
    const { entry } = await run(type, k, [], types);
    // Assess
    expect(entry.success).toBe(true);
    expect(entry.result).toMatchObject({ element_count: 0, unexpected_count: 0 });
  });

  it('shapes its result by result_format', async () => {
    // Act
    const shapes = await Promise.all(
      ['BOOLEAN_ONLY', 'BASIC', 'SUMMARY', 'COMPLETE'].map(async (result_format) => {
        const { entry } = await run(type, { ...k, result_format }, [...good, bad], types);
        return Object.keys(entry.result).sort();
      }),
    );
    // Assess
    const basic = [
      'element_count',
      'missing_count',
      'missing_percent',
      'partial_unexpected_list',
      'unexpected_count',
      'unexpected_percent',
      'unexpected_percent_nonmissing',
      'unexpected_percent_total',
    ];
    const summary = [...basic, 'partial_unexpected_counts', 'partial_unexpected_index_list'].sort();
    expect(shapes).toEqual([
      [],
      basic,
      summary,
      [...summary, 'unexpected_index_list', 'unexpected_list'].sort(),
    ]);
  });
});

describe('expect_column_values_to_be_null', () => {
  const type = 'expect_column_values_to_be_null';

  it('counts non-null values as unexpected over all rows, without missing_count', async () => {
    // Act
    const { entry, run: r } = await run(type, { column: 'x' }, ['', 'a', '', '']);
    // Assess
    expect(entry.success).toBe(false);
    expect(entry.result).toMatchObject({ element_count: 4, unexpected_count: 1, unexpected_percent: 25 });
    expect(entry.result.missing_count).toBeUndefined();
    expect(r.quarantine.map((q) => q.row)).toEqual([3]);
  });

  it('passes at the mostly boundary and fails just above it', async () => {
    // Act
    const at = await run(type, { column: 'x', mostly: 0.75 }, ['', 'a', '', '']);
    const above = await run(type, { column: 'x', mostly: 0.76 }, ['', 'a', '', '']);
    // Assess
    expect([at.entry.success, above.entry.success]).toEqual([true, false]);
  });
});

describe('expect_column_values_to_match_regex_list with match_on all', () => {
  it('wants every regex to match', async () => {
    // Act
    const { entry } = await run(
      'expect_column_values_to_match_regex_list',
      { column: 'x', regex_list: ['^a', 'b$'], match_on: 'all' },
      ['ab', 'ax'],
    );
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['ax']);
  });
});

interface AggregateCase {
  pass: Record<string, unknown>;
  fail: Record<string, unknown>;
  cells: string[];
  observed: unknown;
  types?: string;
}

/** Aggregates over x = 1, 2, 2, 7 with a null among them (nulls are ignored). */
const NUMBERS = ['1', '2', '', '2', '7'];
const AGGREGATES: Record<string, AggregateCase> = {
  expect_column_min_to_be_between: {
    pass: { min_value: 1 },
    fail: { min_value: 1, strict_min: true },
    cells: NUMBERS,
    observed: 1,
    types: 'integer',
  },
  expect_column_max_to_be_between: {
    pass: { max_value: 7 },
    fail: { max_value: 7, strict_max: true },
    cells: NUMBERS,
    observed: 7,
    types: 'integer',
  },
  expect_column_mean_to_be_between: {
    pass: { min_value: 3, max_value: 3 },
    fail: { min_value: 3.1 },
    cells: NUMBERS,
    observed: 3,
    types: 'integer',
  },
  expect_column_median_to_be_between: {
    pass: { min_value: 2, max_value: 2 },
    fail: { max_value: 1.9 },
    cells: NUMBERS,
    observed: 2,
    types: 'integer',
  },
  expect_column_sum_to_be_between: {
    pass: { min_value: 12, max_value: 12 },
    fail: { max_value: 11 },
    cells: NUMBERS,
    observed: 12,
    types: 'integer',
  },
  expect_column_stdev_to_be_between: {
    pass: { min_value: 2.7, max_value: 2.71 },
    fail: { max_value: 2 },
    cells: NUMBERS,
    observed: Math.sqrt(22 / 3),
    types: 'integer',
  },
  expect_column_unique_value_count_to_be_between: {
    pass: { min_value: 3, max_value: 3 },
    fail: { min_value: 4 },
    cells: NUMBERS,
    observed: 3,
    types: 'integer',
  },
  expect_column_proportion_of_unique_values_to_be_between: {
    pass: { min_value: 0.75, max_value: 0.75 },
    fail: { min_value: 0.8 },
    cells: NUMBERS,
    observed: 0.75,
    types: 'integer',
  },
  expect_column_distinct_values_to_be_in_set: {
    pass: { value_set: [1, 2, 7, 9] },
    fail: { value_set: [1, 2] },
    cells: NUMBERS,
    observed: null,
    types: 'integer',
  },
  expect_column_distinct_values_to_contain_set: {
    pass: { value_set: [1, 7] },
    fail: { value_set: [1, 9] },
    cells: NUMBERS,
    observed: null,
    types: 'integer',
  },
  expect_column_distinct_values_to_equal_set: {
    pass: { value_set: [7, 2, 1] },
    fail: { value_set: [1, 2] },
    cells: NUMBERS,
    observed: null,
    types: 'integer',
  },
  expect_column_most_common_value_to_be_in_set: {
    pass: { value_set: [2] },
    fail: { value_set: [1, 7] },
    cells: NUMBERS,
    observed: [2],
    types: 'integer',
  },
  expect_column_quantile_values_to_be_between: {
    pass: {
      quantile_ranges: {
        quantiles: [0, 0.5, 1],
        value_ranges: [
          [0, 1],
          [2, 2],
          [null, 7],
        ],
      },
    },
    fail: { quantile_ranges: { quantiles: [0.5], value_ranges: [[3, null]] } },
    cells: NUMBERS,
    observed: { quantiles: [0, 0.5, 1], values: [1, 2, 7] },
    types: 'integer',
  },
};

// GX 1.x (since 1.10) reports the distinct-values set expectations by what differs, not by an observed value.
describe('distinct values against a set, in the shape of GX 1.x', () => {
  it.each([
    ['expect_column_distinct_values_to_be_in_set', { unexpected_count: 1, partial_unexpected_list: [7] }],
    ['expect_column_distinct_values_to_contain_set', { missing_count: 2, partial_missing_list: [3, 9] }],
    [
      'expect_column_distinct_values_to_equal_set',
      { unexpected_count: 1, partial_unexpected_list: [7], missing_count: 2, partial_missing_list: [3, 9] },
    ],
  ])(
    '%s lists the values outside the set and the values of the set the column lacks',
    async (type, lists) => {
      // Act
      const { entry } = await run(type, { column: 'x', value_set: [9, 1, 2, 3] }, NUMBERS, 'integer');
      // Assess
      expect(entry.success).toBe(false);
      expect(entry.result).toEqual({ observed_value: null, ...lists });
    },
  );

  it('leaves the lists out when partial_unexpected_count is 0, keeping the counts', async () => {
    // Act
    const { entry } = await run(
      'expect_column_distinct_values_to_equal_set',
      {
        column: 'x',
        value_set: [9],
        result_format: { result_format: 'SUMMARY', partial_unexpected_count: 0 },
      },
      NUMBERS,
      'integer',
    );
    // Assess
    expect(entry.result).toEqual({ observed_value: null, unexpected_count: 3, missing_count: 1 });
  });

  it('reports a proportion of unique values of 0 for a column without values, as GX does', async () => {
    // Act
    const { entry } = await run(
      'expect_column_proportion_of_unique_values_to_be_between',
      { column: 'x', min_value: 0, max_value: 0.5 },
      ['', ''],
      'integer',
    );
    // Assess
    expect(entry.result.observed_value).toBe(0);
    expect(entry.success).toBe(true);
  });
});

describe.each(Object.entries(AGGREGATES))('%s', (type, { pass, fail, cells, observed, types }) => {
  it('passes, reporting the observed value over the non-null values', async () => {
    // Act
    const { entry, run: r } = await run(type, { column: 'x', ...pass }, cells, types);
    // Assess
    expect(entry.success).toBe(true);
    if (typeof observed === 'number') expect(entry.result.observed_value).toBeCloseTo(observed, 10);
    else expect(entry.result.observed_value).toEqual(observed);
    expect(r.outcome.rows.quarantined).toBe(0);
  });

  it('fails at batch level: no row is quarantined, promotion is blocked', async () => {
    // Act
    const { entry, run: r } = await run(type, { column: 'x', ...fail }, cells, types);
    // Assess
    expect(entry.success).toBe(false);
    expect(r.outcome.rows.quarantined).toBe(0);
    expect(r.outcome.decision.promote).toBe(false);
  });

  it('gives an empty result under BOOLEAN_ONLY', async () => {
    // Act
    const { entry } = await run(type, { column: 'x', ...pass, result_format: 'BOOLEAN_ONLY' }, cells, types);
    // Assess
    expect(entry.result).toEqual({});
  });
});

describe('column aggregates on no values', () => {
  it.each([
    ['expect_column_mean_to_be_between', { min_value: 0 }],
    ['expect_column_median_to_be_between', { min_value: 0 }],
  ])('%s fails with observed_value null on an empty file', async (type, kwargs) => {
    // Act
    const { entry } = await run(type, { column: 'x', ...kwargs }, [], 'integer');
    // Assess
    expect(entry).toMatchObject({ success: false, result: { observed_value: null } });
  });

  it('a non-numeric value makes a numeric aggregate not evaluated, as GX raises', async () => {
    // Act
    const { entry } = await run('expect_column_mean_to_be_between', { column: 'x', min_value: 0 }, [
      '1',
      'abc',
    ]);
    // Assess
    expect(entry.exception_info.raised_exception).toBe(true);
    expect(entry.exception_info.exception_message).toContain('row 3');
  });
});

describe('multicolumn expectations', () => {
  it('pair equal ignores rows where both are missing, quarantines the unequal ones', async () => {
    // Act
    const { entry, run: r } = await run(
      'expect_column_pair_values_to_be_equal',
      { column_A: 'x', column_B: 'y' },
      ['a,a', ',', 'a,b', 'c,c'],
    );
    // Assess
    expect(entry.result).toMatchObject({ element_count: 4, missing_count: 1, unexpected_count: 1 });
    expect(entry.result.partial_unexpected_list).toEqual([['a', 'b']]);
    expect(r.quarantine.map((q) => q.row)).toEqual([4]);
  });

  it('a greater than b, with or_equal and mostly at its boundary', async () => {
    // Prepare
    const rows = ['2,1', '3,3', '1,2', '5,4'];
    const kwargs = { column_A: 'x', column_B: 'y' };
    // Act
    const strict = await run('expect_column_pair_values_a_to_be_greater_than_b', kwargs, rows, 'integer');
    const orEqual = await run(
      'expect_column_pair_values_a_to_be_greater_than_b',
      { ...kwargs, or_equal: true, mostly: 0.75 },
      rows,
      'integer',
    );
    // Assess
    expect(strict.entry.result.unexpected_count).toBe(2);
    expect(orEqual.entry.success).toBe(true);
  });

  it('compound columns unique counts every member of a repeated combination, quarantines the later ones', async () => {
    // Act
    const { entry, run: r } = await run('expect_compound_columns_to_be_unique', { column_list: ['x', 'y'] }, [
      'a,1',
      'a,2',
      'a,1',
      'b,1',
    ]);
    // Assess
    expect(entry.result).toMatchObject({ unexpected_count: 2, partial_unexpected_index_list: [0, 2] });
    expect(r.quarantine.map((q) => q.row)).toEqual([4]);
  });

  it('select column values unique within record', async () => {
    // Act
    const { entry } = await run(
      'expect_select_column_values_to_be_unique_within_record',
      { column_list: ['x', 'y'] },
      ['a,b', 'a,a', 'a,'],
    );
    // Assess
    expect(entry.result).toMatchObject({
      unexpected_count: 1,
      partial_unexpected_list: [{ x: 'a', y: 'a' }],
    });
  });

  it('multicolumn sum to equal, missing values adding nothing', async () => {
    // Act
    const { entry } = await run(
      'expect_multicolumn_sum_to_equal',
      { column_list: ['x', 'y'], sum_total: 10 },
      ['4,6', '10,', '3,3'],
      'number',
    );
    // Assess
    expect(entry.result).toMatchObject({ unexpected_count: 1, partial_unexpected_index_list: [2] });
  });
});

describe('table expectations', () => {
  it.each([
    ['expect_table_row_count_to_equal', { value: 2 }, { value: 3 }, 2],
    ['expect_table_column_count_to_be_between', { min_value: 3 }, { max_value: 2 }, 3],
    ['expect_table_column_count_to_equal', { value: 3 }, { value: 2 }, 3],
    [
      'expect_table_columns_to_match_ordered_list',
      { column_list: ['id', 'x', 'y'] },
      { column_list: ['x', 'id', 'y'] },
      ['id', 'x', 'y'],
    ],
  ])('%s passes and fails on its kwargs', async (type, pass, fail, observed) => {
    // Act
    const ok = await run(type, pass, ['a', 'b']);
    const bad = await run(type, fail, ['a', 'b']);
    // Assess
    expect(ok.entry).toMatchObject({ success: true, result: { observed_value: observed } });
    expect(bad.entry.success).toBe(false);
    expect(bad.run.outcome.decision.promote).toBe(false);
  });

  it('ordered list mismatch lists each position that differs', async () => {
    // Act
    const { entry } = await run(
      'expect_table_columns_to_match_ordered_list',
      { column_list: ['id', 'y', 'x'] },
      ['a'],
    );
    // Assess
    expect(entry.result.details).toEqual({
      mismatched: [
        { 'Expected Column Position': 1, Expected: 'y', Found: 'x' },
        { 'Expected Column Position': 2, Expected: 'x', Found: 'y' },
      ],
    });
  });

  it('expect_column_to_exist checks the column and its index', async () => {
    // Act
    const there = await run('expect_column_to_exist', { column: 'x', column_index: 1 }, ['a']);
    const elsewhere = await run('expect_column_to_exist', { column: 'x', column_index: 0 }, ['a']);
    const absent = await run('expect_column_to_exist', { column: 'nope' }, ['a']);
    // Assess
    expect([there.entry.success, elsewhere.entry.success, absent.entry.success]).toEqual([
      true,
      false,
      false,
    ]);
  });
});

describe('the catalogue at contract load', () => {
  it('has an evaluator for every expectation it names', async () => {
    // Prepare
    const names = Object.keys(EXPECTATION_CATALOGUE);
    // Act
    const { createEvaluator } = await import('../../../lambdas/validate/expectations.js');
    const unimplemented = names.filter(
      (type) =>
        createEvaluator({ type, kwargs: { column: 'x' }, severity: 'error' }).constructor.name ===
        'NotImplemented',
    );
    // Assess
    expect(unimplemented).toEqual([]);
  });

  it.each([
    ['expect_column_values_to_be_of_type', { column: 'x', type_: 'varchar2' }],
    ['expect_column_values_to_match_regex_list', { column: 'x', regex_list: ['a'], match_on: 'some' }],
    ['expect_column_mean_to_be_between', { column: 'x' }],
    ['expect_column_values_to_be_increasing', { column: 'x', strict: true }],
    [
      'expect_column_quantile_values_to_be_between',
      { column: 'x', quantile_ranges: { quantiles: [2], value_ranges: [[0, 1]] } },
    ],
    ['expect_column_pair_values_to_be_equal', { column_A: 'x', column_B: 'y', ignore_row_if: 'sometimes' }],
    ['expect_table_row_count_to_equal', {}],
  ])('refuses %s with kwargs GX would refuse', (type, kwargs) => {
    // Act
    const load = () =>
      csvContract(
        'type: object\nproperties:\n  x: { type: string }\n  y: { type: string }',
        `- type: ${type}\n  kwargs: ${JSON.stringify(kwargs)}`,
      );
    // Assess
    expect(load).toThrow(type);
  });
});
