/**
 * The expectations a contract may name, with Great Expectations' names and kwargs.
 * The contract loader refuses any other name, and kwargs that do not match these schemas.
 * The validator (lambdas/validate) implements each entry.
 */

/** How an expectation sees the data, as GX classifies it. */
export type ExpectationKind = 'column_map' | 'column_aggregate' | 'multicolumn' | 'table';

export interface ExpectationSpec {
  kind: ExpectationKind;
  /** JSON Schema of the kwargs (draft 2020-12). */
  kwargs: Record<string, unknown>;
  /** kwargs whose values name columns (a string or an array of strings). */
  columnArgs: readonly string[];
  /** kwargs holding regular expressions, compiled when the contract loads. */
  regexArgs?: readonly string[];
}

const resultFormat = {
  oneOf: [
    { enum: ['BOOLEAN_ONLY', 'BASIC', 'SUMMARY', 'COMPLETE'] },
    {
      type: 'object',
      required: ['result_format'],
      properties: {
        result_format: { enum: ['BOOLEAN_ONLY', 'BASIC', 'SUMMARY', 'COMPLETE'] },
        partial_unexpected_count: { type: 'integer', minimum: 0 },
        include_unexpected_rows: { type: 'boolean' },
      },
      additionalProperties: false,
    },
  ],
};

/** kwargs every expectation accepts. */
const common = {
  result_format: resultFormat,
  include_config: { type: 'boolean' },
  catch_exceptions: { type: 'boolean' },
};

const mostly = { type: 'number', minimum: 0, maximum: 1 };
const column = { type: 'string', minLength: 1 };
const scalar = { type: ['string', 'number', 'boolean'] };
const bound = { type: ['number', 'string', 'null'] };

function columnMap(properties: Record<string, unknown>, required: string[] = [], extra: object = {}) {
  return {
    type: 'object',
    required: ['column', ...required],
    additionalProperties: false,
    properties: { column, mostly, ...common, ...properties },
    ...extra,
  };
}

/** At least one of min_value / max_value, as GX requires. */
const someBound = { anyOf: [{ required: ['min_value'] }, { required: ['max_value'] }] };

export const EXPECTATION_CATALOGUE: Readonly<Record<string, ExpectationSpec>> = {
  expect_column_values_to_not_be_null: {
    kind: 'column_map',
    kwargs: columnMap({}),
    columnArgs: ['column'],
  },
  expect_column_values_to_be_unique: {
    kind: 'column_map',
    kwargs: columnMap({}),
    columnArgs: ['column'],
  },
  expect_column_values_to_be_between: {
    kind: 'column_map',
    kwargs: columnMap(
      {
        min_value: bound,
        max_value: bound,
        strict_min: { type: 'boolean' },
        strict_max: { type: 'boolean' },
        parse_strings_as_datetimes: { type: 'boolean' },
      },
      [],
      someBound,
    ),
    columnArgs: ['column'],
  },
  expect_column_values_to_be_in_set: {
    kind: 'column_map',
    kwargs: columnMap(
      { value_set: { type: 'array', items: scalar }, parse_strings_as_datetimes: { type: 'boolean' } },
      ['value_set'],
    ),
    columnArgs: ['column'],
  },
  expect_column_values_to_match_regex: {
    kind: 'column_map',
    kwargs: columnMap({ regex: { type: 'string' } }, ['regex']),
    columnArgs: ['column'],
    regexArgs: ['regex'],
  },
  expect_table_row_count_to_be_between: {
    kind: 'table',
    kwargs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        min_value: { type: ['integer', 'null'], minimum: 0 },
        max_value: { type: ['integer', 'null'], minimum: 0 },
        ...common,
      },
      ...someBound,
    },
    columnArgs: [],
  },
  expect_table_columns_to_match_set: {
    kind: 'table',
    kwargs: {
      type: 'object',
      required: ['column_set'],
      additionalProperties: false,
      properties: {
        column_set: { type: 'array', items: { type: 'string' } },
        exact_match: { type: ['boolean', 'null'] },
        ...common,
      },
    },
    columnArgs: [],
  },
};

export function expectationNames(): string[] {
  return Object.keys(EXPECTATION_CATALOGUE).sort();
}
