/**
 * Column-aggregate expectations: each accumulates over a column's non-null values as the stream
 * passes, and compares one observed value with its kwargs at the end. They never quarantine a
 * row; a failure is about the batch, and blocks promotion at severity error.
 *
 * What each keeps (docs/validation.md has the table): min, max, sum, mean and stdev a few numbers;
 * median and quantiles every numeric value in a Float64Array (8 bytes a value, grown by doubling),
 * or a sketch within a relative error when the contract asks for `approximate`;
 * the distinct-value ones (distinct-value-expectations.ts) a map of each distinct value to its count.
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { parseDateTime } from '../shared/date-time.js';
import { InternalError, MalformedInput } from '../shared/errors.js';
import type { ExpectationKind } from '../shared/expectation-catalogue.js';
import { decimal } from './decimal.js';
import {
  type Evaluator,
  type Finding,
  listed,
  notEvaluated,
  type RowNamer,
  show,
  type TableFacts,
} from './evaluator.js';
import { addProduct, ExactSum, type ExactSumState, exactStdev } from './exact-sum.js';
import { RelativeErrorSketch, type SketchState } from './relative-error-sketch.js';
import { keep, observedResult, parseResultFormat, type ResultFormat } from './result-format.js';
import type { ShardPlace } from './shard-state.js';
import type { SpillWriter } from './spill.js';
import { type SortedValues, type SpilledValues, spillValues } from './spill-select.js';

export const AGGREGATE_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> = {
  expect_column_min_to_be_between: (c) => new Extreme(c, 'min'),
  expect_column_max_to_be_between: (c) => new Extreme(c, 'max'),
  expect_column_mean_to_be_between: (c) => new Moments(c, 'mean'),
  expect_column_sum_to_be_between: (c) => new Moments(c, 'sum'),
  expect_column_stdev_to_be_between: (c) => new Moments(c, 'stdev'),
  expect_column_median_to_be_between: (c) => new Median(c),
  expect_column_quantile_values_to_be_between: (c) => new Quantiles(c),
};

type Bound = number | string | null;

/** GX's between on an observed value: inclusive unless strict; a null bound is no bound; no value fails. */
export function between(
  observed: number | string | null,
  kwargs: Record<string, unknown>,
): { success: boolean; expected: string } {
  const min = (kwargs.min_value as Bound | undefined) ?? null;
  const max = (kwargs.max_value as Bound | undefined) ?? null;
  const strictMin = kwargs.strict_min === true;
  const strictMax = kwargs.strict_max === true;
  const parts: string[] = [];
  if (min !== null) parts.push(`${strictMin ? '>' : '>='} ${show(min)}`);
  if (max !== null) parts.push(`${strictMax ? '<' : '<='} ${show(max)}`);
  const expected = parts.join(' and ');
  if (observed === null) return { success: false, expected };
  const low = min === null || (strictMin ? observed > min : observed >= min);
  const high = max === null || (strictMax ? observed < max : observed <= max);
  return { success: low && high, expected };
}

/** A column's non-null values, one at a time; the subclasses keep what they need. */
export abstract class AggregateEvaluator implements Evaluator {
  readonly kind: ExpectationKind = 'column_aggregate';
  readonly column: string;
  readonly needsColumns = false;
  protected readonly format: ResultFormat;
  protected problem: string | undefined;
  protected count = 0;
  protected rowName: RowNamer = String;

  constructor(readonly config: ExpectationConfig) {
    this.column = String(config.kwargs.column);
    this.format = parseResultFormat(config.kwargs);
  }

  nameRows(name: RowNamer): void {
    this.rowName = name;
  }

  begin(columns: readonly string[] | undefined): void {
    if (columns && !columns.includes(this.column)) {
      this.problem ??= `column '${this.column}' is not in the file (columns: ${listed(columns)})`;
    }
  }

  observe(value: unknown, _index: number, line: number): undefined {
    if (this.problem !== undefined || value === undefined || value === null) return undefined;
    this.count++;
    this.add(value, line);
    return undefined;
  }

  protected abstract add(value: unknown, line: number): void;

  /** A number, from a number or a decimal text; otherwise the problem is noted and undefined returned. */
  protected numberOf(value: unknown, line: number): number | undefined {
    const n = typeof value === 'number' ? value : typeof value === 'string' ? decimal(value) : undefined;
    if (n === undefined) {
      this.problem ??= `column '${this.column}' holds a value that is not a number on row ${this.rowName(line)}: ${show(value)}`;
    }
    return n;
  }

  finish(table: TableFacts): Finding {
    if (this.problem !== undefined) return notEvaluated(this.config, this.problem);
    return this.judge(table);
  }

  state(): AggregateState {
    return { count: this.count, problem: this.problem };
  }

