/**
 * Column-map expectations: each looks at one column's value in each record, with GX's null
 * handling (nulls are missing, not unexpected) and `mostly`. A row whose value is unexpected goes
 * to quarantine when the expectation's severity is error. This file holds the ones that compare
 * values (nulls, uniqueness, bounds, sets, types, order); column-map-text-expectations.ts the ones
 * that read a value's text (patterns, lengths, date and JSON formats).
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { parseDateTime } from '../shared/date-time.js';
import { TYPE_NAMES_BY_KIND } from '../shared/expectation-catalogue.js';
import { COLUMN_MAP_TEXT_EVALUATORS } from './column-map-text-expectations.js';
import { decimal } from './decimal.js';
import {
  AllRowsColumnMapEvaluator,
  ColumnMapEvaluator,
  type Evaluator,
  type MapState,
  type Row,
  type RowNamer,
  show,
} from './evaluator.js';
import { FirstOccurrences, keyValue } from './first-occurrences.js';
import type { ShardPlace } from './shard-state.js';
import { KeysMerge, type KeysState, keysState, type SpilledKeys, spillKeys } from './shard-uniqueness.js';
import type { SpillWriter } from './spill.js';

export const COLUMN_MAP_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> = {
  expect_column_values_to_not_be_null: (c) => new ValuesNotNull(c),
  expect_column_values_to_be_null: (c) => new ValuesNull(c),
  expect_column_values_to_be_unique: (c) => new ValuesUnique(c),
  expect_column_values_to_be_between: (c) => new ValuesBetween(c),
  expect_column_values_to_be_in_set: (c) => new ValuesInSet(c),
  expect_column_values_to_not_be_in_set: (c) => new ValuesNotInSet(c),
  expect_column_values_to_be_of_type: (c) => new ValuesOfType(c),
  expect_column_values_to_be_in_type_list: (c) => new ValuesInTypeList(c),
  expect_column_values_to_be_increasing: (c) => new ValuesMonotonic(c, 1),
  expect_column_values_to_be_decreasing: (c) => new ValuesMonotonic(c, -1),
  ...COLUMN_MAP_TEXT_EVALUATORS,
};

/** GX computes not_be_null over all rows, with no missing_count (nulls are what it looks for). */
class ValuesNotNull extends AllRowsColumnMapEvaluator {
  protected readonly expected = 'no null values';

  override observe(value: unknown, index: number, _line: number, row: Row): string | undefined {
    if (this.problem !== undefined) return undefined;
    this.elementCount++;
    if (value !== undefined && value !== null) return undefined;
    this.unexpected.add(index, null, row);
    return 'must not be null (the value is empty or missing)';
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
 * GX counts every member of a duplicated group as unexpected (pandas `duplicated(keep=False)`),
 * and so do the statistics here: when a value is seen a second time, its first record is counted
 * too. A stream cannot take back a record already written, so only the second and later records
 * with a value are reported as failing rows (and quarantined); the first one is promoted.
 */
class ValuesUnique extends ColumnMapEvaluator {
  protected readonly expected = 'unique values';
  private readonly seen = new FirstOccurrences();
  private rowName: RowNamer = String;

  nameRows(name: RowNamer): void {
    this.rowName = name;
  }

  expectRecords(records: number): void {
    this.seen.reserve(records);
  }

  protected test(value: unknown, index: number, line: number): string | undefined {
    const first = this.seen.findOrAdd(value, index, line);
    if (first === -1) return undefined;
    if (this.seen.markRepeated(first))
      this.unexpected.add(this.seen.firstIndex(first), value, undefined, index);
    return this.reason(this.rowName(this.seen.firstLine(first)));
  }

  private reason(row: string): string {
    return `must be unique; the same value is on row ${row}`;
  }

  override state(spill?: SpillWriter): MapState & { keys: KeysState | SpilledKeys } {
    return { ...super.state(spill), keys: spill ? spillKeys(this.seen, spill) : keysState(this.seen) };
  }

  private merged: KeysMerge | undefined;

  override absorb(state: unknown, place: ShardPlace): void {
    super.absorb(state, place);
    this.merged ??= new KeysMerge();
    this.merged.absorb((state as { keys: KeysState | SpilledKeys }).keys, place, {
      firstRepeated: (key, index, at) => this.unexpected.add(index, keyValue(key), undefined, at),
      laterUnexpected: (key, index) => this.unexpected.add(index, keyValue(key)),
      reason: (line) => this.reason(this.rowName(line)),
      value: keyValue,
    });
  }
}

class ValuesBetween extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly min: number | string | null;
  private readonly max: number | string | null;
  private readonly strictMin: boolean;
  private readonly strictMax: boolean;
  private readonly asDates: boolean;
  /** Bounds are numbers: an untyped cell that reads as a number is compared as one. */
  private readonly numeric: boolean;

  constructor(config: ExpectationConfig) {
    super(config);
    const { kwargs } = config;
    this.strictMin = kwargs.strict_min === true;
    this.strictMax = kwargs.strict_max === true;
    this.asDates = kwargs.parse_strings_as_datetimes === true;
    const given = [kwargs.min_value ?? null, kwargs.max_value ?? null] as Array<number | string | null>;
    const [min, max] = this.asDates
      ? given.map((b) =>
          b === null ? null : typeof b === 'string' ? (parseDateTime(b) ?? Number.NaN) : Number.NaN,
        )
      : given;
    this.min = min ?? null;
    this.max = max ?? null;
    this.numeric = typeof this.min === 'number' || typeof this.max === 'number';
    const parts: string[] = [];
    if (given[0] !== null) parts.push(`${this.strictMin ? '>' : '>='} ${show(given[0])}`);
    if (given[1] !== null) parts.push(`${this.strictMax ? '<' : '<='} ${show(given[1])}`);
    this.expected = `values ${parts.join(' and ')}`;
    if (given[0] === null && given[1] === null) this.problem = 'min_value and max_value cannot both be None';
    else if (Number.isNaN(this.min) || Number.isNaN(this.max)) {
      this.problem = 'parse_strings_as_datetimes is set but a bound is not a date';
    }
  }

  protected test(value: unknown): string | undefined {
    let v = value;
    if (this.asDates) v = typeof value === 'string' ? (parseDateTime(value) ?? Number.NaN) : Number.NaN;
    else if (this.numeric && typeof value === 'string') v = decimal(value) ?? value;
    if (this.asDates && Number.isNaN(v)) return `must be a date-time, got ${show(value)}`;
    const { min, max } = this;
    if ((min !== null && typeof v !== typeof min) || (max !== null && typeof v !== typeof max)) {
      return `must be comparable with the bounds (${this.expected}), got ${show(value)}`;
    }
    const x = v as number | string;
    const belowMin = min !== null && (this.strictMin ? x <= min : x < min);
    const aboveMax = max !== null && (this.strictMax ? x >= max : x > max);
    return belowMin || aboveMax
      ? `must be ${this.expected.slice('values '.length)}, got ${show(value)}`
      : undefined;
  }
}

/**
 * With parse_strings_as_datetimes, the value set and the values are compared as instants
 * (date-time.ts): "2026-11-25" matches "2026-11-25T00:00:00Z". A value that is not a date-time is
 * not in the set.
 */
class ValuesInSet extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly set: ValueSet;

