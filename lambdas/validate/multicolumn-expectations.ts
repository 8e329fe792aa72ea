/**
 * Expectations about several columns of a record: row-level, so an unexpected row is quarantined
 * at severity error, as with a column map.
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { parseDateTime } from '../shared/date-time.js';
import type { ExpectationKind } from '../shared/expectation-catalogue.js';
import { decimal } from './decimal.js';
import {
  type Evaluator,
  type Finding,
  listed,
  MapEvaluator,
  type MapState,
  notEvaluated,
  percent,
  type Row,
  type RowNamer,
  show,
} from './evaluator.js';
import { FirstOccurrences, keyValue } from './first-occurrences.js';
import type { ShardPlace } from './shard-state.js';
import { KeysMerge, type KeysState, keysState, type SpilledKeys, spillKeys } from './shard-uniqueness.js';
import type { SpillWriter } from './spill.js';

export const MULTICOLUMN_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> = {
  expect_column_pair_values_to_be_equal: (c) => new PairEqual(c),
  expect_column_pair_values_a_to_be_greater_than_b: (c) => new PairGreater(c),
  expect_compound_columns_to_be_unique: (c) => new CompoundUnique(c),
  expect_select_column_values_to_be_unique_within_record: (c) => new UniqueWithinRecord(c),
  expect_multicolumn_sum_to_equal: (c) => new MulticolumnSum(c),
};

/**
 * A map over several columns of each record, counted as a column map is (MapEvaluator). GX's
 * `ignore_row_if` decides which rows are looked at (ignored rows count as missing); `mostly` is
 * the share of the rows looked at that must pass.
 */
abstract class RowMapEvaluator extends MapEvaluator {
  readonly kind: ExpectationKind = 'multicolumn';
  readonly column = null;
  protected readonly columns: string[];
  private readonly ignoreIf: string;
  protected abstract readonly expected: string;

  constructor(config: ExpectationConfig, defaultIgnore: string) {
    super(config);
    const { kwargs } = config;
    this.columns = Array.isArray(kwargs.column_list)
      ? (kwargs.column_list as string[])
      : [String(kwargs.column_A), String(kwargs.column_B)];
    this.ignoreIf = typeof kwargs.ignore_row_if === 'string' ? kwargs.ignore_row_if : defaultIgnore;
  }

  begin(columns: readonly string[] | undefined): void {
    const absent = columns ? this.columns.filter((c) => !columns.includes(c)) : [];
    if (absent.length > 0)
      this.problem = `column ${listed(absent)} not in the file (columns: ${listed(columns ?? [])})`;
  }

  observe(_value: unknown, index: number, line: number, row: Row): string | undefined {
    if (this.problem !== undefined) return undefined;
    this.elementCount++;
    const values = this.columns.map((c) => row[c] ?? null);
    const missing = values.filter((v) => v === null).length;
    const ignored =
      this.ignoreIf === 'both_values_are_missing' || this.ignoreIf === 'all_values_are_missing'
        ? missing === values.length
        : this.ignoreIf === 'either_value_is_missing' || this.ignoreIf === 'any_value_is_missing'
          ? missing > 0
          : false;
    if (ignored) {
      this.missingCount++;
      return undefined;
    }
    const reason = this.test(values, index, line);
    if (reason !== undefined) this.unexpected.add(index, this.shown(values), row);
    return reason;
  }

  /** The unexpected value as GX lists it: a pair as [a, b], several columns as {column: value}. */
  protected shown(values: unknown[]): unknown {
    if (!Array.isArray(this.config.kwargs.column_list)) return values;
    const shown: Row = {};
    this.columns.forEach((c, i) => {
      shown[c] = values[i];
    });
    return shown;
  }

  protected abstract test(values: unknown[], index: number, line: number): string | undefined;

  finish(): Finding {
    if (this.problem !== undefined) return notEvaluated(this.config, this.problem);
    const considered = this.elementCount - this.missingCount;
    const count = this.unexpected.count;
    const examples = this.unexpected.examples().map(show);
    const observed =
      count === 0
        ? `no unexpected rows among ${considered} rows looked at`
        : `${count} of ${considered} rows (${percent(count, considered)}) are unexpected, e.g. ${examples.join(', ')}`;
    return this.mapFinding(
      considered,
      considered,
      `${this.config.type} on columns ${listed(this.columns)}: ${observed}; expected ${this.expected}`,
    );
  }
}

/**
 * Numbers compare as numbers even when one side is text that reads as a number. With
 * parse_strings_as_datetimes, text compares as the instant it names (date-time.ts); anything that
 * is not a date-time is NaN, which compares with nothing.
 */
function comparable(value: unknown, asDates: boolean): unknown {
  if (asDates) return typeof value === 'string' ? (parseDateTime(value) ?? Number.NaN) : Number.NaN;
  return typeof value === 'string' ? (decimal(value) ?? value) : value;
}

class PairEqual extends RowMapEvaluator {
  protected readonly expected: string;

