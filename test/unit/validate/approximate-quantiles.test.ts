import { describe, expect, it } from '@jest/globals';
import { ContractInvalid } from '../../../lambdas/shared/errors.js';
import { recordStarts, wholeAndSharded } from './merge-support.js';
import { contractFrom, resultOf, validate } from './support.js';

function contractText(
  approximate: string,
  type = 'expect_column_median_to_be_between',
  kwargs = 'min_value: 0',
): string {
  return [
    'name: readings',
    'source: { type: s3-upload, prefix: landing/readings/ }',
    'format: { type: csv }',
    'schema:',
    '  type: object',
    '  properties:',
    '    x: { type: number }',
    'expectations:',
    `  - type: ${type}`,
    `    kwargs: { column: x, ${kwargs} }`,
    ...(approximate ? [`    approximate: ${approximate}`] : []),
  ].join('\n');
}

const QUANTILES =
  'quantile_ranges: { quantiles: [0, 0.01, 0.25, 0.5, 0.9, 1], value_ranges: [[null, null], [null, null], [null, null], [null, null], [null, null], [null, null]] }, allow_relative_error: linear';

/** Values over six orders of magnitude, of both signs, with zeros. */
function readings(count: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 97 === 0) return 0;
    const magnitude = 10 ** ((i * 7) % 6) * (1 + ((i * 7919) % 1000) / 1000);
    return i % 5 === 0 ? -magnitude : magnitude;
  });
}

function csv(values: number[]): string {
  return `x\n${values.map((v) => `${v}\n`).join('')}`;
}

describe('approximate median and quantiles', () => {
  it('gives each quantile within the relative error the contract asks for', async () => {
    // Prepare
    const text = csv(readings(5_000));
    const exact = contractFrom(contractText('', 'expect_column_quantile_values_to_be_between', QUANTILES));
    const approximate = contractFrom(
      contractText('{ relative_error: 0.01 }', 'expect_column_quantile_values_to_be_between', QUANTILES),
    );
    // Act
    const exactRun = await validate(text, exact);
    const approximateRun = await validate(text, approximate);
    // Assess
    const truth = (
      resultOf(exactRun, 'expect_column_quantile_values_to_be_between').result.observed_value as {
        values: number[];
      }
    ).values;
    const result = resultOf(approximateRun, 'expect_column_quantile_values_to_be_between').result;
    const values = (result.observed_value as { values: number[] }).values;
    values.forEach((v, i) => {
      expect(Math.abs(v - truth[i]!)).toBeLessThanOrEqual(0.01 * Math.abs(truth[i]!) * (1 + 1e-9));
    });
    expect(values).not.toEqual(truth);
    expect(result.details).toMatchObject({ approximate: { relative_error: 0.01 } });
  });

  it('merges shards into the result one pass gives', async () => {
    // Prepare
    const text = csv(readings(3_000));
    const contract = contractFrom(contractText('{ relative_error: 0.02 }'));
    const starts = recordStarts(text, 'csv');
    // Act
    const run = await wholeAndSharded(text, contract, [starts[1000]!, starts[2500]!]);
    // Assess
    expect(run.merged).toEqual(run.whole.outcome);
    // The expectations' states: the shard's column profile (up to 1000 tracked values a column) is apart.
    expect(JSON.stringify(run.shards[0]!.evaluators).length).toBeLessThan(10_000);
  });

  it('is refused on an expectation that is always exact', () => {
    // Prepare
    const text = contractText('{ relative_error: 0.01 }', 'expect_column_mean_to_be_between');
    // Act
    const parse = () => contractFrom(text);
    // Assess
    expect(parse).toThrow(ContractInvalid);
    expect(parse).toThrow(/expect_column_mean_to_be_between is computed exactly; approximate is for/);
  });

  it('is refused with a relative error of 0', () => {
    // Prepare
    const text = contractText('{ relative_error: 0 }');
    // Act
    const parse = () => contractFrom(text);
    // Assess
    expect(parse).toThrow(ContractInvalid);
  });
});
