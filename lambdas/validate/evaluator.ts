/**
 * What every expectation evaluator is, and the shared machinery of the common kinds: the counting
 * of map evaluators (column maps and multicolumn maps: `mostly`, unexpected values shaped by
 * result_format), GX's null handling of column maps, and a table evaluator (a finding from what
 * is known at the end of the stream).
 */
import type { ExpectationConfig } from '../shared/contract.js';
import type { ExpectationKind } from '../shared/expectation-catalogue.js';
import {
  type ExpectationResultDetails,
  parseResultFormat,
  type ResultFormat,
  type UnexpectedState,
  UnexpectedValues,
} from './result-format.js';
import type { ShardPlace } from './shard-state.js';
import type { SpillWriter } from './spill.js';

/** One record as the expectations see it: typed values, null cells absent. */
export type Row = Record<string, unknown>;

/** What is known about the whole table at the end of the stream. */
export interface TableFacts {
  /** Records read, malformed ones included. */
  rowCount: number;
  /** The CSV header, or the keys seen in JSON Lines records (collected when an evaluator needs them). */
  columns: readonly string[] | undefined;
}

/** What an evaluator found. */
export interface Finding {
  success: boolean;
  /** GX `result`, already shaped by the expectation's result_format. */
  result: ExpectationResultDetails;
  /** Set when the expectation could not be evaluated (GX exception_info). */
  exception?: string;
  /** One sentence naming the expectation, what was observed and what was expected. */
  summary: string;
  /**
   * The `mostly` the contract set on a row-level expectation: failing then means more unexpected
   * rows than it allows (the quarantine budget is spent), not only rows to quarantine.
   */
  mostly?: number;
}

/** The name of the row on a line of the input in messages: `17`, or `3 of part-2.csv` in a batch of files. */
export type RowNamer = (line: number) => string;

export interface Evaluator {
  readonly config: ExpectationConfig;
  readonly kind: ExpectationKind;
  /** The column a row's failure is reported under; null when the expectation is not about one column. */
  readonly column: string | null;
  /** finish() needs TableFacts.columns (for JSON Lines the engine then collects the keys it sees). */
  readonly needsColumns: boolean;
  /** Called once the columns are known (CSV header); undefined for JSON Lines. */
  begin(columns: readonly string[] | undefined): void;
  /**
   * Row-level expectations see each well-formed record and return why it is unexpected, if it is.
   * `value` is the record's value in `column` (undefined or null when it is null); `row` the whole record.
   */
  observe?(value: unknown, index: number, line: number, row: Row): string | undefined;
  /** About this many records will be observed (an estimate, once, early): room can be made up front. */
  expectRecords?(records: number): void;
  /**
   * How a message names the row on a line of the input, for expectations whose messages name
   * another row than the one observed (the first occurrence of a duplicate); called before any
   * record, and only for input joined from several files. By default the line's number.
   */
  nameRows?(name: RowNamer): void;
  finish(table: TableFacts): Finding;
  /**
   * What has been accumulated, as JSON: a shard's part of the finding (shard-state.ts). Given a
   * spill, what grows with the records (uniqueness keys, median values) is written there instead.
   */
  state(spill?: SpillWriter): unknown;
  /** In a shard: keep what only the merge can use (the counts of unexpected values past the cap). */
  countPastCap?(): void;
  /** The values partial_unexpected_counts counts (as countKey gives them). */
  countedValues?(): ReadonlySet<unknown>;
  /**
   * Adds a shard's state, as if its records had been observed here: shards come in input order,
   * and `place` says where the shard's records and lines are in the whole input.
   */
  absorb(state: unknown, place: ShardPlace): void;
}

/** The finding of an expectation that could not be evaluated: failed, with GX's exception_info. */
export function notEvaluated(config: ExpectationConfig, why: string): Finding {
  return {
    success: false,
    result: {},
    exception: why,
    summary: `${config.type}${columnPart(config)} could not be evaluated: ${why}`,
  };
}

/**
 * The counting every map expectation shares, over a column (column map) or several columns of a
 * record (multicolumn): elements looked at, missing ones (not looked at), unexpected ones shaped by
 * result_format, and `mostly`, the share of the looked-at ones that must pass (default 1).
 */
export abstract class MapEvaluator implements Evaluator {
  abstract readonly kind: ExpectationKind;
  abstract readonly column: string | null;
  readonly needsColumns = false;
  /** kwargs.mostly when the contract sets it; undefined means GX's default, 1. */
  protected readonly mostly: number | undefined;
  protected readonly format: ResultFormat;
  protected readonly unexpected: UnexpectedValues;
  protected elementCount = 0;
  protected missingCount = 0;
  /** Why the expectation cannot be evaluated, once known. */
  protected problem: string | undefined;

  constructor(readonly config: ExpectationConfig) {
    const { mostly } = config.kwargs;
    this.mostly = typeof mostly === 'number' ? mostly : undefined;
    this.format = parseResultFormat(config.kwargs);
    this.unexpected = new UnexpectedValues(this.format);
  }

  abstract begin(columns: readonly string[] | undefined): void;

  abstract finish(table: TableFacts): Finding;

  countPastCap(): void {
    this.unexpected.countPastCap();
  }

  countedValues(): ReadonlySet<unknown> {
    return this.unexpected.countedValues();
  }

