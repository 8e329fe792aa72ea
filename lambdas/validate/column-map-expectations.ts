/**
 * Column-map expectations beyond the first five: each looks at one column's value in each record,
 * with GX's null handling (nulls are missing, not unexpected) and `mostly`. A row whose value is
 * unexpected goes to quarantine when the expectation's severity is error.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ExpectationConfig } from '../shared/contract.js';
import { isDateLike, parseDateTime } from '../shared/date-time.js';
import { TYPE_NAMES_BY_KIND } from '../shared/expectation-catalogue.js';
import { strftimeMatcher } from '../shared/strftime.js';
import { decimal } from './decimal.js';
import {
  AllRowsColumnMapEvaluator,
  ColumnMapEvaluator,
  type Evaluator,
  type Row,
  show,
} from './evaluator.js';

export const COLUMN_MAP_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> = {
  expect_column_values_to_be_null: (c) => new ValuesNull(c),
  expect_column_values_to_not_be_in_set: (c) => new ValuesNotInSet(c),
  expect_column_values_to_not_match_regex: (c) => new ValuesNotMatchRegex(c),
  expect_column_values_to_match_regex_list: (c) => new ValuesMatchRegexList(c),
  expect_column_values_to_not_match_regex_list: (c) => new ValuesNotMatchRegexList(c),
  expect_column_values_to_be_of_type: (c) => new ValuesOfType(c),
  expect_column_values_to_be_in_type_list: (c) => new ValuesInTypeList(c),
  expect_column_value_lengths_to_be_between: (c) => new LengthsBetween(c),
  expect_column_value_lengths_to_equal: (c) => new LengthsEqual(c),
  expect_column_values_to_match_strftime_format: (c) => new ValuesMatchStrftime(c),
  expect_column_values_to_be_dateutil_parseable: (c) => new ValuesDateParseable(c),
  expect_column_values_to_be_json_parseable: (c) => new ValuesJsonParseable(c),
  expect_column_values_to_match_json_schema: (c) => new ValuesMatchJsonSchema(c),
  expect_column_values_to_be_increasing: (c) => new ValuesMonotonic(c, 1),
  expect_column_values_to_be_decreasing: (c) => new ValuesMonotonic(c, -1),
};

/** The text a regex or length sees: strings as they are, other values as JSON. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Python's len(): code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** A contract regex as a JavaScript RegExp with the u flag, or why it cannot be one. */
export function compile(source: string): RegExp | string {
  try {
    return new RegExp(source, 'u');
  } catch (error) {
    return `regex is not valid: ${(error as Error).message}`;
  }
}

/** GX looks for non-null values, over every row: like not_be_null, it has no missing_count. */
class ValuesNull extends AllRowsColumnMapEvaluator {
  protected readonly expected = 'null values';

  override observe(value: unknown, index: number, _line: number, row: Row): string | undefined {
    if (this.problem !== undefined) return undefined;
    this.elementCount++;
    if (value === undefined || value === null) return undefined;
    this.unexpected.add(index, value, row);
    return `must be null, got ${show(value)}`;
  }
}

/**
 * With parse_strings_as_datetimes, the value set and the values are compared as instants
 * (date-time.ts): "2026-11-25" is "2026-11-25T00:00:00Z". A value that is not a date-time equals
 * none of them, so it is not in the set.
 */
class ValuesNotInSet extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly set: ValueSet;

  constructor(config: ExpectationConfig) {
    super(config);
    this.set = new ValueSet(config.kwargs);
    this.problem = this.set.problem;
    const { values } = this.set;
    this.expected = `values not in {${values.slice(0, 10).map(show).join(', ')}${values.length > 10 ? ', …' : ''}}${this.set.asDates ? ' (as date-times)' : ''}`;
  }

  protected test(value: unknown): string | undefined {
    // A value that is not a date-time (has: undefined) equals none of the set's instants.
    return this.set.has(value) === true
      ? `must not be one of the forbidden values, got ${show(value)}`
      : undefined;
  }
}

