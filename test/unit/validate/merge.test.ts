import { describe, expect, it } from '@jest/globals';
import { EXPECTATION_CATALOGUE } from '../../../lambdas/shared/expectation-catalogue.js';
import { random } from '../../support/random.js';
import {
  generatedRows,
  mergeContract,
  randomCuts,
  recordStarts,
  render,
  wholeAndSharded,
} from './merge-support.js';

/**
 * Validating an input in shards and merging gives what one pass gives: the same outcome (result,
 * summaries, decision, rows), the same quarantine lines and the same valid records, whatever the
 * cuts. Each catalogue expectation on generated data with something to find.
 */
const KWARGS: Record<string, Record<string, unknown>> = {
  expect_column_values_to_not_be_null: { column: 's' },
  expect_column_values_to_be_unique: { column: 'id' },
  expect_column_values_to_be_between: { column: 'x', min_value: 0, max_value: 90 },
  expect_column_values_to_be_in_set: { column: 's', value_set: ['red', 'green', 'blue'] },
  expect_column_values_to_match_regex: { column: 's', regex: '^[a-r]+$' },
  expect_column_values_to_be_null: { column: 'd', mostly: 0.1 },
  expect_column_values_to_not_be_in_set: { column: 's', value_set: ['black'] },
  expect_column_values_to_not_match_regex: { column: 's', regex: 'ee' },
  expect_column_values_to_match_regex_list: { column: 's', regex_list: ['^r', '^g', '^b'], match_on: 'any' },
  expect_column_values_to_not_match_regex_list: { column: 's', regex_list: ['^w', 'k$'] },
  expect_column_values_to_be_of_type: { column: 'x', type_: 'int' },
  expect_column_values_to_be_in_type_list: { column: 'x', type_list: ['int', 'str'] },
  expect_column_value_lengths_to_be_between: { column: 's', min_value: 3, max_value: 4 },
  expect_column_value_lengths_to_equal: { column: 's', value: 4 },
  expect_column_values_to_match_strftime_format: { column: 'd', strftime_format: '%Y-%m-%d' },
  expect_column_values_to_be_dateutil_parseable: { column: 'd' },
  expect_column_values_to_be_json_parseable: { column: 'j' },
  expect_column_values_to_match_json_schema: {
    column: 'j',
    json_schema: { type: 'object', required: ['a'] },
  },
  expect_column_values_to_be_increasing: { column: 'id' },
  expect_column_values_to_be_decreasing: { column: 'x', strictly: true },
  expect_column_min_to_be_between: { column: 'x', min_value: 0 },
  expect_column_max_to_be_between: { column: 'x', max_value: 99.5 },
  expect_column_mean_to_be_between: { column: 'x', min_value: 10, max_value: 60 },
  expect_column_median_to_be_between: { column: 'x', min_value: 40, max_value: 60 },
  expect_column_sum_to_be_between: { column: 'y', min_value: 0 },
  expect_column_stdev_to_be_between: { column: 'x', max_value: 10 },
  expect_column_unique_value_count_to_be_between: { column: 's', min_value: 1, max_value: 6 },
  expect_column_proportion_of_unique_values_to_be_between: { column: 'y', min_value: 0.9 },
  expect_column_distinct_values_to_be_in_set: { column: 's', value_set: ['red', 'green', 'blue'] },
  expect_column_distinct_values_to_contain_set: { column: 's', value_set: ['red', 'gold'] },
  expect_column_distinct_values_to_equal_set: { column: 'j', value_set: ['3'] },
  expect_column_most_common_value_to_be_in_set: { column: 's', value_set: ['blue'] },
  expect_column_quantile_values_to_be_between: {
    column: 'x',
    quantile_ranges: {
      quantiles: [0.1, 0.5, 0.9],
      value_ranges: [
        [0, 20],
        [40, 60],
        [80, 100],
      ],
    },
    allow_relative_error: 'linear',
  },
  expect_column_kl_divergence_to_be_less_than: {
    column: 'x',
    partition_object: { bins: [0, 25, 50, 100], weights: [0.2, 0.3, 0.5] },
    tail_weight_holdout: 0.1,
    threshold: 0.5,
  },
  expect_column_pair_values_to_be_equal: { column_A: 'x', column_B: 'y' },
  expect_column_pair_values_a_to_be_greater_than_b: { column_A: 'x', column_B: 'y', or_equal: true },
  expect_compound_columns_to_be_unique: { column_list: ['s', 'd'] },
  expect_select_column_values_to_be_unique_within_record: { column_list: ['x', 'y'] },
  expect_multicolumn_sum_to_equal: { column_list: ['x', 'y'], sum_total: 100 },
  expect_table_row_count_to_be_between: { min_value: 50, max_value: 70 },
  expect_table_columns_to_match_set: { column_set: ['id', 'x', 'y', 's', 'd'] },
  expect_table_row_count_to_equal: { value: 60 },
  expect_table_column_count_to_be_between: { min_value: 2, max_value: 6 },
  expect_table_column_count_to_equal: { value: 6 },
  expect_table_columns_to_match_ordered_list: { column_list: ['id', 'x', 's', 'y', 'd', 'j'] },
  expect_column_to_exist: { column: 'j', column_index: 5 },
};

function suite(type: string, extra: Record<string, unknown> = {}, severity = 'error'): string {
  return `- type: ${type}\n  severity: ${severity}\n  kwargs: ${JSON.stringify({ ...KWARGS[type], ...extra })}`;
}

describe('the merge test table', () => {
  it('covers every expectation of the catalogue', () => {
    // Assess
    expect(Object.keys(KWARGS).sort()).toEqual(Object.keys(EXPECTATION_CATALOGUE).sort());
  });
});

describe.each(['csv', 'jsonl'] as const)('merging %s shards', (format) => {
  it.each(Object.keys(KWARGS))(
    'gives one pass’s outcome and outputs for %s, cut 1 to 5 ways',
    async (type) => {
      for (let shards = 1; shards <= 5; shards++) {
        // Prepare
        const seed = shards * 31 + type.length;
        const contract = mergeContract(format, suite(type, { result_format: 'COMPLETE' }));
        const text = render(format, generatedRows(seed, 60));
        const cuts = randomCuts(random(seed), recordStarts(text, format), shards);
        // Act
        const run = await wholeAndSharded(text, contract, cuts);
        // Assess
        expect({ shards, cuts, outcome: run.merged }).toEqual({ shards, cuts, outcome: run.whole.outcome });
        expect(run.quarantine).toBe(run.whole.quarantineText);
        expect(run.valid).toBe(run.whole.validText);
      }
    },
  );
});
