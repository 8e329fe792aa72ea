/**
 * Column profiles: what each column of a batch looks like, gathered in validation's one pass over
 * the records the engine could read (well-formed rows, valid or quarantined; a row that cannot be
 * read as a record has no columns). For every column: the types of its values, nulls, distinct
 * values, min/max/mean/stdev of its numbers (and of its dates, as instants), a histogram of those,
 * and its most common values. Stored as JSON next to the validation result, so that the next run
 * compares itself with it (profile-drift.ts).
 *
 * Cost per value: a type test and a Map lookup while a column has few distinct values (a repeated
 * value's numbers are added by its count at the end; dates are parsed once per distinct value).
 * Each column counts its first TRACKED_VALUES distinct values exactly (the exact distinct count and
 * the top values); past that, a HyperLogLog sketch counts its distinct values (error about 1.6%),
 * no value is looked up any more, and the profile has no top values for it: a column of that many
 * distinct values (ids, amounts, emails) is described by its distinct count and its numbers.
 * Everything here merges across shards into what one pass gives.
 */
import { parseDateTime } from '../shared/date-time.js';
import { addProduct, ExactSum, type ExactSumState, exactStdev } from './exact-sum.js';
import {
  DistinctSketch,
  GrowingHistogram,
  type HistogramState,
  HLL_RELATIVE_ERROR,
} from './profile-sketches.js';
import { keep } from './result-format.js';

/** Distinct values a column counts exactly (value → count) before it switches to a sketch. */
export const TRACKED_VALUES = 1000;
/** Most common values a profile lists; every value when a column has at most ALL_VALUES distinct ones. */
const TOP_VALUES = 10;
const ALL_VALUES = 50;

/** How the contract's schema declares a column, as far as profiling cares. */
export interface ColumnDeclaration {
  type?: unknown;
  format?: unknown;
}

/** What the profile says of one column. */
export interface ColumnProfile {
  name: string;
  /** integer, number, string, boolean, date, date-time, object, mixed, or empty (only nulls). */
  type: string;
  /** Non-null values of each JavaScript type. */
  types: { number: number; string: number; boolean: number; other: number };
  nulls: number;
  /** Share of the profiled rows where the column is null or absent, 0–1. */
  null_rate: number;
  distinct: { count: number; exact: boolean; relative_error?: number };
  /** Of the numbers (or, for date columns, the instants in ms since the epoch) among the values. */
  numeric?: { count: number; min: number; max: number; mean: number; stdev: number | null };
  histogram?: { edges: number[]; counts: number[] };
  /**
   * The most common values, most frequent first, with exact counts; `complete` when every distinct
   * value is listed (the column had at most ALL_VALUES). Absent past TRACKED_VALUES distinct values.
   */
  top?: { values: Array<{ value: unknown; count: number }>; complete: boolean };
}

export interface Profile {
  /** Records profiled: every well-formed record read. */
  rows: number;
  columns: ColumnProfile[];
}

/** One tracked value: how often it occurred, and the instant it names when the column holds dates. */
interface Tracked {
  value: unknown;
  count: number;
  instant: number | undefined;
}

export interface ColumnState {
  name: string;
  nonNull: number;
  types: ColumnProfile['types'];
  moments: { n: number; sum: ExactSumState; squares: ExactSumState; min: number | null; max: number | null };
  histogram: HistogramState;
  tracked: Array<[unknown, number]>;
  /** Every distinct value's HyperLogLog registers (base64). */
  sketch: string;
  /** Whether `tracked` holds every distinct value; if not, only the sketch counts them all. */
  exact: boolean;
}

export interface ProfileState {
  rows: number;
  columns: ColumnState[];
}

class ColumnAccumulator {
  nonNull = 0;
  readonly types = { number: 0, string: 0, boolean: 0, other: 0 };
  private n = 0;
  private readonly sum = new ExactSum();
  private readonly squares = new ExactSum();
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private readonly histogram: GrowingHistogram;
  private readonly tracked = new Map<unknown, Tracked>();
  private sketch: DistinctSketch | undefined;

  private readonly dates: boolean;

  /** `format`: the schema's date or date-time, whose texts are profiled as the instants they name. */
  constructor(
    readonly name: string,
    private readonly format: 'date' | 'date-time' | undefined,
    private readonly integers: boolean,
  ) {
    this.dates = format !== undefined;
    this.histogram = new GrowingHistogram(integers);
  }

