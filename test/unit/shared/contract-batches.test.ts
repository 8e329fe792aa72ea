import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { ContractInvalid } from '../../../lambdas/shared/errors.js';

const base = [
  'name: orders',
  'source: { type: s3-upload, prefix: landing/orders/ }',
  'format: { type: csv }',
  'schema:',
  '  type: object',
  '  properties:',
  '    id: { type: string }',
  '    amount: { type: number }',
];

function expectation(type: string, kwargs: string, scope?: string): string[] {
  return [`  - type: ${type}`, `    kwargs: ${kwargs}`, ...(scope ? [`    scope: ${scope}`] : [])];
}

function problems(lines: string[]): string {
  try {
    parseContract(lines.join('\n'), 'datasets/orders.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ContractInvalid);
    return (error as Error).message;
  }
  throw new Error('the contract was accepted');
}

describe('contract option batches.same_source', () => {
  it('defaults to append, and every expectation to scope batch', () => {
    // Act
    const contract = parseContract(
      [...base, 'expectations:', ...expectation('expect_column_values_to_be_unique', '{ column: id }')].join(
        '\n',
      ),
      '<inline>',
    );
    // Assess
    expect(contract.batches).toEqual({ same_source: 'append' });
    expect(contract.expectations[0]?.scope).toBe('batch');
  });

  it('takes replace', () => {
    // Act
    const contract = parseContract([...base, 'batches: { same_source: replace }'].join('\n'), '<inline>');
    // Assess
    expect(contract.batches.same_source).toBe('replace');
  });

  it('refuses another value, naming the path and the values it takes', () => {
    // Act
    const message = problems([...base, 'batches: { same_source: overwrite }']);
    // Assess
    expect(message).toContain(
      'datasets/orders.yaml:9 at /batches/same_source: must be one of "append", "replace"',
    );
  });

  it('refuses replace for a stream, whose micro-batches never correct an earlier one', () => {
    // Act
    const message = problems([
      'name: orders',
      'source: { type: stream, time_field: at }',
      'format: { type: jsonl }',
      'schedule: rate(15 minutes)',
      'schema: { type: object, properties: { at: { type: string } } }',
      'batches: { same_source: replace }',
    ]);
    // Assess
    expect(message).toContain('at /batches/same_source: a stream');
  });
});

describe('expectation scope snapshot', () => {
  it.each([
    ['expect_column_values_to_be_unique', '{ column: id }'],
    ['expect_compound_columns_to_be_unique', '{ column_list: [id, amount] }'],
    ['expect_table_row_count_to_be_between', '{ min_value: 1 }'],
    ['expect_column_sum_to_be_between', '{ column: amount, max_value: 100 }'],
  ])('is taken by %s', (type, kwargs) => {
    // Act
    const contract = parseContract(
      [...base, 'expectations:', ...expectation(type, kwargs, 'snapshot')].join('\n'),
      '<inline>',
    );
    // Assess
    expect(contract.expectations[0]?.scope).toBe('snapshot');
  });

  it('is refused on a row-by-row expectation, with the reason', () => {
    // Act
    const message = problems([
      ...base,
      'expectations:',
      ...expectation('expect_column_values_to_be_between', '{ column: amount, min_value: 0 }', 'snapshot'),
    ]);
    // Assess
    expect(message).toContain(
      'datasets/orders.yaml:12 at /expectations/0/scope: scope snapshot is not available: expect_column_values_to_be_between checks each row on its own',
    );
  });

  it('is refused on an expectation about the columns of a file', () => {
    // Act
    const message = problems([
      ...base,
      'expectations:',
      ...expectation('expect_table_columns_to_match_set', '{ column_set: [id, amount] }', 'snapshot'),
    ]);
    // Assess
    expect(message).toContain('at /expectations/0/scope: scope snapshot is not available');
    expect(message).toContain('JSON Lines records without a header');
  });

  it('is refused on an expectation about the order of rows', () => {
    // Act
    const message = problems([
      ...base,
      'expectations:',
      ...expectation('expect_column_values_to_be_increasing', '{ column: amount }', 'snapshot'),
    ]);
    // Assess
    expect(message).toContain('no order across batches');
  });
});