/**
 * A value_set as in_set and not_in_set compare with it. With parse_strings_as_datetimes the set
 * and the values are compared as instants (date-time.ts); otherwise a text value also matches a
 * number of the set when it reads as that number.
 */
export class ValueSet {
  readonly values: readonly unknown[];
  readonly asDates: boolean;
  /** Set when a value_set entry is not a date-time although parse_strings_as_datetimes is. */
  readonly problem: string | undefined;
  private readonly set: Set<unknown>;
  private readonly hasNumbers: boolean;

  constructor(kwargs: Record<string, unknown>) {
    this.values = (kwargs.value_set as unknown[] | undefined) ?? [];
    this.asDates = kwargs.parse_strings_as_datetimes === true;
    const instants = this.asDates ? dateSet(this.values) : undefined;
    if (instants === null) {
      this.problem = 'parse_strings_as_datetimes is set but a value_set entry is not a date-time';
    }
    this.set = instants ?? new Set(this.values);
    this.hasNumbers = !this.asDates && this.values.some((v) => typeof v === 'number');
  }

  /** Whether the value is in the set; undefined when compared as date-times and it is not one. */
  has(value: unknown): boolean | undefined {
    if (this.asDates) {
      const instant = typeof value === 'string' ? parseDateTime(value) : undefined;
      return instant === undefined ? undefined : this.set.has(instant);
    }
    return (
      this.set.has(value) || (this.hasNumbers && typeof value === 'string' && this.set.has(decimal(value)))
    );
  }
}

/** The instants of a value set's date-time texts; null when an entry is not one. */
function dateSet(values: readonly unknown[]): Set<unknown> | null {
  const instants = new Set<unknown>();
  for (const v of values) {
    const instant = typeof v === 'string' ? parseDateTime(v) : undefined;
    if (instant === undefined) return null;
    instants.add(instant);
  }
  return instants;
}

class ValuesNotMatchRegex extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regex: RegExp = /(?:)/u;

  constructor(config: ExpectationConfig) {
    super(config);
    const compiled = compile(String(config.kwargs.regex));
    if (typeof compiled === 'string') this.problem = compiled;
    else this.regex = compiled;
    this.expected = `values not matching /${String(config.kwargs.regex)}/u`;
  }

  protected test(value: unknown): string | undefined {
    return this.regex.test(textOf(value))
      ? `must not match /${this.regex.source}/u, got ${show(value)}`
      : undefined;
  }
}

/** GX: match_on 'any' (default) wants one regex of the list to match, 'all' every one. */
class ValuesMatchRegexList extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regexes: RegExp[] = [];
  private readonly all: boolean;

  constructor(config: ExpectationConfig) {
    super(config);
    const sources = (config.kwargs.regex_list as string[] | undefined) ?? [];
    this.all = config.kwargs.match_on === 'all';
    for (const source of sources) {
      const compiled = compile(source);
      if (typeof compiled === 'string') this.problem ??= compiled;
      else this.regexes.push(compiled);
    }
    this.expected = `values matching ${this.all ? 'all' : 'any'} of ${sources.map((s) => `/${s}/u`).join(', ')}`;
  }

  protected test(value: unknown): string | undefined {
    const text = textOf(value);
    const ok = this.all ? this.regexes.every((r) => r.test(text)) : this.regexes.some((r) => r.test(text));
    return ok
      ? undefined
      : `must match ${this.expected.slice('values matching '.length)}, got ${show(value)}`;
  }
}

/** GX: unexpected when any regex of the list is found in the value. */
class ValuesNotMatchRegexList extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regexes: RegExp[] = [];

  constructor(config: ExpectationConfig) {
    super(config);
    const sources = (config.kwargs.regex_list as string[] | undefined) ?? [];
    for (const source of sources) {
      const compiled = compile(source);
      if (typeof compiled === 'string') this.problem ??= compiled;
      else this.regexes.push(compiled);
    }
    this.expected = `values matching none of ${sources.map((s) => `/${s}/u`).join(', ')}`;
  }

  protected test(value: unknown): string | undefined {
    const text = textOf(value);
    const found = this.regexes.find((r) => r.test(text));
    return found ? `must not match /${found.source}/u, got ${show(value)}` : undefined;
  }
}