  add(value: unknown): void {
    this.nonNull++;
    let key = value;
    let x: number | undefined;
    switch (typeof value) {
      case 'number':
        this.types.number++;
        x = value;
        break;
      case 'string':
        this.types.string++;
        break;
      case 'boolean':
        this.types.boolean++;
        break;
      default:
        this.types.other++;
        key = keyOf(value);
    }
    // A tracked value's numbers are added once, by its count, at the end (numbers()): a repeated
    // value costs one lookup. Past TRACKED_VALUES distinct values the column is counted by its
    // sketch and its numbers one by one, with no lookup: its top values are not reported then.
    if (this.sketch === undefined) {
      const entry = this.tracked.get(key);
      if (entry !== undefined) {
        entry.count++;
        return;
      }
      if (this.dates) x = typeof value === 'string' ? parseDateTime(value) : undefined;
      if (this.tracked.size < TRACKED_VALUES) {
        this.tracked.set(typeof key === 'string' ? keep(key) : key, {
          value: keep(value),
          count: 1,
          instant: x,
        });
        return;
      }
      this.sketch = this.startSketch();
    } else if (this.dates) x = typeof value === 'string' ? parseDateTime(value) : undefined;
    this.sketch.add(key);
    if (x !== undefined && Number.isFinite(x)) this.addNumber(x, 1);
  }

  private startSketch(): DistinctSketch {
    const sketch = new DistinctSketch();
    for (const key of this.tracked.keys()) sketch.add(key);
    return sketch;
  }

  /**
   * Adds `count` occurrences of x to the sums and bins. Exact sums: the mean and stdev come out the
   * same to the last bit whether the rows are read in one pass or in shards merged afterwards. The
   * squares are each rounded once (x * x), not kept exactly as the stdev expectation keeps them:
   * less work per value, and a relative error of 2^-53 on each square is far below what a profile shows.
   */
  private addNumber(x: number, count: number): void {
    this.n += count;
    if (count === 1) {
      this.sum.add(x);
      this.squares.add(x * x);
    } else {
      addProduct(this.sum, x, count);
      addProduct(this.squares, x * x, count);
    }
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.histogram.add(x, count);
  }

  /** The numbers of the column: those added one by one, plus each tracked value by its count. */
  private numbers(): {
    n: number;
    sum: ExactSum;
    squares: ExactSum;
    min: number;
    max: number;
    bins: GrowingHistogram;
  } {
    const sum = new ExactSum();
    const squares = new ExactSum();
    sum.addAll(this.sum.state());
    squares.addAll(this.squares.state());
    const bins = new GrowingHistogram(this.integers);
    bins.absorb(this.histogram.state());
    let { n, min, max } = this;
    for (const t of this.tracked.values()) {
      const x = typeof t.value === 'number' ? t.value : t.instant;
      if (x === undefined || !Number.isFinite(x)) continue;
      n += t.count;
      addProduct(sum, x, t.count);
      addProduct(squares, x * x, t.count);
      if (x < min) min = x;
      if (x > max) max = x;
      bins.add(x, t.count);
    }
    return { n, sum, squares, min, max, bins };
  }

  state(): ColumnState {
    return {
      name: this.name,
      nonNull: this.nonNull,
      types: { ...this.types },
      moments: {
        n: this.n,
        sum: this.sum.state(),
        squares: this.squares.state(),
        min: this.n > 0 ? this.min : null,
        max: this.n > 0 ? this.max : null,
      },
      histogram: this.histogram.state(),
      tracked: [...this.tracked.values()].map((t) => [t.value, t.count]),
      // Always there, so that a shard's state has one size whether or not it went past the tracked values.
      sketch: (this.sketch ?? this.startSketch()).toJSON(),
      exact: this.sketch === undefined,
    };
  }

  /** Adds a later shard's state of the same column, as if its values had been added here. */
  absorb(s: ColumnState): void {
    this.nonNull += s.nonNull;
    this.types.number += s.types.number;
    this.types.string += s.types.string;
    this.types.boolean += s.types.boolean;
    this.types.other += s.types.other;
    const m = s.moments;
    if (m.n > 0) {
      this.n += m.n;
      this.sum.addAll(m.sum);
      this.squares.addAll(m.squares);
      this.min = Math.min(this.min, m.min!);
      this.max = Math.max(this.max, m.max!);
    }
    this.histogram.absorb(s.histogram);
    for (const [value, count] of s.tracked) {
      const key = keyOf(value);
      const entry = this.tracked.get(key);
      if (entry !== undefined) entry.count += count;
      else if (this.sketch === undefined && this.tracked.size < TRACKED_VALUES) {
        const instant = this.dates && typeof value === 'string' ? parseDateTime(value) : undefined;
        this.tracked.set(key, { value, count, instant });
      } else {
        this.sketch ??= this.startSketch();
        this.sketch.add(key);
        const x =
          typeof value === 'number'
            ? value
            : this.dates && typeof value === 'string'
              ? parseDateTime(value)
              : undefined;
        if (x !== undefined && Number.isFinite(x)) this.addNumber(x, count);
      }
    }
    if (!s.exact) {
      this.sketch ??= this.startSketch();
      this.sketch.merge(DistinctSketch.fromJSON(s.sketch));
    }
  }

