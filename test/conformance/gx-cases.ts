/**
 * Generated cases for every expectation of Sluice's catalogue, to run through both Great
 * Expectations and Sluice (gx-differential.ts). Each expectation has a base: typed columns, rows
 * it accepts, a row it finds unexpected (column maps, multicolumn) or kwargs it fails on
 * (aggregates, table); the scenarios are made from the base the same way for every expectation.
 */
import { EXPECTATION_CATALOGUE, type ExpectationKind } from '../../lambdas/shared/expectation-catalogue.js';

export type ColumnType = 'integer' | 'number' | 'string' | 'boolean';
export type Row = Record<string, unknown>;

export interface Case {
  id: string;
  type: string;
  scenario: string;
  resultFormat: ResultFormatName;
  /** The record schema's columns. */
  columns: Record<string, ColumnType>;
  /** The columns the CSV file has: all of `columns`, or all but the one a scenario leaves out. */
  fileColumns: string[];
  rows: Row[];
  kwargs: Record<string, unknown>;
}

export const RESULT_FORMATS = ['BOOLEAN_ONLY', 'BASIC', 'SUMMARY', 'COMPLETE'] as const;
export type ResultFormatName = (typeof RESULT_FORMATS)[number];

interface Base {
  columns: Record<string, ColumnType>;
  /** At least four rows the expectation accepts. */
  good: Row[];
  kwargs: Record<string, unknown>;
  /** Column maps and multicolumn: one row the expectation finds unexpected. */
  bad?: Row;
  /** Aggregates and table expectations: kwargs the good rows fail. */
  failKwargs?: Record<string, unknown>;
  /** The share of expected values among the first four good rows and the bad row (default 0.8). */
  boundary?: number;
  /** Scenarios of this expectation alone: where GX and Sluice are known to part (docs/expectations.md). */
  more?: Scenario[];
}

interface Scenario {
  scenario: string;
  columns?: Record<string, ColumnType>;
  rows: Row[];
  kwargs: Row;
  /** A column the schema declares and the file lacks. */
  lacking?: string;
}

const x = (type: ColumnType, values: unknown[]) => ({
  columns: { x: type },
  good: values.map((v) => ({ x: v })),
});
const ints = x('integer', [1, 2, 3, 4, 5]);
const nums = x('number', [1, 2, 3, 4, 5]);
const texts = (values: string[]) => x('string', values);

