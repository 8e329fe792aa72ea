/**
 * The expectations a contract may name, with Great Expectations' names and kwargs.
 * The contract loader refuses any other name, and kwargs that do not match these schemas
 * (what the schemas cannot say is checked in expectation-kwargs.ts).
 * The validator (lambdas/validate) implements each entry; the date-time and strftime readers that
 * both use live here in lambdas/shared, which imports nothing from the validator.
 */
import { RESULT_FORMAT_LEVELS } from './result-format-levels.js';

/** How an expectation sees the data, as GX classifies it. */
export type ExpectationKind = 'column_map' | 'column_aggregate' | 'multicolumn' | 'table';

export interface ExpectationSpec {
  kind: ExpectationKind;
  /** JSON Schema of the kwargs (draft 2020-12). */
  kwargs: Record<string, unknown>;
  /** kwargs whose values name columns (a string or an array of strings). */
  columnArgs: readonly string[];
  /** kwargs holding regular expressions (a string, or a list of strings), compiled when the contract loads. */
  regexArgs?: readonly string[];
}

const resultFormat = {
  oneOf: [
    { enum: RESULT_FORMAT_LEVELS },
    {
      type: 'object',
      required: ['result_format'],
      properties: {
        result_format: { enum: RESULT_FORMAT_LEVELS },
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

/** Type names for expect_column_values_to_be_of_type / _in_type_list, by the values they accept. */
export const TYPE_NAMES_BY_KIND = {
  integer: [
    'int',
    'int8',
    'int16',
    'int32',
    'int64',
    'Int64',
    'integer',
    'INTEGER',
    'INT',
    'BIGINT',
    'SMALLINT',
  ],
  float: [
    'float',
    'float16',
    'float32',
    'float64',
    'Float64',
    'number',
    'FLOAT',
    'DOUBLE',
    'REAL',
    'NUMERIC',
    'DECIMAL',
  ],
  string: ['str', 'string', 'STRING', 'VARCHAR', 'TEXT', 'CHAR'],
  boolean: ['bool', 'boolean', 'BOOLEAN', 'BOOL'],
  dict: ['dict', 'OBJECT', 'JSON', 'STRUCT'],
  list: ['list', 'ARRAY'],
} as const;

const typeName = { enum: Object.values(TYPE_NAMES_BY_KIND).flat() };
const strictBounds = { strict_min: { type: 'boolean' }, strict_max: { type: 'boolean' } };
const count = { type: ['integer', 'null'], minimum: 0 };
const valueSet = { type: 'array', items: scalar };
const dateTimes = { parse_strings_as_datetimes: { type: 'boolean' } };

function map(
  properties: Record<string, unknown>,
  required: string[] = [],
  extra: object = {},
): ExpectationSpec {
  return { kind: 'column_map', kwargs: columnMap(properties, required, extra), columnArgs: ['column'] };
}

/** A column aggregate compared with min_value/max_value (GX's between on a metric). */
function aggregate(extra: Record<string, unknown> = {}, bounds: object = bound): ExpectationSpec {
  return {
    kind: 'column_aggregate',
    kwargs: {
      type: 'object',
      required: ['column'],
      additionalProperties: false,
      properties: { column, min_value: bounds, max_value: bounds, ...strictBounds, ...common, ...extra },
      ...someBound,
    },
    columnArgs: ['column'],
  };
}

function distinctSet(required: boolean) {
  return {
    kind: 'column_aggregate' as const,
    kwargs: {
      type: 'object',
      required: required ? ['column', 'value_set'] : ['column'],
      additionalProperties: false,
      properties: {
        column,
        value_set: required ? valueSet : { type: ['array', 'null'], items: scalar },
        ...common,
      },
    },
    columnArgs: ['column'],
  };
}

const pairIgnore = { enum: ['both_values_are_missing', 'either_value_is_missing', 'neither'] };
const listIgnore = { enum: ['all_values_are_missing', 'any_value_is_missing', 'never'] };
const columnList = { type: 'array', items: column, minItems: 1 };

function pair(extra: Record<string, unknown> = {}): ExpectationSpec {
  return {
    kind: 'multicolumn',
    kwargs: {
      type: 'object',
      required: ['column_A', 'column_B'],
      additionalProperties: false,
      properties: {
        column_A: column,
        column_B: column,
        ignore_row_if: pairIgnore,
        mostly,
        ...common,
        ...extra,
      },
    },
    columnArgs: ['column_A', 'column_B'],
  };
}

function multicolumn(extra: Record<string, unknown> = {}, required: string[] = []): ExpectationSpec {
  return {
    kind: 'multicolumn',
    kwargs: {
      type: 'object',
      required: ['column_list', ...required],
      additionalProperties: false,
      properties: { column_list: columnList, ignore_row_if: listIgnore, mostly, ...common, ...extra },
    },
    columnArgs: ['column_list'],
  };
}

function table(
  properties: Record<string, unknown>,
  required: string[] = [],
  extra: object = {},
): ExpectationSpec {
  return {
    kind: 'table',
    kwargs: {
      type: 'object',
      required,
      additionalProperties: false,
      properties: { ...properties, ...common },
      ...extra,
    },
    columnArgs: [],
  };
}

/** Expectations on each value of one column (GX column map): null handling, `mostly`, row-level. */
const COLUMN_MAP: Readonly<Record<string, ExpectationSpec>> = {
  expect_column_values_to_not_be_null: map({}),
  expect_column_values_to_be_unique: map({}),
  expect_column_values_to_be_between: map(
    { min_value: bound, max_value: bound, ...strictBounds, ...dateTimes },
    [],
    someBound,
  ),
  expect_column_values_to_be_in_set: map({ value_set: valueSet, ...dateTimes }, ['value_set']),
  expect_column_values_to_match_regex: {
    ...map({ regex: { type: 'string' } }, ['regex']),
    regexArgs: ['regex'],
  },
  expect_column_values_to_be_null: map({}),
  expect_column_values_to_not_be_in_set: map(
    { value_set: valueSet, parse_strings_as_datetimes: { type: 'boolean' } },
    ['value_set'],
  ),
  expect_column_values_to_not_match_regex: {
    ...map({ regex: { type: 'string' } }, ['regex']),
    regexArgs: ['regex'],
  },
  expect_column_values_to_match_regex_list: {
    ...map(
      {
        regex_list: { type: 'array', items: { type: 'string' }, minItems: 1 },
        match_on: { enum: ['any', 'all'] },
      },
      ['regex_list'],
    ),
    regexArgs: ['regex_list'],
  },
  expect_column_values_to_not_match_regex_list: {
    ...map({ regex_list: { type: 'array', items: { type: 'string' }, minItems: 1 } }, ['regex_list']),
    regexArgs: ['regex_list'],
  },
  expect_column_values_to_be_of_type: map({ type_: typeName }, ['type_']),
  expect_column_values_to_be_in_type_list: map(
    { type_list: { type: 'array', items: typeName, minItems: 1 } },
    ['type_list'],
  ),
  expect_column_value_lengths_to_be_between: map({ min_value: count, max_value: count }, [], someBound),
  expect_column_value_lengths_to_equal: map({ value: { type: 'integer', minimum: 0 } }, ['value']),
  expect_column_values_to_match_strftime_format: map({ strftime_format: { type: 'string', minLength: 1 } }, [
    'strftime_format',
  ]),
  expect_column_values_to_be_dateutil_parseable: map({}),
  expect_column_values_to_be_json_parseable: map({}),
  expect_column_values_to_match_json_schema: map({ json_schema: { type: 'object' } }, ['json_schema']),
  expect_column_values_to_be_increasing: map({
    strictly: { type: ['boolean', 'null'] },
    parse_strings_as_datetimes: { type: 'boolean' },
  }),
  expect_column_values_to_be_decreasing: map({
    strictly: { type: ['boolean', 'null'] },
    parse_strings_as_datetimes: { type: 'boolean' },
  }),
};

/** Expectations on a statistic of one column (GX column aggregate): batch-level. */
const COLUMN_AGGREGATE: Readonly<Record<string, ExpectationSpec>> = {
  expect_column_min_to_be_between: aggregate({ parse_strings_as_datetimes: { type: 'boolean' } }),
  expect_column_max_to_be_between: aggregate({ parse_strings_as_datetimes: { type: 'boolean' } }),
  expect_column_mean_to_be_between: aggregate({}, { type: ['number', 'null'] }),
  expect_column_median_to_be_between: aggregate({}, { type: ['number', 'null'] }),
  expect_column_sum_to_be_between: aggregate({}, { type: ['number', 'null'] }),
  expect_column_stdev_to_be_between: aggregate({}, { type: ['number', 'null'] }),
  expect_column_unique_value_count_to_be_between: aggregate({}, count),
  expect_column_proportion_of_unique_values_to_be_between: aggregate(
    {},
    { type: ['number', 'null'], minimum: 0, maximum: 1 },
  ),
  expect_column_distinct_values_to_be_in_set: distinctSet(false),
  expect_column_distinct_values_to_contain_set: distinctSet(true),
  expect_column_distinct_values_to_equal_set: distinctSet(true),
  expect_column_most_common_value_to_be_in_set: {
    kind: 'column_aggregate',
    kwargs: {
      type: 'object',
      required: ['column', 'value_set'],
      additionalProperties: false,
      properties: { column, value_set: valueSet, ties_okay: { type: ['boolean', 'null'] }, ...common },
    },
    columnArgs: ['column'],
  },
  expect_column_kl_divergence_to_be_less_than: {
    kind: 'column_aggregate',
    kwargs: {
      type: 'object',
      required: ['column'],
      additionalProperties: false,
      properties: {
        column,
        // Absent or null: the previous promoted run's profile of the column gives it (Sluice's reading).
        partition_object: {
          oneOf: [
            { type: 'null' },
            {
              type: 'object',
              required: ['bins', 'weights'],
              additionalProperties: false,
              properties: {
                bins: { type: 'array', items: { type: 'number' }, minItems: 2 },
                weights: { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 1 },
                tail_weights: {
                  type: 'array',
                  items: { type: 'number', minimum: 0 },
                  minItems: 2,
                  maxItems: 2,
                },
              },
            },
            {
              type: 'object',
              required: ['values', 'weights'],
              additionalProperties: false,
              properties: {
                values: { type: 'array', items: scalar, minItems: 1 },
                weights: { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 1 },
              },
            },
          ],
        },
        threshold: { type: ['number', 'null'], minimum: 0 },
        internal_weight_holdout: { type: 'number', minimum: 0, maximum: 1 },
        tail_weight_holdout: { type: 'number', minimum: 0, maximum: 1 },
        bucketize_data: { type: 'boolean' },
        ...common,
      },
    },
    columnArgs: ['column'],
  },
  expect_column_quantile_values_to_be_between: {
    kind: 'column_aggregate',
    kwargs: {
      type: 'object',
      required: ['column', 'quantile_ranges'],
      additionalProperties: false,
      properties: {
        column,
        quantile_ranges: {
          type: 'object',
          required: ['quantiles', 'value_ranges'],
          additionalProperties: false,
          properties: {
            quantiles: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 1 },
            value_ranges: {
              type: 'array',
              items: { type: 'array', items: { type: ['number', 'null'] }, minItems: 2, maxItems: 2 },
            },
          },
        },
        // GX on pandas: false (interpolation "nearest") or the interpolation of Series.quantile.
        allow_relative_error: { enum: [false, true, 'linear', 'lower', 'higher', 'midpoint', 'nearest'] },
        ...common,
      },
    },
    columnArgs: ['column'],
  },
};

/** Expectations on several columns of each record: row-level, with `mostly` and ignore_row_if. */
const MULTICOLUMN: Readonly<Record<string, ExpectationSpec>> = {
  expect_column_pair_values_to_be_equal: pair(),
  expect_column_pair_values_a_to_be_greater_than_b: pair({
    or_equal: { type: ['boolean', 'null'] },
    parse_strings_as_datetimes: { type: 'boolean' },
  }),
  expect_compound_columns_to_be_unique: multicolumn(),
  expect_select_column_values_to_be_unique_within_record: multicolumn(),
  expect_multicolumn_sum_to_equal: multicolumn({ sum_total: { type: 'number' } }, ['sum_total']),
};

/** Expectations on the table as a whole: its row count and its columns. */
const TABLE: Readonly<Record<string, ExpectationSpec>> = {
  expect_table_row_count_to_be_between: table({ min_value: count, max_value: count }, [], someBound),
  expect_table_columns_to_match_set: table(
    { column_set: { type: 'array', items: { type: 'string' } }, exact_match: { type: ['boolean', 'null'] } },
    ['column_set'],
  ),
  expect_table_row_count_to_equal: table({ value: { type: 'integer', minimum: 0 } }, ['value']),
  expect_table_column_count_to_be_between: table({ min_value: count, max_value: count }, [], someBound),
  expect_table_column_count_to_equal: table({ value: { type: 'integer', minimum: 0 } }, ['value']),
  expect_table_columns_to_match_ordered_list: table(
    { column_list: { type: 'array', items: { type: 'string' } } },
    ['column_list'],
  ),
  expect_column_to_exist: {
    ...table({ column, column_index: { type: ['integer', 'null'], minimum: 0 } }, ['column']),
    columnArgs: [],
  },
};

export const EXPECTATION_CATALOGUE: Readonly<Record<string, ExpectationSpec>> = {
  ...COLUMN_MAP,
  ...COLUMN_AGGREGATE,
  ...MULTICOLUMN,
  ...TABLE,
};

export function expectationNames(): string[] {
  return Object.keys(EXPECTATION_CATALOGUE).sort();
}

/** The expectations that apply parse_strings_as_datetimes (comparing values as instants). */
export const DATE_TIME_EXPECTATIONS: readonly string[] = Object.entries(EXPECTATION_CATALOGUE)
  .filter(([, spec]) => 'parse_strings_as_datetimes' in (spec.kwargs.properties as object))
  .map(([name]) => name);

/** Cross-row expectations that read the same over one batch as over many: keys must be unique. */
const SNAPSHOT_UNIQUENESS = new Set([
  'expect_column_values_to_be_unique',
  'expect_compound_columns_to_be_unique',
]);
const SNAPSHOT_ROW_COUNTS = new Set([
  'expect_table_row_count_to_be_between',
  'expect_table_row_count_to_equal',
]);
const ORDERED = new Set(['expect_column_values_to_be_increasing', 'expect_column_values_to_be_decreasing']);

/**
 * Why an expectation cannot be given `scope: snapshot`, or undefined when it can. Over a snapshot
 * means over the curated rows of every promoted batch: what is told by the rows together (unique
 * keys, row counts, aggregates) reads the same there; what one row tells alone was checked when
 * its batch was validated, the snapshot has no row order, and its JSON Lines have no header.
 */
export function snapshotScopeRefusal(type: string): string | undefined {
  const spec = EXPECTATION_CATALOGUE[type];
  if (!spec || SNAPSHOT_UNIQUENESS.has(type) || SNAPSHOT_ROW_COUNTS.has(type)) return undefined;
  if (spec.kind === 'column_aggregate') return undefined;
  if (ORDERED.has(type)) {
    return `${type} compares each row with the one before, and the curated snapshot's rows have no order across batches`;
  }
  if (spec.kind === 'table') {
    return `${type} checks the columns of a batch's file, and the curated snapshot is JSON Lines records without a header; keep it on each batch (scope: batch)`;
  }
  return `${type} checks each row on its own, and every curated row was checked when its batch was validated; keep it on each batch (scope: batch)`;
}