/**
 * Type names as GX accepts them for in-memory data: Python built-ins (int, float, str, bool, dict,
 * list), numpy/pandas dtypes (int64, float64, …) and common SQL names. The catalogue lists them.
 */
const TYPE_TESTS: Readonly<Record<string, (value: unknown) => boolean>> = (() => {
  const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
  const isNumber = (v: unknown) => typeof v === 'number';
  const isString = (v: unknown) => typeof v === 'string';
  const isBool = (v: unknown) => typeof v === 'boolean';
  const isDict = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const isList = (v: unknown) => Array.isArray(v);
  const names: Array<[readonly string[], (v: unknown) => boolean]> = [
    [TYPE_NAMES_BY_KIND.integer, isInt],
    [TYPE_NAMES_BY_KIND.float, isNumber],
    [TYPE_NAMES_BY_KIND.string, isString],
    [TYPE_NAMES_BY_KIND.boolean, isBool],
    [TYPE_NAMES_BY_KIND.dict, isDict],
    [TYPE_NAMES_BY_KIND.list, isList],
  ];
  const tests: Record<string, (value: unknown) => boolean> = {};
  for (const [list, test] of names) for (const name of list) tests[name] = test;
  return tests;
})();

class ValuesOfType extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly accepts: (value: unknown) => boolean;

  constructor(config: ExpectationConfig, names = [String(config.kwargs.type_)]) {
    super(config);
    const tests = names.map((name) => TYPE_TESTS[name]);
    const unknown = names.filter((name) => TYPE_TESTS[name] === undefined);
    if (unknown.length > 0) this.problem = `unknown type ${unknown.join(', ')}`;
    this.accepts = (value) => tests.some((t) => t?.(value) === true);
    this.expected =
      names.length === 1 ? `values of type ${names[0]}` : `values of a type in ${names.join(', ')}`;
  }

  protected test(value: unknown): string | undefined {
    return this.accepts(value)
      ? undefined
      : `must be ${this.expected.slice('values '.length)}, got ${show(value)}`;
  }
}

class ValuesInTypeList extends ValuesOfType {
  constructor(config: ExpectationConfig) {
    super(config, (config.kwargs.type_list as string[] | undefined) ?? []);
  }
}

/** GX: lengths of the values' text, min/max inclusive (a null bound is no bound). */
class LengthsBetween extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly min: number | null;
  private readonly max: number | null;

  constructor(config: ExpectationConfig) {
    super(config);
    this.min = (config.kwargs.min_value as number | null | undefined) ?? null;
    this.max = (config.kwargs.max_value as number | null | undefined) ?? null;
    if (this.min === null && this.max === null) this.problem = 'min_value and max_value cannot both be None';
    const parts = [this.min !== null ? `>= ${this.min}` : '', this.max !== null ? `<= ${this.max}` : ''];
    this.expected = `value lengths ${parts.filter(Boolean).join(' and ')}`;
  }

  protected test(value: unknown): string | undefined {
    const length = codePoints(textOf(value));
    if ((this.min !== null && length < this.min) || (this.max !== null && length > this.max)) {
      return `length must be ${this.expected.slice('value lengths '.length)}, got ${length} (${show(value)})`;
    }
    return undefined;
  }
}

class LengthsEqual extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly length: number;

  constructor(config: ExpectationConfig) {
    super(config);
    this.length = Number(config.kwargs.value);
    this.expected = `value lengths of ${this.length}`;
  }

  protected test(value: unknown): string | undefined {
    const length = codePoints(textOf(value));
    return length === this.length
      ? undefined
      : `length must be ${this.length}, got ${length} (${show(value)})`;
  }
}