  /**
   * One pass stops looking at values at the first problem, so a shard's values count only while
   * no earlier shard had one; `merge` adds them. A shard's problem names its row with a marker.
   */
  absorb(state: unknown, place: ShardPlace): void {
    const s = state as AggregateState;
    if (this.problem !== undefined) return;
    this.count += s.count;
    this.merge(s, place);
    if (s.problem !== undefined) this.problem ??= place.text(s.problem);
  }

  protected abstract merge(state: AggregateState, place: ShardPlace): void;

  protected abstract judge(table: TableFacts): Finding;

  protected finding(
    success: boolean,
    observed: unknown,
    expected: string,
    details?: Record<string, unknown>,
  ): Finding {
    return {
      success,
      result: observedResult(this.format, observed, details),
      summary: `${this.config.type} on column '${this.column}': observed ${show(observed)}; expected ${expected}`,
    };
  }
}

/** What every aggregate hands on from a shard; the subclasses add what they accumulate. */
export interface AggregateState {
  count: number;
  problem?: string | undefined;
}

/**
 * min or max: numbers compare as numbers; a column of text compares as text (ISO dates sort). With
 * parse_strings_as_datetimes, values and bounds compare as instants (date-time.ts), and the
 * observed value is the extreme value as it is written in the data.
 */
class Extreme extends AggregateEvaluator {
  private best: number | string | null = null;
  /** With parse_strings_as_datetimes: the text of the best value (`best` is its instant). */
  private bestText: string | null = null;
  private readonly asDates: boolean;
  /** The first value compared, and its line: whether a shard's values mix with the earlier shards'. */
  private first: { v: number | string; value: unknown; line: number } | undefined;

  constructor(
    config: ExpectationConfig,
    private readonly which: 'min' | 'max',
  ) {
    super(config);
    this.asDates = config.kwargs.parse_strings_as_datetimes === true;
  }

  override state(): AggregateState & ExtremeState {
    return { ...super.state(), best: this.best, bestText: this.bestText, first: this.first };
  }

  protected merge(state: AggregateState, place: ShardPlace): void {
    const { best, bestText, first } = state as AggregateState & ExtremeState;
    const current = this.best;
    if (first !== undefined && current !== null && typeof current !== typeof first.v) {
      this.problem = `row ${first.line + place.line}: ${show(first.value)} mixes text and numbers`;
      return;
    }
    if (best !== null && (current === null || (this.which === 'min' ? best < current : best > current))) {
      this.best = best;
      this.bestText = bestText;
    }
  }

  protected add(value: unknown, line: number): void {
    let v: number | string | undefined;
    if (this.asDates) {
      v = typeof value === 'string' ? parseDateTime(value) : undefined;
      if (v === undefined) this.problem ??= `row ${this.rowName(line)}: ${show(value)} is not a date-time`;
    } else if (typeof value === 'number') v = value;
    else if (typeof value === 'string') v = decimal(value) ?? value;
    if (v === undefined) {
      this.problem ??= `row ${this.rowName(line)}: ${show(value)} cannot be compared`;
      return;
    }
    this.first ??= { v, value, line };
    const best = this.best;
    if (best === null || (typeof best === typeof v && (this.which === 'min' ? v < best : v > best))) {
      this.best = keep(v);
      if (this.asDates) this.bestText = keep(value as string);
    } else if (typeof best !== typeof v)
      this.problem ??= `row ${this.rowName(line)}: ${show(value)} mixes text and numbers`;
  }

  protected judge(): Finding {
    const kwargs = this.config.kwargs;
    if (this.asDates) {
      const instant = (x: unknown) =>
        x === null || x === undefined
          ? null
          : typeof x === 'string'
            ? (parseDateTime(x) ?? Number.NaN)
            : Number.NaN;
      const bounds = {
        ...kwargs,
        min_value: instant(kwargs.min_value),
        max_value: instant(kwargs.max_value),
      };
      if (Number.isNaN(bounds.min_value) || Number.isNaN(bounds.max_value)) {
        return notEvaluated(this.config, 'parse_strings_as_datetimes is set but a bound is not a date-time');
      }
      const { success } = between(this.best, bounds);
      const { expected } = between(null, kwargs);
      return this.finding(success, this.bestText, `${expected} (as date-times)`);
    }
    let observed = this.best;
    if (typeof observed === 'string' && typeof (kwargs.min_value ?? kwargs.max_value) === 'number') {
      observed = decimal(observed) ?? observed;
    }
    const { success, expected } = between(observed, kwargs);
    return this.finding(success, observed, expected);
  }
}

/**
 * Sum, mean and sample standard deviation (ddof 1, as pandas) from exact sums of the values and
 * of their squares (exact-sum.ts): a few numbers, and the same result to the last bit however the
 * column is cut into shards. The mean is the correctly rounded sum divided by the count; the
 * variance is n·Σx² − (Σx)², computed exactly and rounded once, over n(n − 1).
 */
