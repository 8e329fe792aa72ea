import { describe, expect, it } from '@jest/globals';
import { csvContract, ORDERS_SCHEMA, validate } from './support.js';

/** The orders schema with the given expectations and on_failure. */
function orders(onFailure: 'quarantine' | 'reject', expectations = '[]') {
  return csvContract(ORDERS_SCHEMA, expectations, `on_failure: ${onFailure}`);
}

const BETWEEN = (extra = '', severity = 'error') =>
  `- type: expect_column_values_to_be_between\n  kwargs: { column: amount, max_value: 100${extra} }\n  severity: ${severity}`;
const ROW_COUNT = (severity = 'error') =>
  `- type: expect_table_row_count_to_be_between\n  kwargs: { min_value: 10 }\n  severity: ${severity}`;

const CSV = 'order_id,amount\nA,1\nB,2\nC,3\nD,500\n';

describe('on_failure: reject', () => {
  it('does not promote when an expectation of severity error fails', async () => {
    // Act
    const run = await validate(CSV, orders('reject', BETWEEN()));
    // Assess
    expect(run.outcome.decision).toEqual({
      warnings: [],
      promote: false,
      reasons: [
        "expect_column_values_to_be_between on column 'amount': 1 of 4 non-null values (25%) are unexpected, e.g. 500; expected values <= 100 (on_failure: reject).",
      ],
    });
  });

  it('does not promote when rows fail the contract schema', async () => {
    // Act
    const run = await validate('order_id,amount\nA,1\nB,-1\n', orders('reject'));
    // Assess
    expect(run.outcome.decision.reasons).toEqual([
      'expect_rows_to_match_contract_schema: 1 of 2 rows (50%) do not match the contract schema, e.g. amount must be >= 0 (on_failure: reject).',
    ]);
  });

  it('promotes when only an expectation of severity warning fails', async () => {
    // Act
    const run = await validate(CSV, orders('reject', BETWEEN('', 'warning')));
    // Assess
    expect(run.outcome.decision).toEqual({
      promote: true,
      reasons: [],
      warnings: [
        "expect_column_values_to_be_between on column 'amount': 1 of 4 non-null values (25%) are unexpected, e.g. 500; expected values <= 100.",
      ],
    });
  });

  it('still separates valid and failing rows, for the report', async () => {
    // Act
    const run = await validate(CSV, orders('reject', BETWEEN()));
    // Assess
    expect(run.outcome.rows).toEqual({ read: 4, valid: 3, quarantined: 1 });
  });
});

describe('on_failure: quarantine', () => {
  it('promotes the rest when failing rows are quarantined', async () => {
    // Act
    const run = await validate(CSV, orders('quarantine', BETWEEN()));
    // Assess
    expect([run.outcome.decision, run.outcome.rows]).toEqual([
      { promote: true, reasons: [], warnings: [] },
      { read: 4, valid: 3, quarantined: 1 },
    ]);
  });

  it('does not promote when an explicit mostly is not met: the quarantine budget is spent', async () => {
    // Act
    const run = await validate(CSV, orders('quarantine', BETWEEN(', mostly: 0.8')));
    // Assess
    expect(run.outcome.decision).toEqual({
      warnings: [],
      promote: false,
      reasons: [
        "Quarantine budget exceeded: expect_column_values_to_be_between on column 'amount': 1 of 4 non-null values (25%) are unexpected, e.g. 500; expected values <= 100; mostly 0.8 allows at most 20% unexpected.",
      ],
    });
  });

  it('promotes, quarantining the failing rows, when an explicit mostly is met', async () => {
    // Act
    const run = await validate(CSV, orders('quarantine', BETWEEN(', mostly: 0.75')));
    // Assess
    expect([run.outcome.decision.promote, run.outcome.rows.quarantined]).toEqual([true, 1]);
  });

  it('does not promote when a table expectation of severity error fails', async () => {
    // Act
    const run = await validate(CSV, orders('quarantine', ROW_COUNT()));
    // Assess
    expect(run.outcome.decision).toEqual({
      warnings: [],
      promote: false,
      reasons: ['expect_table_row_count_to_be_between: 4 rows read; expected at least 10.'],
    });
  });

  it('promotes when a table expectation of severity warning fails', async () => {
    // Act
    const run = await validate(CSV, orders('quarantine', ROW_COUNT('warning')));
    // Assess
    expect(run.outcome.decision.promote).toBe(true);
  });

  it('does not quarantine rows that fail an expectation of severity warning, but reports them', async () => {
    // Act
    const run = await validate(CSV, orders('quarantine', BETWEEN('', 'warning')));
    // Assess
    expect(run.outcome.rows).toEqual({ read: 4, valid: 4, quarantined: 0 });
    expect(run.outcome.result.results[1]).toMatchObject({ success: false, result: { unexpected_count: 1 } });
  });

  it('does not promote when rows were read and none is valid', async () => {
    // Act
    const run = await validate('order_id,amount\nA,-1\nB,-2\n', orders('quarantine'));
    // Assess
    expect(run.outcome.decision).toEqual({
      warnings: [],
      promote: false,
      reasons: ['None of the 2 rows read is valid: all were quarantined, nothing is left to promote.'],
    });
  });

  it('promotes an empty file (no rows) when no expectation asks for rows', async () => {
    // Act
    const run = await validate('order_id,amount\n', orders('quarantine'));
    // Assess
    expect(run.outcome.decision.promote).toBe(true);
  });

  it('does not promote when an expectation of severity error could not be evaluated', async () => {
    // Prepare
    const expectation =
      '- type: expect_column_values_to_be_between\n  kwargs: { column: amount, min_value: null, max_value: null }';
    // Act
    const run = await validate(CSV, orders('quarantine', expectation));
    // Assess
    expect(run.outcome.decision.reasons).toEqual([
      "expect_column_values_to_be_between on column 'amount' could not be evaluated: min_value and max_value cannot both be None.",
    ]);
  });
});