  constructor(config: ExpectationConfig) {
    super(config, 'both_values_are_missing');
    this.expected = `${this.columns[0]} equal to ${this.columns[1]}`;
  }

  protected test([a, b]: unknown[]): string | undefined {
    if (a === b || comparable(a, false) === comparable(b, false)) return undefined;
    return `${this.columns[0]} must equal ${this.columns[1]}, got ${show(a)} and ${show(b)}`;
  }
}

class PairGreater extends RowMapEvaluator {
  protected readonly expected: string;
  private readonly orEqual: boolean;
  private readonly asDates: boolean;

  constructor(config: ExpectationConfig) {
    super(config, 'both_values_are_missing');
    this.orEqual = config.kwargs.or_equal === true;
    this.asDates = config.kwargs.parse_strings_as_datetimes === true;
    this.expected = `${this.columns[0]} ${this.orEqual ? '>=' : '>'} ${this.columns[1]}`;
  }

  protected test([a, b]: unknown[]): string | undefined {
    const x = comparable(a, this.asDates);
    const y = comparable(b, this.asDates);
    const ok =
      x !== null &&
      y !== null &&
      typeof x === typeof y &&
      (typeof x === 'number' || typeof x === 'string') &&
      !(typeof x === 'number' && Number.isNaN(x)) &&
      (this.orEqual ? (x as number) >= (y as number) : (x as number) > (y as number));
    return ok ? undefined : `must have ${this.expected}, got ${show(a)} and ${show(b)}`;
  }
}

/**
 * As expect_column_values_to_be_unique over the tuple of the columns: every member of a repeated
 * tuple counts as unexpected, and the rows after the first are the ones quarantined.
 */
class CompoundUnique extends RowMapEvaluator {
  protected readonly expected: string;
  private readonly seen = new FirstOccurrences();
  private rowName: RowNamer = String;

  constructor(config: ExpectationConfig) {
    super(config, 'all_values_are_missing');
    this.expected = `unique combinations of ${listed(this.columns)}`;
  }

  nameRows(name: RowNamer): void {
    this.rowName = name;
  }

  expectRecords(records: number): void {
    this.seen.reserve(records);
  }

  protected test(values: unknown[], index: number, line: number): string | undefined {
    const first = this.seen.findOrAdd(JSON.stringify(values), index, line);
    if (first === -1) return undefined;
    if (this.seen.markRepeated(first)) {
      this.unexpected.add(this.seen.firstIndex(first), this.shown(values), undefined, index);
    }
    return this.reason(this.rowName(this.seen.firstLine(first)));
  }

  private reason(row: string): string {
    return `${listed(this.columns)} must be unique together; the same values are on row ${row}`;
  }

  override state(spill?: SpillWriter): MapState & { keys: KeysState | SpilledKeys } {
    return { ...super.state(spill), keys: spill ? spillKeys(this.seen, spill) : keysState(this.seen) };
  }

  private merged: KeysMerge | undefined;

  override absorb(state: unknown, place: ShardPlace): void {
    super.absorb(state, place);
    this.merged ??= new KeysMerge();
    const shown = (key: string) => this.shown(JSON.parse(keyValue(key) as string) as unknown[]);
    this.merged.absorb((state as { keys: KeysState | SpilledKeys }).keys, place, {
      firstRepeated: (key, index, at) => this.unexpected.add(index, shown(key), undefined, at),
      laterUnexpected: (key, index) => this.unexpected.add(index, shown(key)),
      reason: (line) => this.reason(this.rowName(line)),
      value: () => undefined,
    });
  }
}

class UniqueWithinRecord extends RowMapEvaluator {
  protected readonly expected: string;

  constructor(config: ExpectationConfig) {
    super(config, 'all_values_are_missing');
    this.expected = `distinct values across ${listed(this.columns)} in each row`;
  }

  protected test(values: unknown[]): string | undefined {
    const present = values.filter((v) => v !== null).map((v) => JSON.stringify(comparable(v, false)));
    return new Set(present).size === present.length
      ? undefined
      : `${listed(this.columns)} must hold different values, got ${show(values)}`;
  }
}

/** GX: the row's sum over the columns (missing values add nothing) equals sum_total. */
class MulticolumnSum extends RowMapEvaluator {
  protected readonly expected: string;
  private readonly total: number;

  constructor(config: ExpectationConfig) {
    super(config, 'all_values_are_missing');
    this.total = Number(config.kwargs.sum_total);
    this.expected = `${listed(this.columns)} summing to ${this.total}`;
  }

  protected test(values: unknown[]): string | undefined {
    let sum = 0;
    for (const v of values) {
      if (v === null) continue;
      const n = comparable(v, false);
      if (typeof n !== 'number') return `${listed(this.columns)} must be numbers, got ${show(values)}`;
      sum += n;
    }
    // Decimal sums such as 0.1 + 0.2 are not exact in binary: compare to a relative tolerance.
    const close = Math.abs(sum - this.total) <= 1e-9 * Math.max(1, Math.abs(this.total));
    return close ? undefined : `must sum to ${this.total}, got ${sum} from ${show(values)}`;
  }
}
