import { describe, expect, it } from '@jest/globals';
import { SCHEMA_EXPECTATION } from '../../../lambdas/validate/engine.js';
import { publishedResult } from '../../../lambdas/validate/result-format.js';
import { csvContract, resultOf, validate } from './support.js';

const IN_SET = 'expect_column_values_to_be_in_set';

/** 30 rows of x: 25 unexpected values ("b" ×15, "c" ×10, interleaved) and 5 expected ("a"). */
const CELLS = Array.from({ length: 30 }, (_, i) => (i % 6 === 0 ? 'a' : i % 2 === 0 ? 'c' : 'b'));
const CSV = `x\n${CELLS.join('\n')}\n`;
const UNEXPECTED_INDEXES = CELLS.flatMap((cell, i) => (cell === 'a' ? [] : [i]));

async function inSetWith(resultFormat: unknown) {
  const kwargs = {
    column: 'x',
    value_set: ['a'],
    ...(resultFormat === undefined ? {} : { result_format: resultFormat }),
  };
  const contract = csvContract(
    'type: object\nproperties:\n  x: { type: string }',
    `- type: ${IN_SET}\n  kwargs: ${JSON.stringify(kwargs)}`,
  );
  return resultOf(await validate(CSV, contract), IN_SET);
}

describe('result_format', () => {
  it('BOOLEAN_ONLY gives success and an empty result', async () => {
    // Act
    const entry = await inSetWith('BOOLEAN_ONLY');
    // Assess
    expect([entry.success, entry.result]).toEqual([false, {}]);
  });

  it('BASIC gives the counts, percentages and the partial list, no counts or indexes', async () => {
    // Act
    const entry = await inSetWith('BASIC');
    // Assess
    expect(entry.result).toEqual({
      element_count: 30,
      unexpected_count: 25,
      unexpected_percent: (25 / 30) * 100,
      partial_unexpected_list: CELLS.filter((c) => c !== 'a').slice(0, 20),
      missing_count: 0,
      missing_percent: 0,
      unexpected_percent_total: (25 / 30) * 100,
      unexpected_percent_nonmissing: (25 / 30) * 100,
    });
  });

  it('SUMMARY, the default, adds the partial indexes and the most common unexpected values', async () => {
    // Act
    const entry = await inSetWith(undefined);
    // Assess
    expect(entry.result.partial_unexpected_index_list).toEqual(UNEXPECTED_INDEXES.slice(0, 20));
    expect(entry.result.partial_unexpected_counts).toEqual([
      { value: 'b', count: 15 },
      { value: 'c', count: 10 },
    ]);
    expect(entry.result).not.toHaveProperty('unexpected_index_list');
  });

  it('COMPLETE adds every unexpected value and index', async () => {
    // Act
    const entry = await inSetWith('COMPLETE');
    // Assess
    expect(entry.result.unexpected_index_list).toEqual(UNEXPECTED_INDEXES);
    expect(entry.result.unexpected_list).toEqual(CELLS.filter((c) => c !== 'a'));
  });

  it('limits the partial lists to partial_unexpected_count', async () => {
    // Act
    const entry = await inSetWith({ result_format: 'SUMMARY', partial_unexpected_count: 2 });
    // Assess
    expect([entry.result.partial_unexpected_list, entry.result.partial_unexpected_index_list]).toEqual([
      ['b', 'c'],
      [1, 2],
    ]);
  });

  it('adds the first unexpected rows when include_unexpected_rows is set', async () => {
    // Act
    const entry = await inSetWith({
      result_format: 'BASIC',
      include_unexpected_rows: true,
      partial_unexpected_count: 1,
    });
    // Assess
    expect(entry.result.unexpected_rows).toEqual([{ x: 'b' }]);
  });

  it('gives every index of a duplicated group in COMPLETE, first occurrences included, in order', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  x: { type: string }',
      '- type: expect_column_values_to_be_unique\n  kwargs: { column: x, result_format: COMPLETE }',
    );
    // Act
    const run = await validate('x\nA\nB\nB\nA\nC\n', contract);
    // Assess
    expect(resultOf(run, 'expect_column_values_to_be_unique').result).toMatchObject({
      unexpected_index_list: [0, 1, 2, 3],
      unexpected_list: ['A', 'B', 'B', 'A'],
    });
  });

  it('gives table expectations an empty result under BOOLEAN_ONLY', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  x: { type: string }',
      '- type: expect_table_row_count_to_be_between\n  kwargs: { min_value: 1, result_format: BOOLEAN_ONLY }',
    );
    // Act
    const run = await validate('x\na\n', contract);
    // Assess
    expect(resultOf(run, 'expect_table_row_count_to_be_between').result).toEqual({});
  });
});