/** Python's datetime.strptime(value, format): the whole value, and a real calendar date. */
class ValuesMatchStrftime extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly matches: (text: string) => boolean;

  constructor(config: ExpectationConfig) {
    super(config);
    const format = String(config.kwargs.strftime_format);
    this.expected = `values in strftime format '${format}'`;
    const matcher = strftimeMatcher(format);
    if (typeof matcher === 'string') {
      this.problem = matcher;
      this.matches = () => false;
    } else this.matches = matcher;
  }

  protected test(value: unknown): string | undefined {
    return typeof value === 'string' && this.matches(value)
      ? undefined
      : `must be a date-time in ${this.expected.slice('values in '.length)}, got ${show(value)}`;
  }
}

/** dateutil.parser.parse, as approximated in date-time.ts (docs/expectations.md says where the two differ). */
class ValuesDateParseable extends ColumnMapEvaluator {
  protected readonly expected = 'values dateutil can parse as a date-time';

  protected test(value: unknown): string | undefined {
    if (typeof value !== 'string') return `must be a string holding a date-time, got ${show(value)}`;
    return isDateLike(value) ? undefined : `must be a parseable date-time, got ${show(value)}`;
  }
}

class ValuesJsonParseable extends ColumnMapEvaluator {
  protected readonly expected = 'values that parse as JSON';

  protected test(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    try {
      JSON.parse(value);
      return undefined;
    } catch (error) {
      return `must be JSON (${(error as Error).message}), got ${show(value)}`;
    }
  }
}

/** A text value is parsed as JSON first (as GX does); a JSON Lines object or array is checked as it is. */
class ValuesMatchJsonSchema extends ColumnMapEvaluator {
  protected readonly expected = 'values matching the JSON Schema in kwargs.json_schema';
  private readonly validate: ValidateFunction | undefined;

  constructor(config: ExpectationConfig) {
    super(config);
    try {
      const ajv = new Ajv2020({ allErrors: false, strict: false });
      this.validate = ajv.compile(config.kwargs.json_schema as object);
    } catch (error) {
      this.problem = `json_schema is not a usable JSON Schema: ${(error as Error).message}`;
    }
  }

  protected test(value: unknown): string | undefined {
    let parsed = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch {
        return `must be JSON matching the schema, got ${show(value)}`;
      }
    }
    if (this.validate?.(parsed)) return undefined;
    const error = this.validate?.errors?.[0];
    return `must match the JSON Schema (${error ? `${error.instancePath || '/'} ${error.message}` : 'invalid'}), got ${show(value)}`;
  }
}

/**
 * GX compares each non-null value with the previous non-null one (pandas `diff()` on the column
 * without its nulls); the first value passes. `strictly` forbids equal neighbours.
 */
class ValuesMonotonic extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly strictly: boolean;
  private readonly asDates: boolean;
  private previous: number | string | undefined;
  /** The previous value as written, for messages (with parse_strings_as_datetimes `previous` is an instant). */
  private previousValue: unknown;

  constructor(
    config: ExpectationConfig,
    private readonly direction: 1 | -1,
  ) {
    super(config);
    this.strictly = config.kwargs.strictly === true;
    this.asDates = config.kwargs.parse_strings_as_datetimes === true;
    this.expected = `${this.strictly ? 'strictly ' : ''}${direction === 1 ? 'increasing' : 'decreasing'} values`;
  }

  protected test(value: unknown): string | undefined {
    let v: unknown = value;
    if (this.asDates) v = typeof value === 'string' ? (parseDateTime(value) ?? Number.NaN) : Number.NaN;
    else if (typeof value === 'string') v = decimal(value) ?? value;
    if (typeof v !== 'number' && typeof v !== 'string') return `must be comparable, got ${show(value)}`;
    if (typeof v === 'number' && Number.isNaN(v)) return `must be a date-time, got ${show(value)}`;
    const previous = this.previous;
    const previousValue = this.previousValue;
    this.previous = v;
    this.previousValue = value;
    if (previous === undefined) return undefined;
    if (typeof previous !== typeof v) return `must be comparable with the previous value, got ${show(value)}`;
    const step = v > previous ? 1 : v < previous ? -1 : 0;
    if (step === this.direction || (step === 0 && !this.strictly)) return undefined;
    return `must be ${this.expected.replace(' values', '')}: ${show(value)} follows ${show(previousValue)}`;
  }
}