const BASES: Readonly<Record<string, Base>> = {
  // Column maps
  expect_column_values_to_not_be_null: { ...ints, kwargs: { column: 'x' }, bad: { x: null } },
  expect_column_values_to_be_null: {
    ...x('integer', [null, null, null, null]),
    kwargs: { column: 'x' },
    bad: { x: 7 },
  },
  expect_column_values_to_be_unique: { ...ints, kwargs: { column: 'x' }, bad: { x: 1 }, boundary: 0.6 },
  expect_column_values_to_be_between: {
    ...nums,
    kwargs: { column: 'x', min_value: 0, max_value: 10 },
    bad: { x: 11 },
  },
  expect_column_values_to_be_in_set: {
    ...texts(['a', 'b', 'a', 'b', 'a']),
    kwargs: { column: 'x', value_set: ['a', 'b'] },
    bad: { x: 'c' },
  },
  expect_column_values_to_not_be_in_set: {
    ...texts(['a', 'b', 'a', 'b', 'a']),
    kwargs: { column: 'x', value_set: ['c', 'd'] },
    bad: { x: 'c' },
  },
  expect_column_values_to_match_regex: {
    ...texts(['ab', 'ac', 'ad', 'ae']),
    kwargs: { column: 'x', regex: '^a' },
    bad: { x: 'ba' },
  },
  expect_column_values_to_not_match_regex: {
    ...texts(['ab', 'ac', 'ad', 'ae']),
    kwargs: { column: 'x', regex: '^b' },
    bad: { x: 'ba' },
  },
  expect_column_values_to_match_regex_list: {
    ...texts(['ab', 'cb', 'ad', 'ae']),
    kwargs: { column: 'x', regex_list: ['^a', 'b$'], match_on: 'any' },
    bad: { x: 'cd' },
  },
  expect_column_values_to_not_match_regex_list: {
    ...texts(['cd', 'ce', 'cf', 'cg']),
    kwargs: { column: 'x', regex_list: ['^a', 'b$'] },
    bad: { x: 'ab' },
  },
  expect_column_values_to_be_of_type: {
    ...texts(['a', 'b', 'c', 'd']),
    kwargs: { column: 'x', type_: 'str' },
    failKwargs: { column: 'x', type_: 'int' },
    more: [
      {
        scenario: 'a column of numbers',
        columns: { x: 'integer' },
        rows: [{ x: 1 }, { x: 2 }, { x: 3 }],
        kwargs: { column: 'x', type_: 'int' },
      },
    ],
  },
  expect_column_values_to_be_in_type_list: {
    ...texts(['a', 'b', 'c', 'd']),
    kwargs: { column: 'x', type_list: ['str', 'int'] },
    failKwargs: { column: 'x', type_list: ['int', 'float'] },
  },
  expect_column_value_lengths_to_be_between: {
    ...texts(['a', 'ab', 'abc', 'ab']),
    kwargs: { column: 'x', min_value: 1, max_value: 3 },
    bad: { x: 'abcd' },
  },
  expect_column_value_lengths_to_equal: {
    ...texts(['ab', 'cd', 'ef', 'gh']),
    kwargs: { column: 'x', value: 2 },
    bad: { x: 'abc' },
  },
  expect_column_values_to_match_strftime_format: {
    ...texts(['2026-01-01', '2026-02-28', '2026-12-31', '2025-06-15']),
    kwargs: { column: 'x', strftime_format: '%Y-%m-%d' },
    bad: { x: '2026-13-01' },
  },
  expect_column_values_to_be_dateutil_parseable: {
    ...texts(['2026-01-01', '2026-02-28T10:00:00', '2026-12-31', '2025-06-15']),
    kwargs: { column: 'x' },
    bad: { x: 'not a date' },
    more: [
      {
        scenario: 'free text dateutil reads',
        rows: [{ x: '2026-01-01' }, { x: 'Tuesday' }, { x: '5pm' }],
        kwargs: { column: 'x' },
      },
    ],
  },
  expect_column_values_to_be_json_parseable: {
    ...texts(['{"a":1}', '[1,2]', '"t"', '3']),
    kwargs: { column: 'x' },
    bad: { x: '{a' },
  },
  expect_column_values_to_match_json_schema: {
    ...texts(['{"a":1}', '{"a":2}', '{"a":3,"b":1}', '{"a":4}']),
    kwargs: { column: 'x', json_schema: { type: 'object', required: ['a'] } },
    bad: { x: '{"b":1}' },
  },
  expect_column_values_to_be_increasing: { ...ints, kwargs: { column: 'x' }, bad: { x: 2 } },
  expect_column_values_to_be_decreasing: {
    ...x('integer', [5, 4, 3, 2, 1]),
    kwargs: { column: 'x' },
    bad: { x: 3 },
  },
  // Column aggregates
  expect_column_min_to_be_between: {
    ...nums,
    kwargs: { column: 'x', min_value: 0, max_value: 2 },
    failKwargs: { column: 'x', min_value: 2, max_value: 3 },
  },
  expect_column_max_to_be_between: {
    ...nums,
    kwargs: { column: 'x', min_value: 4, max_value: 6 },
    failKwargs: { column: 'x', min_value: 6 },
  },
  expect_column_mean_to_be_between: {
    ...nums,
    kwargs: { column: 'x', min_value: 2, max_value: 4 },
    failKwargs: { column: 'x', max_value: 2 },
  },
  expect_column_median_to_be_between: {
    ...x('number', [1, 2, 3, 4]),
    kwargs: { column: 'x', min_value: 2, max_value: 3 },
    failKwargs: { column: 'x', min_value: 2.6 },
  },
  expect_column_sum_to_be_between: {
    ...nums,
    kwargs: { column: 'x', min_value: 10, max_value: 20 },
    failKwargs: { column: 'x', min_value: 16 },
  },
  expect_column_stdev_to_be_between: {
    ...nums,
    kwargs: { column: 'x', min_value: 1, max_value: 2 },
    failKwargs: { column: 'x', max_value: 1 },
  },
  expect_column_unique_value_count_to_be_between: {
    ...x('integer', [1, 2, 2, 3, 3]),
    kwargs: { column: 'x', min_value: 3, max_value: 3 },
    failKwargs: { column: 'x', min_value: 4 },
  },
  expect_column_proportion_of_unique_values_to_be_between: {
    ...x('integer', [1, 2, 2, 3, 3]),
    kwargs: { column: 'x', min_value: 0.5, max_value: 0.7 },
    failKwargs: { column: 'x', min_value: 0.8 },
  },
  expect_column_distinct_values_to_be_in_set: {
    ...x('integer', [1, 2, 2, 3]),
    kwargs: { column: 'x', value_set: [1, 2, 3, 4] },
    failKwargs: { column: 'x', value_set: [1, 2] },
  },
  expect_column_distinct_values_to_contain_set: {
    ...x('integer', [1, 2, 2, 3]),
    kwargs: { column: 'x', value_set: [1, 2] },
    failKwargs: { column: 'x', value_set: [1, 9] },
  },
  expect_column_distinct_values_to_equal_set: {
    ...x('integer', [1, 2, 2, 3]),
    kwargs: { column: 'x', value_set: [1, 2, 3] },
    failKwargs: { column: 'x', value_set: [1, 2] },
  },
  expect_column_most_common_value_to_be_in_set: {
    ...x('integer', [1, 1, 2, 3]),
    kwargs: { column: 'x', value_set: [1] },
    failKwargs: { column: 'x', value_set: [2] },
  },
  expect_column_kl_divergence_to_be_less_than: {
    ...nums,
    kwargs: {
      column: 'x',
      partition_object: { bins: [0, 2, 4, 6], weights: [0.2, 0.4, 0.4] },
      threshold: 0.1,
    },
    failKwargs: {
      column: 'x',
      partition_object: { bins: [0, 2, 4, 6], weights: [0.8, 0.1, 0.1] },
      threshold: 0.1,
    },
    more: [
      {
        scenario: 'categorical, with a value the partition lacks and a tail holdout',
        columns: { x: 'string' },
        rows: ['a', 'b', 'a', 'c', 'a'].map((x) => ({ x })),
        kwargs: {
          column: 'x',
          partition_object: { values: ['a', 'b'], weights: [0.6, 0.4] },
          tail_weight_holdout: 0.1,
          bucketize_data: false,
          threshold: 0.5,
        },
      },
      {
        scenario: 'values outside the bins, with a tail holdout',
        rows: [1, 2, 3, 5, 9].map((x) => ({ x })),
        kwargs: {
          column: 'x',
          partition_object: { bins: [2, 4], weights: [1] },
          tail_weight_holdout: 0.2,
          threshold: 2,
        },
      },
      {
        scenario: 'tail weights in the partition',
        rows: [1, 2, 3, 5, 9].map((x) => ({ x })),
        kwargs: {
          column: 'x',
          partition_object: { bins: [2, 4, 6], weights: [0.5, 0.3], tail_weights: [0.1, 0.1] },
        },
      },
      {
        scenario: 'empty bins given weight by an internal holdout',
        rows: [1, 2, 3, 7].map((x) => ({ x })),
        kwargs: {
          column: 'x',
          partition_object: { bins: [0, 2, 4, 6, 8], weights: [0.5, 0.5, 0, 0] },
          internal_weight_holdout: 0.1,
          threshold: 1,
        },
      },
    ],
  },
  expect_column_quantile_values_to_be_between: {
    ...nums,
    kwargs: {
      column: 'x',
      quantile_ranges: {
        quantiles: [0.25, 0.5, 0.75],
        value_ranges: [
          [1, 3],
          [2, 4],
          [3, 5],
        ],
      },
    },
    failKwargs: {
      column: 'x',
      quantile_ranges: {
        quantiles: [0.25, 0.5, 0.75],
        value_ranges: [
          [4, 5],
          [2, 4],
          [3, 5],
        ],
      },
    },
  },
  // Multicolumn
  expect_column_pair_values_to_be_equal: {
    columns: { x: 'integer', y: 'integer' },
    good: [1, 2, 3, 4].map((v) => ({ x: v, y: v })),
    kwargs: { column_A: 'x', column_B: 'y' },
    bad: { x: 1, y: 2 },
  },
  expect_column_pair_values_a_to_be_greater_than_b: {
    columns: { x: 'integer', y: 'integer' },
    good: [1, 2, 3, 4].map((v) => ({ x: v + 1, y: v })),
    kwargs: { column_A: 'x', column_B: 'y' },
    bad: { x: 1, y: 2 },
  },
  expect_compound_columns_to_be_unique: {
    columns: { a: 'integer', b: 'integer' },
    good: [1, 2, 3, 4].map((v) => ({ a: v, b: v % 2 })),
    kwargs: { column_list: ['a', 'b'] },
    bad: { a: 1, b: 1 },
    boundary: 0.6,
  },
  expect_select_column_values_to_be_unique_within_record: {
    columns: { a: 'integer', b: 'integer', c: 'integer' },
    good: [1, 2, 3, 4].map((v) => ({ a: v, b: v + 10, c: v + 20 })),
    kwargs: { column_list: ['a', 'b', 'c'] },
    bad: { a: 1, b: 1, c: 2 },
  },
  expect_multicolumn_sum_to_equal: {
    columns: { a: 'integer', b: 'integer' },
    good: [1, 2, 3, 4].map((v) => ({ a: v, b: 10 - v })),
    kwargs: { column_list: ['a', 'b'], sum_total: 10 },
    bad: { a: 5, b: 6 },
  },
  // Table
  expect_table_row_count_to_be_between: {
    ...ints,
    kwargs: { min_value: 1, max_value: 5 },
    failKwargs: { max_value: 2 },
  },
  expect_table_row_count_to_equal: { ...ints, kwargs: { value: 5 }, failKwargs: { value: 4 } },
  expect_table_column_count_to_be_between: {
    columns: { x: 'integer', y: 'integer' },
    good: [{ x: 1, y: 2 }],
    kwargs: { min_value: 2, max_value: 2 },
    failKwargs: { min_value: 3 },
  },
  expect_table_column_count_to_equal: {
    columns: { x: 'integer', y: 'integer' },
    good: [{ x: 1, y: 2 }],
    kwargs: { value: 2 },
    failKwargs: { value: 3 },
  },
  expect_table_columns_to_match_set: {
    columns: { x: 'integer', y: 'integer' },
    good: [{ x: 1, y: 2 }],
    kwargs: { column_set: ['y', 'x'] },
    failKwargs: { column_set: ['x', 'z'] },
  },
  expect_table_columns_to_match_ordered_list: {
    columns: { x: 'integer', y: 'integer' },
    good: [{ x: 1, y: 2 }],
    kwargs: { column_list: ['x', 'y'] },
    failKwargs: { column_list: ['y', 'x'] },
  },
  expect_column_to_exist: {
    columns: { x: 'integer', y: 'integer' },
    good: [{ x: 1, y: 2 }],
    kwargs: { column: 'y' },
    failKwargs: { column: 'z' },
  },
};

