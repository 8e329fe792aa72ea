/**
 * The row-level expectations of a suite applied to one CSV record, as one generated function:
 * a call per evaluator, each from a call site of its own. In a loop over the evaluators the one
 * call site sees every evaluator class of the suite and V8 dispatches it the slow (megamorphic)
 * way; unrolled, each site sees one class and the call is inlined. The generated code only calls
 * and collects: what it is given (evaluators, column positions) stays in ordinary objects.
 */
import type { Evaluator, Row } from './evaluator.js';
import type { RowFailure } from './record-schema.js';

/** Appends the row's failures to `failures` (creating it when needed) and returns it. */
export type RowChecks = (
  values: readonly unknown[],
  record: Row,
  index: number,
  line: number,
  failures: RowFailure[] | undefined,
) => RowFailure[] | undefined;

/**
 * `positions[e]` is the header position of evaluator e's column (-1: none); `quarantines[e]`
 * whether its failures send the row to quarantine (severity error).
 */
export function rowChecks(
  evaluators: readonly Evaluator[],
  positions: readonly number[],
  quarantines: readonly boolean[],
): RowChecks {
  const lines: string[] = ['let reason;', 'let value;'];
  evaluators.forEach((evaluator, e) => {
    if (evaluator.observe === undefined) return;
    const position = positions[e]!;
    lines.push(
      position === -1 ? 'value = undefined;' : `value = values[${position}];`,
      `reason = evaluators[${e}].observe(value, index, line, record);`,
    );
    if (quarantines[e]) {
      lines.push(`if (reason !== undefined) failures = failed(failures, ${e}, reason, value);`);
    }
  });
  lines.push('return failures;');
  const failed = (failures: RowFailure[] | undefined, e: number, reason: string, value: unknown) =>
    withFailure(failures, evaluators[e]!, reason, value);
  const make = new Function(
    'evaluators',
    'failed',
    `return (values, record, index, line, failures) => {\n${lines.join('\n')}\n};`,
  );
  return make(evaluators, failed) as RowChecks;
}

/** Adds the failure of one evaluator on a row to the row's failures (created when there are none yet). */
export function withFailure(
  failures: RowFailure[] | undefined,
  evaluator: Evaluator,
  reason: string,
  value: unknown,
): RowFailure[] {
  const column = evaluator.column;
  const failure: RowFailure = { column, expectation: evaluator.config.type, reason };
  if (column !== null) failure.value = value ?? null;
  if (failures === undefined) return [failure];
  failures.push(failure);
  return failures;
}