class Moments extends AggregateEvaluator {
  private n = 0;
  private readonly sum = new ExactSum();
  /** Σx², kept for stdev only. */
  private readonly squares: ExactSum | undefined;

  constructor(
    config: ExpectationConfig,
    private readonly which: 'mean' | 'sum' | 'stdev',
  ) {
    super(config);
    if (which === 'stdev') this.squares = new ExactSum();
  }

  protected add(value: unknown, line: number): void {
    const x = this.numberOf(value, line);
    if (x === undefined) return;
    this.n++;
    this.sum.add(x);
    if (this.squares) addProduct(this.squares, x, x);
  }

  override state(): AggregateState & MomentsState {
    return { ...super.state(), n: this.n, sum: this.sum.state(), squares: this.squares?.state() };
  }

  protected merge(state: AggregateState): void {
    const { n, sum, squares } = state as AggregateState & MomentsState;
    this.n += n;
    this.sum.addAll(sum);
    if (this.squares && squares) this.squares.addAll(squares);
  }

  private stdev(): number | null {
    return this.squares ? exactStdev(this.n, this.sum, this.squares) : null;
  }

  protected judge(): Finding {
    let observed: number | null;
    if (this.which === 'sum') observed = this.sum.value();
    else if (this.which === 'mean') observed = this.n === 0 ? null : this.sum.value() / this.n;
    else observed = this.stdev();
    const { success, expected } = between(observed, this.config.kwargs);
    return this.finding(success, observed, expected);
  }
}

/** Every numeric value, 8 bytes each, grown by doubling: what an exact median or quantile needs. */
export class NumberColumn {
  private valuesArray = new Float64Array(1024);
  length = 0;

  push(x: number): void {
    if (this.length === this.valuesArray.length) {
      const bigger = new Float64Array(this.valuesArray.length * 2);
      bigger.set(this.valuesArray);
      this.valuesArray = bigger;
    }
    this.valuesArray[this.length++] = x;
  }

  /** The values in the order they came. */
  values(): Float64Array {
    return this.valuesArray.subarray(0, this.length);
  }

  /** The values, sorted ascending (sorts in place once). */
  sorted(): Float64Array {
    return this.valuesArray.subarray(0, this.length).sort();
  }
}

/**
 * An exact median or quantile needs every value. A shard hands them all on in its outcome, or,
 * given a spill, writes them there sorted and hands on a histogram (spill-select.ts); the merge
 * is then given only the values at the ranks wanted (wantedRanks), selected from the spill.
 */
abstract class NumbersEvaluator extends AggregateEvaluator {
  protected readonly numbers = new NumberColumn();
  /** Set when the contract asks for approximate values (`approximate`): then no value is kept. */
  protected readonly sketch: RelativeErrorSketch | undefined;
  /** Merged from spilled shards: how many values, and those at the ranks wanted. */
  private spilledCount = 0;
  private selected: Map<number, number> | undefined;

  constructor(config: ExpectationConfig) {
    super(config);
    const approximate = config.approximate;
    this.sketch = approximate ? new RelativeErrorSketch(approximate.relative_error) : undefined;
  }

  protected add(value: unknown, line: number): void {
    const x = this.numberOf(value, line);
    if (x === undefined) return;
    if (this.sketch) this.sketch.push(x);
    else this.numbers.push(x);
  }

  override state(
    spill?: SpillWriter,
  ): AggregateState & { values?: number[] | SpilledValues; sketch?: SketchState } {
    if (this.sketch) return { ...super.state(), sketch: this.sketch.state() };
    const values = spill ? spillValues(this.numbers.values(), spill) : [...this.numbers.values()];
    return { ...super.state(), values };
  }

  protected merge(state: AggregateState, place: ShardPlace): void {
    const { values, sketch } = state as AggregateState & {
      values?: number[] | SpilledValues;
      sketch?: SketchState;
    };
    if (this.sketch) {
      if (sketch) this.sketch.absorb(sketch);
      return;
    }
    if (values === undefined) return;
    if (!Array.isArray(values)) {
      const selected = place.spilled as Array<[number, number]> | undefined;
      if (selected === undefined) {
        throw new MalformedInput(
          `a shard outcome spilled the values of ${this.config.type} on column '${this.column}', and the merge was given no selection (resolveSpill)`,
        );
      }
      this.selected = new Map(selected);
      this.spilledCount += values.spilled.n;
      return;
    }
    for (const x of values) this.numbers.push(x);
  }

  /** In `details`, when the values are approximate: the bound the contract asked for. */
  protected approximation(): { approximate: { relative_error: number } } | undefined {
    return this.sketch ? { approximate: { relative_error: this.sketch.relativeError } } : undefined;
  }

