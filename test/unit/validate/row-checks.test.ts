import { describe, expect, it } from '@jest/globals';
import type { Evaluator } from '../../../lambdas/validate/evaluator.js';
import { rowChecks } from '../../../lambdas/validate/row-checks.js';

/** An evaluator that fails every value equal to `bad` and remembers what it was shown. */
function failing(column: string | null, bad: unknown): Evaluator & { seen: unknown[] } {
  const seen: unknown[] = [];
  return {
    config: { type: `expect_${column ?? 'row'}_ok`, kwargs: {} },
    kind: 'column_map',
    column,
    mostlyExplicit: false,
    needsColumns: false,
    seen,
    begin: () => undefined,
    observe: (value: unknown) => {
      seen.push(value);
      return value === bad ? `must not be ${String(bad)}` : undefined;
    },
    finish: () => ({ success: true, result: {}, summary: '' }),
  } as unknown as Evaluator & { seen: unknown[] };
}

describe('rowChecks', () => {
  it('gives each evaluator its column value and collects the failures of those that quarantine', () => {
    // Prepare: b's failures are warnings (no quarantine); the table-level one sees no value.
    const a = failing('a', 1);
    const b = failing('b', 'x');
    const table = failing(null, undefined);
    const check = rowChecks([a, b, table], [1, 0, -1], [true, false, true]);
    // Act
    const failures = check(['x', 1], { a: 1, b: 'x' }, 0, 2, undefined);
    // Assess
    expect([failures, a.seen, b.seen, table.seen]).toEqual([
      [
        { column: 'a', expectation: 'expect_a_ok', reason: 'must not be 1', value: 1 },
        { column: null, expectation: 'expect_row_ok', reason: 'must not be undefined' },
      ],
      [1],
      ['x'],
      [undefined],
    ]);
  });

  it('adds to the failures the schema already found, and returns undefined for a clean row', () => {
    // Prepare
    const check = rowChecks([failing('a', 1)], [0], [true]);
    const schema = [{ column: 'b', expectation: 'expect_rows_to_match_contract_schema', reason: 'required' }];
    // Act
    const results = [check([1], { a: 1 }, 0, 2, [...schema]), check([2], { a: 2 }, 1, 3, undefined)];
    // Assess
    expect(results.map((r) => r?.map((f) => f.expectation))).toEqual([
      ['expect_rows_to_match_contract_schema', 'expect_a_ok'],
      undefined,
    ]);
  });
});