  state(spill?: SpillWriter): MapState {
    return {
      elementCount: this.elementCount,
      missingCount: this.missingCount,
      problem: this.problem,
      unexpected: this.unexpected.state(spill),
    };
  }

  absorb(state: unknown, place: ShardPlace): void {
    const s = state as MapState;
    this.elementCount += s.elementCount;
    this.missingCount += s.missingCount;
    if (s.problem !== undefined) this.problem ??= place.text(s.problem);
    this.unexpected.absorb(s.unexpected, place.index, place.pastCap);
  }

  /**
   * The finding over `considered` values (GX's missing-aware counts: `nonNull` is null for an
   * expectation over every row). An explicit `mostly` travels on it: a failure then means more
   * unexpected rows than the contract allows.
   */
  protected mapFinding(considered: number, nonNull: number | null, summary: string): Finding {
    return {
      success: mostlySucceeds(considered, this.unexpected.count, this.mostly ?? 1),
      result: this.unexpected.mapResult(this.elementCount, nonNull),
      summary,
      ...(this.mostly === undefined ? {} : { mostly: this.mostly }),
    };
  }
}

/**
 * GX column-map semantics: null values are not looked at (except by not_be_null) and count as
 * missing; with no unexpected or no non-null values the expectation passes.
 */
export abstract class ColumnMapEvaluator extends MapEvaluator {
  readonly kind: ExpectationKind = 'column_map';
  readonly column: string;
  /** What the values should be, for messages: "values >= 0". */
  protected abstract readonly expected: string;

  constructor(config: ExpectationConfig) {
    super(config);
    this.column = String(config.kwargs.column);
  }

  begin(columns: readonly string[] | undefined): void {
    if (columns && !columns.includes(this.column)) {
      this.problem ??= `column '${this.column}' is not in the file (columns: ${listed(columns)})`;
    }
  }

  observe(value: unknown, index: number, line: number, row: Row): string | undefined {
    if (this.problem !== undefined) return undefined;
    this.elementCount++;
    if (value === undefined || value === null) {
      this.missingCount++;
      return undefined;
    }
    const reason = this.test(value, index, line);
    if (reason !== undefined) this.unexpected.add(index, value, row);
    return reason;
  }

  /** Why a non-null value is unexpected, or undefined when it is as expected. */
  protected abstract test(value: unknown, index: number, line: number): string | undefined;

  finish(_table: TableFacts): Finding {
    if (this.problem !== undefined) return notEvaluated(this.config, this.problem);
    const considered = this.elementCount - this.missingCount;
    return this.mapFinding(considered, considered, this.summary(considered, 'non-null values'));
  }

  protected summary(considered: number, what: string): string {
    const count = this.unexpected.count;
    const examples = this.unexpected.examples().map(show);
    const observed =
      count === 0
        ? `no unexpected values among ${considered} ${what}`
        : `${count} of ${considered} ${what} (${percent(count, considered)}) are unexpected${examples.length > 0 ? `, e.g. ${examples.join(', ')}` : ''}`;
    const budget =
      this.mostly === undefined
        ? ''
        : `; mostly ${this.mostly} allows at most ${percent(1 - this.mostly, 1)} unexpected`;
    return `${this.config.type} on column '${this.column}': ${observed}; expected ${this.expected}${budget}`;
  }
}

/**
 * A column map over every row, nulls included, as GX computes be_null and not_be_null: nulls are
 * what these look at, so there is no missing_count. Subclasses count each row in `observe`.
 */
export abstract class AllRowsColumnMapEvaluator extends ColumnMapEvaluator {
  protected test(): string | undefined {
    return undefined;
  }

  override finish(): Finding {
    if (this.problem !== undefined) return notEvaluated(this.config, this.problem);
    return this.mapFinding(this.elementCount, null, this.summary(this.elementCount, 'values'));
  }
}

/** GX: the share of considered values that passed must reach `mostly`; nothing to consider passes. */
export function mostlySucceeds(considered: number, unexpected: number, mostly: number): boolean {
  if (unexpected === 0 || considered === 0) return true;
  return (considered - unexpected) / considered >= mostly;
}

export abstract class TableEvaluator implements Evaluator {
  readonly kind: ExpectationKind = 'table';
  readonly column = null;
  readonly needsColumns: boolean = false;
  protected readonly format: ResultFormat;

  constructor(readonly config: ExpectationConfig) {
    this.format = parseResultFormat(config.kwargs);
  }

  begin(): void {}

  abstract finish(table: TableFacts): Finding;

  /** Table expectations judge what the merge knows of the whole table: nothing per shard. */
  state(): null {
    return null;
  }

  absorb(): void {}
}

/** A map evaluator's state: its counts, its problem (if any) and its unexpected values. */
export interface MapState {
  elementCount: number;
  missingCount: number;
  problem?: string | undefined;
  unexpected: UnexpectedState;
}

/** A value as messages show it: JSON, cut short when long. */
export function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** A share as a percentage for messages: "3.2%", "<0.01%". */
export function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const value = (part / whole) * 100;
  if (value > 0 && value < 0.01) return '<0.01%';
  return `${Number(value.toFixed(2))}%`;
}

export function listed(names: readonly string[]): string {
  const shown = names.slice(0, 12).join(', ');
  return names.length > 12 ? `${shown}, … (${names.length} in all)` : shown || '(none)';
}

export function columnPart(config: ExpectationConfig): string {
  return typeof config.kwargs.column === 'string' ? ` on column '${config.kwargs.column}'` : '';
}