  constructor(config: ExpectationConfig) {
    super(config);
    this.set = new ValueSet(config.kwargs);
    this.problem = this.set.problem;
    const { values } = this.set;
    const shown = values.slice(0, 10).map(show).join(', ');
    this.expected = `values in {${shown}${values.length > 10 ? `, … ${values.length - 10} more` : ''}}${this.set.asDates ? ' (as date-times)' : ''}`;
  }

  protected test(value: unknown): string | undefined {
    const found = this.set.has(value);
    if (found === true) return undefined;
    const set = this.expected.slice('values in '.length);
    return found === undefined
      ? `must be a date-time in ${set}, got ${show(value)}`
      : `must be one of ${set}, got ${show(value)}`;
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
  /** The first comparable value, which nothing before it was compared with: a shard's boundary. */
  private first: MonotonicEnd | undefined;
  private index = 0;
  private line = 0;
  private row: Row | undefined;

  override observe(value: unknown, index: number, line: number, row: Row): string | undefined {
    this.index = index;
    this.line = line;
    this.row = row;
    return super.observe(value, index, line, row);
  }

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
    if (previous === undefined) {
      this.first = { v, value, index: this.index, line: this.line };
      if (this.format.includeUnexpectedRows && this.row) this.first.row = { ...this.row };
      return undefined;
    }
    return this.compare(previous, previousValue, v, value);
  }

  private compare(
    previous: number | string,
    previousValue: unknown,
    v: number | string,
    value: unknown,
  ): string | undefined {
    if (typeof previous !== typeof v) return `must be comparable with the previous value, got ${show(value)}`;
    const step = v > previous ? 1 : v < previous ? -1 : 0;
    if (step === this.direction || (step === 0 && !this.strictly)) return undefined;
    return `must be ${this.expected.replace(' values', '')}: ${show(value)} follows ${show(previousValue)}`;
  }

  override state(
    spill?: SpillWriter,
  ): MapState & { first?: MonotonicEnd; last?: { v: number | string; value: unknown } } {
    return {
      ...super.state(spill),
      first: this.first,
      last: this.previous === undefined ? undefined : { v: this.previous, value: this.previousValue },
    };
  }

  /** A shard's first value was compared with nothing; the whole input compares it with the last value before the shard. */
  override absorb(state: unknown, place: ShardPlace): void {
    super.absorb(state, place);
    const { first, last } = state as ReturnType<ValuesMonotonic['state']>;
    if (first !== undefined && this.previous !== undefined) {
      const reason = this.compare(this.previous, this.previousValue, first.v, first.value);
      if (reason !== undefined) {
        this.unexpected.add(first.index + place.index, first.value, first.row);
        place.fail({ index: first.index, line: first.line, reason, value: first.value });
      }
    }
    if (last !== undefined) {
      this.previous = last.v;
      this.previousValue = last.value;
    }
  }
}

/** The first comparable value of a stream: as compared (`v`), as written, and its record. */
interface MonotonicEnd {
  v: number | string;
  value: unknown;
  index: number;
  line: number;
  /** The record, kept when result_format asks for unexpected rows. */
  row?: Row;
}