  profile(rows: number): ColumnProfile {
    const nulls = rows - this.nonNull;
    const exact = this.sketch === undefined;
    const ranked = [...this.tracked.values()].sort((a, b) => b.count - a.count || order(a.value, b.value));
    const complete = ranked.length <= ALL_VALUES;
    const numbers = this.numbers();
    const bins = numbers.bins.bins();
    return {
      name: this.name,
      type: this.typeName(),
      types: { ...this.types },
      nulls,
      null_rate: rows === 0 ? 0 : nulls / rows,
      distinct: exact
        ? { count: this.tracked.size, exact: true }
        : { count: this.sketch!.estimate(), exact: false, relative_error: HLL_RELATIVE_ERROR },
      ...(numbers.n > 0
        ? {
            numeric: {
              count: numbers.n,
              min: numbers.min,
              max: numbers.max,
              mean: numbers.sum.value() / numbers.n,
              stdev: exactStdev(numbers.n, numbers.sum, numbers.squares),
            },
          }
        : {}),
      ...(bins ? { histogram: bins } : {}),
      ...(exact && ranked.length > 0
        ? {
            top: {
              values: ranked
                .slice(0, complete ? ALL_VALUES : TOP_VALUES)
                .map((t) => ({ value: t.value, count: t.count })),
              complete,
            },
          }
        : {}),
    };
  }

  private typeName(): string {
    const { number, string, boolean, other } = this.types;
    const kinds = [number, string, boolean, other].filter((c) => c > 0).length;
    if (kinds === 0) return 'empty';
    if (kinds > 1) return 'mixed';
    if (string > 0) return this.format !== undefined && this.numbers().n === string ? this.format : 'string';
    if (number > 0) return this.integers ? 'integer' : 'number';
    return boolean > 0 ? 'boolean' : 'object';
  }
}

/** The Map key of a value: primitives as they are, objects and arrays by their JSON. */
function keyOf(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? `\u0000${JSON.stringify(value)}` : value;
}

/** Numbers before texts, each in their order: a stable order for values of equal count. */
function order(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Profiles the records of one input: CSV rows through `observeValues` (the row's typed values in
 * header order, null for a null cell), JSON Lines records through `observeRecord`.
 */
export class Profiler {
  private rows = 0;
  private readonly byName = new Map<string, ColumnAccumulator>();
  private header: ColumnAccumulator[] = [];

  constructor(private readonly declared: Readonly<Record<string, ColumnDeclaration>>) {}

  /** The CSV header's columns, in order. */
  begin(columns: readonly string[]): void {
    this.header = columns.map((name) => this.column(name));
  }

  observeValues(values: readonly unknown[]): void {
    this.rows++;
    const header = this.header;
    for (let c = 0; c < header.length; c++) {
      const value = values[c];
      if (value !== null && value !== undefined) header[c]!.add(value);
    }
  }

  observeRecord(record: Readonly<Record<string, unknown>>): void {
    this.rows++;
    for (const name in record) {
      const value = record[name];
      if (value !== null && value !== undefined) this.column(name).add(value);
    }
  }

  private column(name: string): ColumnAccumulator {
    let column = this.byName.get(name);
    if (column === undefined) {
      const declared = Object.hasOwn(this.declared, name) ? this.declared[name] : undefined;
      const format =
        declared?.format === 'date' || declared?.format === 'date-time' ? declared.format : undefined;
      column = new ColumnAccumulator(name, format, declared?.type === 'integer');
      this.byName.set(name, column);
    }
    return column;
  }

  state(): ProfileState {
    return { rows: this.rows, columns: [...this.byName.values()].map((c) => c.state()) };
  }

  /** Adds a later shard's profile state, as if its records had been observed here. */
  absorb(state: ProfileState): void {
    this.rows += state.rows;
    for (const s of state.columns) this.column(s.name).absorb(s);
  }

  finish(): Profile {
    return { rows: this.rows, columns: [...this.byName.values()].map((c) => c.profile(this.rows)) };
  }
}
