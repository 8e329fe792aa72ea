/**
 * Expectations about the table as a whole: its row count and its columns. Each gives its finding
 * at the end of the stream, from what is known then; none looks at a record or quarantines a row.
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { type Evaluator, type Finding, listed, TableEvaluator, type TableFacts } from './evaluator.js';
import { observedResult } from './result-format.js';

export const TABLE_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> = {
  expect_table_row_count_to_be_between: (c) => new RowCountBetween(c),
  expect_table_row_count_to_equal: (c) => new RowCountEqual(c),
  expect_table_columns_to_match_set: (c) => new ColumnsMatchSet(c),
  expect_table_columns_to_match_ordered_list: (c) => new ColumnsOrdered(c),
  expect_table_column_count_to_be_between: (c) => new ColumnCount(c, 'between'),
  expect_table_column_count_to_equal: (c) => new ColumnCount(c, 'equal'),
  expect_column_to_exist: (c) => new ColumnExists(c),
};

class RowCountBetween extends TableEvaluator {
  finish(table: TableFacts): Finding {
    const min = (this.config.kwargs.min_value as number | null | undefined) ?? null;
    const max = (this.config.kwargs.max_value as number | null | undefined) ?? null;
    const count = table.rowCount;
    const success = (min === null || count >= min) && (max === null || count <= max);
    const range =
      min !== null && max !== null
        ? `between ${min} and ${max}`
        : min !== null
          ? `at least ${min}`
          : `at most ${max}`;
    return {
      success,
      result: observedResult(this.format, count),
      summary: `${this.config.type}: ${count} rows read; expected ${range}`,
    };
  }
}

/** GX: exact_match (default true) wants the same set; otherwise every expected column must be present. */
class ColumnsMatchSet extends TableEvaluator {
  override readonly needsColumns = true;

  finish(table: TableFacts): Finding {
    const expected = (this.config.kwargs.column_set as string[] | undefined) ?? [];
    const exact = this.config.kwargs.exact_match === undefined || this.config.kwargs.exact_match === true;
    const actual = [...(table.columns ?? [])];
    const actualSet = new Set(actual);
    const expectedSet = new Set(expected);
    const unexpected = actual.filter((c) => !expectedSet.has(c)).sort();
    const missing = expected.filter((c) => !actualSet.has(c)).sort();
    const expectation = `expected ${exact ? 'exactly' : 'at least'} ${listed(expected)}`;
    if (unexpected.length === 0 && missing.length === 0) {
      return {
        success: true,
        result: observedResult(this.format, actual),
        summary: `${this.config.type}: columns ${listed(actual)}; ${expectation}`,
      };
    }
    const mismatched: Record<string, string[]> = {};
    if (unexpected.length > 0) mismatched.unexpected = unexpected;
    if (missing.length > 0) mismatched.missing = missing;
    const found = [
      missing.length > 0 ? `missing ${listed(missing)}` : '',
      unexpected.length > 0 ? `unexpected ${listed(unexpected)}` : '',
    ].filter(Boolean);
    return {
      success: !exact && missing.length === 0,
      result: observedResult(this.format, [...actual].sort(), { mismatched }),
      summary: `${this.config.type}: ${found.join(', ')} (columns: ${listed(actual)}); ${expectation}`,
    };
  }
}

class RowCountEqual extends TableEvaluator {
  finish(table: TableFacts): Finding {
    const expected = Number(this.config.kwargs.value);
    return {
      success: table.rowCount === expected,
      result: observedResult(this.format, table.rowCount),
      summary: `${this.config.type}: ${table.rowCount} rows read; expected ${expected}`,
    };
  }
}

class ColumnCount extends TableEvaluator {
  override readonly needsColumns = true;

  constructor(
    config: ExpectationConfig,
    private readonly how: 'between' | 'equal',
  ) {
    super(config);
  }

  finish(table: TableFacts): Finding {
    const count = table.columns?.length ?? 0;
    const { kwargs } = this.config;
    let success: boolean;
    let expected: string;
    if (this.how === 'equal') {
      success = count === Number(kwargs.value);
      expected = String(kwargs.value);
    } else {
      const min = (kwargs.min_value as number | null | undefined) ?? null;
      const max = (kwargs.max_value as number | null | undefined) ?? null;
      success = (min === null || count >= min) && (max === null || count <= max);
      expected = [min !== null ? `>= ${min}` : '', max !== null ? `<= ${max}` : '']
        .filter(Boolean)
        .join(' and ');
    }
    return {
      success,
      result: observedResult(this.format, count),
      summary: `${this.config.type}: ${count} columns; expected ${expected}`,
    };
  }
}

/** GX: the same columns in the same order; details list each position that differs. */
class ColumnsOrdered extends TableEvaluator {
  override readonly needsColumns = true;

  finish(table: TableFacts): Finding {
    const expected = (this.config.kwargs.column_list as string[] | undefined) ?? [];
    const actual = [...(table.columns ?? [])];
    const mismatched: Array<Record<string, unknown>> = [];
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      if (expected[i] !== actual[i]) {
        mismatched.push({
          'Expected Column Position': i,
          Expected: expected[i] ?? null,
          Found: actual[i] ?? null,
        });
      }
    }
    const success = mismatched.length === 0;
    return {
      success,
      result: observedResult(this.format, actual, success ? undefined : { mismatched }),
      summary: `${this.config.type}: columns ${listed(actual)}; expected ${listed(expected)} in that order`,
    };
  }
}

/** GX: the column is there, and at column_index (0-based) when that is given. */
class ColumnExists extends TableEvaluator {
  override readonly needsColumns = true;

  finish(table: TableFacts): Finding {
    const column = String(this.config.kwargs.column);
    const at = this.config.kwargs.column_index;
    const columns = table.columns ?? [];
    const position = columns.indexOf(column);
    const success = position !== -1 && (typeof at !== 'number' || position === at);
    return {
      success,
      result: this.format.level === 'BOOLEAN_ONLY' || success ? {} : { details: { columns: [...columns] } },
      summary:
        `${this.config.type}: column '${column}' is ${position === -1 ? 'absent' : `at index ${position}`}` +
        `; expected it${typeof at === 'number' ? ` at index ${at}` : ''} (columns: ${listed(columns)})`,
    };
  }
}
