/**
 * The expectations of the catalogue, each as an evaluator: it sees every record once, keeps a
 * small accumulator, and gives its finding at the end of the stream. Adding an expectation
 * (a column aggregate such as a mean or quantiles, a multicolumn check) means adding an
 * evaluator here and an entry in the catalogue; the engine does not change.
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { parseDateTime } from '../shared/date-time.js';
import { ExpectationRaised } from '../shared/errors.js';
import { EXPECTATION_CATALOGUE, type ExpectationKind } from '../shared/expectation-catalogue.js';
import { AGGREGATE_EVALUATORS } from './aggregate-expectations.js';
import { COLUMN_MAP_EVALUATORS, compile, ValueSet } from './column-map-expectations.js';
import { decimal } from './decimal.js';
import {
  AllRowsColumnMapEvaluator,
  ColumnMapEvaluator,
  type Evaluator,
  type Finding,
  notEvaluated,
  type Row,
  type RowNamer,
  show,
} from './evaluator.js';
import { FirstOccurrences } from './first-occurrences.js';
import { MULTICOLUMN_EVALUATORS } from './multicolumn-expectations.js';
import { TABLE_EVALUATORS } from './table-expectations.js';

export type { Evaluator, Finding, Row, TableFacts } from './evaluator.js';
export { notEvaluated, percent, show } from './evaluator.js';

export type Factory = (config: ExpectationConfig) => Evaluator;

const EVALUATORS: Readonly<Record<string, Factory>> = {
  expect_column_values_to_not_be_null: (c) => new ValuesNotNull(c),
  expect_column_values_to_be_unique: (c) => new ValuesUnique(c),
  expect_column_values_to_be_between: (c) => new ValuesBetween(c),
  expect_column_values_to_be_in_set: (c) => new ValuesInSet(c),
  expect_column_values_to_match_regex: (c) => new ValuesMatchRegex(c),
  ...COLUMN_MAP_EVALUATORS,
  ...AGGREGATE_EVALUATORS,
  ...MULTICOLUMN_EVALUATORS,
  ...TABLE_EVALUATORS,
};

export function createEvaluator(config: ExpectationConfig): Evaluator {
  const factory = EVALUATORS[config.type];
  const evaluator = !factory
    ? new NotImplemented(config)
    : boundless(config.kwargs)
      ? new NotEvaluable(config, 'min_value and max_value cannot both be None')
      : factory(config);
  return config.kwargs.catch_exceptions === false ? raising(evaluator) : evaluator;
}

/**
 * Bounds given, both null. GX 1.x reports this when it validates, as an exception, for every
 * expectation with min_value/max_value; the contract schema only asks for one of the two keys.
 */
function boundless(kwargs: Record<string, unknown>): boolean {
  return (
    ('min_value' in kwargs || 'max_value' in kwargs) && kwargs.min_value == null && kwargs.max_value == null
  );
}

/**
 * GX's `catch_exceptions: false`: an expectation that cannot be evaluated raises, and the
 * validation stops with its error instead of reporting it in exception_info. Here the finding is
 * known at the end of the stream, so the run fails there, before any result is written.
 */
function raising(evaluator: Evaluator): Evaluator {
  const finish = evaluator.finish.bind(evaluator);
  evaluator.finish = (table) => {
    const finding = finish(table);
    if (finding.exception !== undefined) {
      throw new ExpectationRaised(
        `${finding.summary} (catch_exceptions is false, so the validation stops instead of reporting it in exception_info)`,
      );
    }
    return finding;
  };
  return evaluator;
}

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
    if (this.seen.markRepeated(first)) this.unexpected.add(this.seen.firstIndex(first), value);
    return `must be unique; the same value is on row ${this.rowName(this.seen.firstLine(first))}`;
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

/** GX uses Python's re.search: the pattern may match anywhere in the value. Here: a JavaScript RegExp with the u flag. */
class ValuesMatchRegex extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regex: RegExp;

  constructor(config: ExpectationConfig) {
    super(config);
    const source = String(config.kwargs.regex);
    this.expected = `values matching /${source}/u`;
    const compiled = compile(source);
    if (typeof compiled === 'string') this.problem = compiled;
    this.regex = typeof compiled === 'string' ? /(?:)/u : compiled;
  }

  protected test(value: unknown): string | undefined {
    const text =
      typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return this.regex.test(text) ? undefined : `must match /${this.regex.source}/u, got ${show(value)}`;
  }
}

/** An expectation that cannot be evaluated, whatever the data: its finding says why. */
class NotEvaluable implements Evaluator {
  readonly kind: ExpectationKind;
  readonly column: string | null;
  readonly mostlyExplicit = false;
  readonly needsColumns = false;

  constructor(
    readonly config: ExpectationConfig,
    private readonly why: string,
  ) {
    this.kind = EXPECTATION_CATALOGUE[config.type]?.kind ?? 'table';
    this.column = typeof config.kwargs.column === 'string' ? config.kwargs.column : null;
  }

  begin(): void {}

  finish(): Finding {
    return notEvaluated(this.config, this.why);
  }
}

/** An expectation the catalogue names that this validator does not evaluate yet. */
class NotImplemented extends NotEvaluable {
  constructor(config: ExpectationConfig) {
    super(config, `the validator does not implement ${config.type}`);
  }
}