const ROW_LEVEL: readonly ExpectationKind[] = ['column_map', 'multicolumn'];

/** The scenarios of one expectation: name, rows and kwargs. */
function scenarios(type: string, base: Base): Scenario[] {
  const { kind } = EXPECTATION_CATALOGUE[type]!;
  const nullRow = Object.fromEntries(Object.keys(base.columns).map((c) => [c, null]));
  const out: Scenario[] = [
    { scenario: 'passing', rows: base.good, kwargs: base.kwargs },
    { scenario: 'nulls', rows: [...base.good, nullRow, nullRow], kwargs: base.kwargs },
    { scenario: 'empty', rows: [], kwargs: base.kwargs },
  ];
  if (ROW_LEVEL.includes(kind) && base.bad) {
    const boundary = base.boundary ?? 0.8;
    const atBoundary = [...base.good.slice(0, 4), base.bad];
    out.push(
      { scenario: 'failing', rows: [...base.good, base.bad], kwargs: base.kwargs },
      { scenario: 'failing with nulls', rows: [...base.good, nullRow, base.bad], kwargs: base.kwargs },
      { scenario: 'mostly at the boundary', rows: atBoundary, kwargs: { ...base.kwargs, mostly: boundary } },
      {
        scenario: 'mostly just above the boundary',
        rows: atBoundary,
        kwargs: { ...base.kwargs, mostly: boundary + 0.01 },
      },
    );
  }
  if (base.failKwargs) out.push({ scenario: 'failing', rows: base.good, kwargs: base.failKwargs });
  if (kind === 'column_map' || kind === 'column_aggregate') {
    out.push({ scenario: 'a column the file lacks', rows: base.good, kwargs: base.kwargs, lacking: 'x' });
  }
  return [...out, ...(base.more ?? [])];
}

/** Every case: each expectation of the catalogue, each scenario, each result_format. */
export function allCases(): Case[] {
  const cases: Case[] = [];
  for (const type of Object.keys(EXPECTATION_CATALOGUE).sort()) {
    const base = BASES[type];
    if (!base) throw new Error(`no conformance base for ${type}: add one to test/conformance/gx-cases.ts`);
    for (const { scenario, rows, kwargs, columns: own, lacking } of scenarios(type, base)) {
      // A one-column CSV cannot hold a null: its empty cell is a blank line, which readers skip.
      const given = own ?? base.columns;
      const single = Object.keys(given).length === 1;
      const columns: Record<string, ColumnType> = single ? { id: 'integer', ...given } : given;
      const numbered = single ? rows.map((row, i) => ({ id: i + 1, ...row })) : rows;
      for (const resultFormat of RESULT_FORMATS) {
        cases.push({
          id: `${type} · ${scenario} · ${resultFormat}`,
          type,
          scenario,
          resultFormat,
          columns,
          fileColumns: Object.keys(columns).filter((c) => c !== lacking),
          rows: numbered,
          kwargs: { ...kwargs, result_format: resultFormat },
        });
      }
    }
  }
  return cases;
}