describe('the suite result', () => {
  it('counts the schema entry and every expectation in the statistics', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  x: { type: integer }',
      `- type: expect_column_values_to_not_be_null
  kwargs: { column: x }
- type: expect_table_row_count_to_be_between
  kwargs: { min_value: 5 }
- type: ${IN_SET}
  kwargs: { column: x, value_set: [1, 2] }`,
    );
    // Act
    const run = await validate('x\n1\n2\n', contract);
    // Assess
    expect(run.outcome.result.statistics).toEqual({
      evaluated_expectations: 4,
      successful_expectations: 3,
      unsuccessful_expectations: 1,
      success_percent: 75,
    });
    expect(run.outcome.result.success).toBe(false);
  });

  it('puts the schema entry first, then the contract expectations in their order', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  x: { type: integer }',
      `- type: ${IN_SET}
  kwargs: { column: x, value_set: [1] }
  meta: { owner: data-team }
  severity: warning
- type: expect_column_values_to_not_be_null
  kwargs: { column: x }`,
    );
    // Act
    const run = await validate('x\n1\n', contract);
    // Assess
    expect(run.outcome.result.results.map((r) => r.expectation_config)).toEqual([
      expect.objectContaining({ type: SCHEMA_EXPECTATION, kwargs: { schema: contract.schema } }),
      {
        type: IN_SET,
        kwargs: { column: 'x', value_set: [1] },
        meta: { owner: 'data-team', severity: 'warning' },
        severity: 'warning',
      },
      {
        type: 'expect_column_values_to_not_be_null',
        kwargs: { column: 'x' },
        meta: { severity: 'error' },
        severity: 'error',
      },
    ]);
  });

  it('reports schema failures like a column-map expectation over rows, grouped by problem', async () => {
    // Prepare
    const contract = csvContract('type: object\nproperties:\n  x: { type: integer, minimum: 0 }');
    // Act
    const run = await validate('x\n-1\n-2\n5\nfive\n', contract);
    // Assess
    expect(resultOf(run, SCHEMA_EXPECTATION).result).toMatchObject({
      element_count: 4,
      unexpected_count: 3,
      partial_unexpected_index_list: [0, 1, 3],
      partial_unexpected_counts: [
        { value: { column: 'x', problem: 'must be >= 0' }, count: 2 },
        { value: { column: 'x', problem: 'must be integer' }, count: 1 },
      ],
    });
  });

  it('names the suite after the contract and says when and what was validated', async () => {
    // Act
    const run = await validate('x\n1\n', csvContract('type: object\nproperties:\n  x: {}'), {
      source: 's3://raw/k.csv',
    });
    // Assess
    expect(run.outcome.result.meta).toEqual({
      expectation_suite_name: 'orders',
      validation_time: '2026-11-25T10:00:00.000Z',
      batch_spec: { path: 's3://raw/k.csv', format: 'csv' },
      columns: ['x'],
      rows: { read: 1, valid: 1, quarantined: 0 },
      on_failure: 'quarantine',
    });
  });

  it('reports exception_info with no exception for an expectation that was evaluated', async () => {
    // Act
    const run = await validate('x\n1\n', csvContract('type: object\nproperties:\n  x: {}'));
    // Assess
    expect(resultOf(run, SCHEMA_EXPECTATION).exception_info).toEqual({
      raised_exception: false,
      exception_message: null,
      exception_traceback: null,
    });
  });
});

describe('publishedResult', () => {
  it('leaves out expectation_config only where the expectation says include_config: false', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  x: { type: string }',
      `- type: ${IN_SET}\n  kwargs: { column: x, value_set: [a], include_config: false }\n` +
        `- type: ${IN_SET}\n  kwargs: { column: x, value_set: [a, b, c], include_config: true }`,
    );
    const run = await validate(CSV, contract);
    // Act
    const published = publishedResult(run.outcome.result);
    // Assess
    expect(published.results.map((r) => r.expectation_config?.type)).toEqual([
      SCHEMA_EXPECTATION,
      undefined,
      IN_SET,
    ]);
    expect(published.results[1]).toEqual({ ...run.outcome.result.results[1], expectation_config: undefined });
    expect(published.results[1]).not.toHaveProperty('expectation_config');
    expect(run.outcome.result.results[1]?.expectation_config.type).toBe(IN_SET);
    expect(published.statistics).toEqual(run.outcome.result.statistics);
  });
});