  /** The values sorted ascending: all of them, the ones selected at the ranks wanted, or the sketch's. */
  protected sortedValues(): SortedValues {
    if (this.sketch) return this.sketch.sorted();
    const selected = this.selected;
    if (selected === undefined) {
      const sorted = this.numbers.sorted();
      return { length: sorted.length, get: (i) => sorted[i] };
    }
    return {
      length: this.spilledCount,
      get: (i) => {
        const value = selected.get(i);
        if (value === undefined && i >= 0 && i < this.spilledCount) {
          throw new InternalError(
            `${this.config.type}: rank ${i} of ${this.spilledCount} was not selected from the spill`,
          );
        }
        return value;
      },
    };
  }
}

/** The positions (in the values sorted ascending) that a median or quantile expectation reads, for n values. */
export function wantedRanks(config: ExpectationConfig, n: number): number[] {
  if (n === 0) return [];
  if (config.type === 'expect_column_median_to_be_between') {
    return n % 2 === 1 ? [(n - 1) / 2] : [n / 2 - 1, n / 2];
  }
  const ranges = config.kwargs.quantile_ranges as { quantiles?: number[] } | undefined;
  return (ranges?.quantiles ?? []).flatMap((q) => {
    const position = q * (n - 1);
    return [Math.floor(position), Math.ceil(position), nearestIndex(position)];
  });
}

interface ExtremeState {
  best: number | string | null;
  bestText: string | null;
  first?: { v: number | string; value: unknown; line: number } | undefined;
}

interface MomentsState {
  n: number;
  sum: ExactSumState;
  squares?: ExactSumState | undefined;
}

/** pandas median: the middle value, or the mean of the two middle ones. */
class Median extends NumbersEvaluator {
  protected judge(): Finding {
    const sorted = this.sortedValues();
    const n = sorted.length;
    const observed =
      n === 0
        ? null
        : n % 2 === 1
          ? sorted.get((n - 1) / 2)!
          : (sorted.get(n / 2 - 1)! + sorted.get(n / 2)!) / 2;
    const { success, expected } = between(observed, this.config.kwargs);
    return this.finding(success, observed, expected, this.approximation());
  }
}

/**
 * GX on pandas: `quantile(q, interpolation=…)`, where allow_relative_error names the interpolation
 * (false or absent: "nearest"); each quantile's value within its range.
 */
class Quantiles extends NumbersEvaluator {
  protected judge(): Finding {
    const ranges = this.config.kwargs.quantile_ranges as { quantiles: number[]; value_ranges: Bound[][] };
    if (ranges.quantiles.length !== ranges.value_ranges.length) {
      return notEvaluated(
        this.config,
        'quantile_ranges: quantiles and value_ranges must have the same length',
      );
    }
    const given = this.config.kwargs.allow_relative_error;
    const method = typeof given === 'string' ? (given as Interpolation) : 'nearest';
    const sorted = this.sortedValues();
    const values = ranges.quantiles.map((q) => quantile(sorted, q, method));
    const successDetails = values.map((v, i) => {
      const [min, max] = ranges.value_ranges[i] ?? [null, null];
      return between(v, { min_value: min, max_value: max }).success;
    });
    const observed = { quantiles: ranges.quantiles, values };
    const expected = ranges.quantiles
      .map((q, i) => `q${q} in [${(ranges.value_ranges[i] ?? []).map((b) => show(b)).join(', ')}]`)
      .join(', ');
    return this.finding(successDetails.every(Boolean), observed, expected, {
      success_details: successDetails,
      ...this.approximation(),
    });
  }
}

/** pandas' `interpolation` of `Series.quantile`. */
type Interpolation = 'linear' | 'lower' | 'higher' | 'midpoint' | 'nearest';

/** The q-quantile of sorted values as numpy computes it; null when there are none. */
export function quantile(sorted: SortedValues, q: number, method: Interpolation): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const position = q * (n - 1);
  const lower = sorted.get(Math.floor(position))!;
  const higher = sorted.get(Math.ceil(position))!;
  const t = position - Math.floor(position);
  switch (method) {
    case 'lower':
      return lower;
    case 'higher':
      return higher;
    case 'midpoint':
      return t === 0 ? lower : higher - (higher - lower) * 0.5;
    case 'nearest':
      return sorted.get(nearestIndex(position))!;
    case 'linear':
      // numpy's lerp: from the nearer end, so that the result never passes `higher`.
      return t < 0.5 ? lower + (higher - lower) * t : higher - (higher - lower) * (1 - t);
  }
}

/** numpy's round half to even, as interpolation="nearest" picks the index. */
function nearestIndex(position: number): number {
  const floor = Math.floor(position);
  const fraction = position - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
