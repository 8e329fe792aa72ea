/**
 * Great Expectations' result shapes (ExpectationSuiteValidationResult and friends, snake_case as
 * GX writes them) and `result_format`: how much of each result is reported.
 */
import type { Severity } from '../shared/contract.js';
import { MalformedInput } from '../shared/errors.js';
import { RESULT_FORMAT_LEVELS, type ResultFormatLevel } from '../shared/result-format-levels.js';
import type { SpillWriter } from './spill.js';

export type { ResultFormatLevel } from '../shared/result-format-levels.js';

export interface ResultFormat {
  level: ResultFormatLevel;
  /** How many unexpected values the partial lists hold (GX default 20). */
  partialCount: number;
  includeUnexpectedRows: boolean;
}

export interface ExceptionInfo {
  raised_exception: boolean;
  exception_message: string | null;
  exception_traceback: string | null;
}

export interface ExpectationResultConfig {
  type: string;
  kwargs: Record<string, unknown>;
  meta?: Record<string, unknown>;
  severity: Severity;
}

/** `result` of one expectation; which keys are present depends on its kind and result_format. */
export interface ExpectationResultDetails {
  element_count?: number;
  unexpected_count?: number;
  unexpected_percent?: number | null;
  partial_unexpected_list?: unknown[];
  /** GX 1.x distinct-values expectations: the set's values the column lacks. */
  partial_missing_list?: unknown[];
  missing_count?: number;
  missing_percent?: number | null;
  unexpected_percent_total?: number | null;
  unexpected_percent_nonmissing?: number | null;
  unexpected_rows?: Record<string, unknown>[];
  partial_unexpected_index_list?: number[];
  partial_unexpected_counts?: Array<{ value: unknown; count: number }>;
  unexpected_list?: unknown[];
  unexpected_index_list?: number[];
  observed_value?: unknown;
  details?: Record<string, unknown>;
}

export interface ExpectationValidationResult {
  success: boolean;
  expectation_config: ExpectationResultConfig;
  result: ExpectationResultDetails;
  exception_info: ExceptionInfo;
}

export interface SuiteStatistics {
  evaluated_expectations: number;
  successful_expectations: number;
  unsuccessful_expectations: number;
  success_percent: number | null;
}

export interface SuiteValidationResult {
  success: boolean;
  results: ExpectationValidationResult[];
  statistics: SuiteStatistics;
  meta: {
    expectation_suite_name: string;
    validation_time: string;
    batch_spec: { path?: string; format: 'csv' | 'jsonl' };
    /** The CSV header, or for JSON Lines the keys seen (when an expectation needed them). */
    columns?: string[];
    rows: { read: number; valid: number; quarantined: number };
    on_failure: 'quarantine' | 'reject';
    /** Set when validation stopped before the end of the file, and why. */
    stopped_early?: string;
    /** Set when `scope: snapshot` expectations were evaluated: the curated batches read, those replaced, rows. */
    snapshot?: { batches: number; replaced: string[]; rows: number };
  };
}

/** An expectation's result as published: without its config when the expectation says include_config: false. */
export type PublishedExpectationResult = Omit<ExpectationValidationResult, 'expectation_config'> &
  Partial<Pick<ExpectationValidationResult, 'expectation_config'>>;

export interface PublishedSuiteResult extends Omit<SuiteValidationResult, 'results'> {
  results: PublishedExpectationResult[];
}

/**
 * The suite result as written for readers (the report JSON, `sluice validate --json`): as GX
 * does, a result leaves out its expectation_config when the expectation's kwargs say
 * include_config: false. Sluice itself (the decision, data docs, the summary) reads the whole result.
 */
export function publishedResult(result: SuiteValidationResult): PublishedSuiteResult {
  return {
    ...result,
    results: result.results.map((entry) => {
      if (entry.expectation_config.kwargs.include_config !== false) return entry;
      const { expectation_config: _left, ...rest } = entry;
      return rest;
    }),
  };
}

/** Reads kwargs.result_format (a level name or GX's object form); GX's default is SUMMARY. */
export function parseResultFormat(kwargs: Record<string, unknown>): ResultFormat {
  const given = kwargs.result_format;
  const spec: Record<string, unknown> =
    typeof given === 'string'
      ? { result_format: given }
      : given && typeof given === 'object'
        ? { ...given }
        : {};
  const level = RESULT_FORMAT_LEVELS.includes(spec.result_format as ResultFormatLevel)
    ? (spec.result_format as ResultFormatLevel)
    : 'SUMMARY';
  const partialCount = typeof spec.partial_unexpected_count === 'number' ? spec.partial_unexpected_count : 20;
  return { level, partialCount, includeUnexpectedRows: spec.include_unexpected_rows === true };
}

/** Distinct unexpected values counted exactly for partial_unexpected_counts; past this, new values are not counted. */
export const MAX_COUNTED_VALUES = 10_000;

/** A value counted for partial_unexpected_counts, and the record being read when it was first counted. */
interface CountedValue {
  value: unknown;
  count: number;
  at: number;
}

/**
 * What an expectation keeps about its unexpected values while the stream passes: the count,
 * the first few (by record index), their counts, and everything only when COMPLETE asks for it.
 *
 * partial_unexpected_counts counts the first MAX_COUNTED_VALUES distinct values to be found
 * unexpected, each with all its occurrences. Which ones those are is decided by `at`, the record
 * being read when a value was first counted, so that shards merged in any order of their events
 * pick the ones one pass picks. A shard also counts the values past its own cap (`countPastCap`):
 * one of them may be among the whole input's first, found in an earlier shard.
 */
export class UnexpectedValues {
  count = 0;
  /** The `partialCount` unexpected entries with the lowest record indices, sorted by index. */
  private readonly partial: Array<{
    index: number;
    value: unknown;
    row: Record<string, unknown> | undefined;
  }> = [];
  private readonly counts: Map<unknown, CountedValue> | undefined;
  /** In a shard: the values found past the cap of `counts`, with their counts. */
  private pastCap: Map<unknown, { value: unknown; count: number }> | undefined;
  /** While merging: shards' counts are taken without the cap, which `settle` then applies by `at`. */
  private merging = false;
  /** While merging: the last shard's counts past its cap, added to the values counted once that shard is in. */
  private pendingPastCap: Array<Array<[unknown, number]>> = [];
  private readonly indices: number[] | undefined;
  private readonly values: unknown[] | undefined;
  private sorted = true;

  constructor(private readonly format: ResultFormat) {
    if (format.level === 'SUMMARY' || format.level === 'COMPLETE') this.counts = new Map();
    if (format.level === 'COMPLETE') {
      this.indices = [];
      this.values = [];
    }
  }

  /**
   * In a shard: counts every value, also past MAX_COUNTED_VALUES, so that the merge can complete
   * the counts of the whole input's first values (memory grows with the shard's distinct unexpected values).
   */
  countPastCap(): void {
    if (this.counts) this.pastCap ??= new Map();
  }

  /** The values partial_unexpected_counts counts, as countKey gives them. */
  countedValues(): ReadonlySet<unknown> {
    this.settle();
    return new Set(this.counts?.keys());
  }

  /**
   * Records one unexpected value. Indices usually arrive in order; out-of-order ones are placed
   * where they belong. `at` is the record being read (by default `index`): a duplicate's first
   * record becomes unexpected when the second one is read.
   */
  add(index: number, value: unknown, row?: Record<string, unknown>, at = index): void {
    this.count++;
    const { level, partialCount, includeUnexpectedRows } = this.format;
    if (level === 'BOOLEAN_ONLY') return;
    const partial = this.partial;
    if (partial.length < partialCount || index < partial[partial.length - 1]!.index) {
      const kept = { index, value: keep(value), row: includeUnexpectedRows && row ? { ...row } : undefined };
      let at = partial.length;
      while (at > 0 && partial[at - 1]!.index > index) at--;
      partial.splice(at, 0, kept);
      if (partial.length > partialCount) partial.pop();
    }
    if (this.counts) {
      const key = countKey(value);
      const entry = this.counts.get(key);
      if (entry) {
        entry.count++;
        if (at < entry.at) entry.at = at;
      } else if (this.merging || this.counts.size < MAX_COUNTED_VALUES) {
        const kept = keep(value);
        this.counts.set(countKey(kept), { value: kept, count: 1, at });
      } else if (this.pastCap) {
        const past = this.pastCap.get(key);
        if (past) past.count++;
        else {
          const kept = keep(value);
          this.pastCap.set(countKey(kept), { value: kept, count: 1 });
        }
      }
    }
    if (this.indices && this.values) {
      if (this.indices.length > 0 && index < this.indices[this.indices.length - 1]!) this.sorted = false;
      this.indices.push(index);
      this.values.push(keep(value));
    }
  }

  /** GX's _format_map_output: the `result` of a column-map expectation for the configured result_format. */
  mapResult(elementCount: number, nonNullCount: number | null): ExpectationResultDetails {
    const { level, partialCount, includeUnexpectedRows } = this.format;
    if (level === 'BOOLEAN_ONLY') return {};
    this.settle();
    const unexpectedCount = this.count;
    const missingCount = nonNullCount === null ? null : elementCount - nonNullCount;
    let unexpectedPercentTotal: number | null = null;
    let unexpectedPercentNonMissing: number | null = null;
    let missingPercent: number | null = null;
    if (elementCount > 0) {
      unexpectedPercentTotal = (unexpectedCount / elementCount) * 100;
      if (missingCount !== null && nonNullCount !== null) {
        missingPercent = (missingCount / elementCount) * 100;
        unexpectedPercentNonMissing = nonNullCount > 0 ? (unexpectedCount / nonNullCount) * 100 : null;
      } else {
        unexpectedPercentNonMissing = unexpectedPercentTotal;
      }
    }
    const result: ExpectationResultDetails = {
      element_count: elementCount,
      unexpected_count: unexpectedCount,
      unexpected_percent: unexpectedPercentNonMissing,
      partial_unexpected_list: this.partial.map((p) => p.value),
    };
    if (missingCount !== null) {
      result.missing_count = missingCount;
      result.missing_percent = missingPercent;
      result.unexpected_percent_total = unexpectedPercentTotal;
      result.unexpected_percent_nonmissing = unexpectedPercentNonMissing;
    }
    if (includeUnexpectedRows) {
      result.unexpected_rows = this.partial.flatMap((p) => (p.row ? [p.row] : []));
    }
    if (level === 'BASIC') return result;
    result.partial_unexpected_index_list = this.partial.map((p) => p.index);
    if (partialCount > 0 && this.counts) {
      result.partial_unexpected_counts = [...this.counts.values()]
        .sort((a, b) => b.count - a.count || compareValues(a.value, b.value) || a.at - b.at)
        .slice(0, partialCount)
        .map(({ value, count }) => ({ value, count }));
    }
    if (level === 'SUMMARY') return result;
    const indices = this.indices ?? [];
    const values = this.values ?? [];
    if (this.sorted) {
      result.unexpected_list = values;
      result.unexpected_index_list = indices;
    } else {
      const order = indices.map((_, i) => i).sort((a, b) => indices[a]! - indices[b]!);
      result.unexpected_list = order.map((i) => values[i]);
      result.unexpected_index_list = order.map((i) => indices[i]!);
    }
    return result;
  }

  /**
   * What has been kept so far, as JSON, for a later merge with other parts of the same input
   * (shard-state.ts). Given a spill, the counts past the cap are written there (`<evaluator>/
   * past-cap/s<shard>`, JSON Lines of [value, count]) instead of travelling in the state.
   */
  state(spill?: SpillWriter): UnexpectedState {
    this.settle();
    let pastCap: UnexpectedState['pastCap'];
    if (this.pastCap && this.pastCap.size > 0) {
      const entries = [...this.pastCap.values()].map((e): [unknown, number] => [e.value, e.count]);
      if (spill === undefined) pastCap = entries;
      else {
        const bytes = Buffer.from(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
        pastCap = { spilled: spill.put(`past-cap/s${spill.shard}`, bytes), bytes: bytes.length };
      }
    }
    return {
      count: this.count,
      partial: this.partial.map((p) => (p.row ? [p.index, p.value, p.row] : [p.index, p.value])),
      counts: this.counts ? [...this.counts.values()].map((e) => [e.value, e.count, e.at]) : undefined,
      ...(pastCap === undefined ? {} : { pastCap }),
      indices: this.indices,
      values: this.values,
    };
  }

  /**
   * Adds what another part of the input kept, whose record indices start at `offset`, as if its
   * records had been added here one by one: the same first entries, counts and lists. The parts
   * come in order. `spilledPastCap` is what resolveSpill read of this part's spilled counts past
   * its cap (only the values that can be among the whole input's counted ones).
   */
  absorb(state: UnexpectedState, offset: number, spilledPastCap?: Array<[unknown, number]>): void {
    this.settle();
    this.merging = true;
    this.count += state.count;
    const { partialCount } = this.format;
    for (const [index, value, row] of state.partial) {
      this.partial.push({ index: index + offset, value, row });
    }
    this.partial.sort((a, b) => a.index - b.index);
    if (this.partial.length > partialCount) this.partial.length = partialCount;
    if (this.counts && state.counts) {
      for (const [value, count, at] of state.counts) {
        const entry = this.counts.get(countKey(value));
        if (entry) {
          entry.count += count;
          if (at + offset < entry.at) entry.at = at + offset;
        } else this.counts.set(countKey(value), { value, count, at: at + offset });
      }
      const past = state.pastCap;
      if (Array.isArray(past)) this.pendingPastCap.push(past);
      else if (past !== undefined) {
        if (spilledPastCap === undefined) {
          throw new MalformedInput(
            `a shard outcome spilled its unexpected value counts (${past.spilled}), and the merge was given none of them (resolveSpill)`,
          );
        }
        this.pendingPastCap.push(spilledPastCap);
      }
    }
    if (this.indices && this.values && state.indices && state.values) {
      for (let i = 0; i < state.indices.length; i++) {
        const index = state.indices[i]! + offset;
        if (this.indices.length > 0 && index < this.indices[this.indices.length - 1]!) this.sorted = false;
        this.indices.push(index);
        this.values.push(state.values[i]);
      }
    }
  }

  /**
   * While merging, once a part and what the merge added for its records are in: completes the
   * counts with the part's counts past its cap, and keeps the MAX_COUNTED_VALUES values first
   * counted (by `at`), as one pass keeps them. A later part's records come after all of these,
   * so no value it brings can displace them.
   */
  private settle(): void {
    const counts = this.counts;
    if (!counts || !this.merging) return;
    for (const entries of this.pendingPastCap) {
      for (const [value, count] of entries) {
        const entry = counts.get(countKey(value));
        if (entry) entry.count += count;
      }
    }
    this.pendingPastCap = [];
    if (counts.size <= MAX_COUNTED_VALUES) return;
    const first = [...counts.entries()].sort((a, b) => a[1].at - b[1].at).slice(0, MAX_COUNTED_VALUES);
    counts.clear();
    for (const [key, entry] of first) counts.set(key, entry);
  }

  /** The first few unexpected values, for messages. */
  examples(limit = 3): unknown[] {
    return this.partial.slice(0, limit).map((p) => p.value);
  }
}

/** UnexpectedValues as JSON: partial entries as [index, value] or [index, value, row]. */
export interface UnexpectedState {
  count: number;
  partial: Array<[number, unknown] | [number, unknown, Record<string, unknown>]>;
  /** The counted values in first-counted order: [value, count, record being read when first counted]. */
  counts: Array<[unknown, number, number]> | undefined;
  /** A shard's counts of the values past its cap: in the state, or where the spill holds them (JSON Lines). */
  pastCap?: Array<[unknown, number]> | { spilled: string; bytes: number };
  indices: number[] | undefined;
  values: unknown[] | undefined;
}

/** GX's `result` for a table or aggregate expectation. */
export function observedResult(
  format: ResultFormat,
  observedValue: unknown,
  details?: Record<string, unknown>,
): ExpectationResultDetails {
  if (format.level === 'BOOLEAN_ONLY') return {};
  return details ? { observed_value: observedValue, details } : { observed_value: observedValue };
}

export const NO_EXCEPTION: ExceptionInfo = Object.freeze({
  raised_exception: false,
  exception_message: null,
  exception_traceback: null,
});

/**
 * A copy of a string that does not share memory with the text it was cut from. V8 may keep a
 * short slice of a large string as a view of it; a value kept for the whole run would then hold
 * on to the whole piece of the file it came from.
 */
export function keep<T>(value: T): T {
  return (typeof value === 'string' && value.length >= 13 ? (` ${value}`.slice(1) as T) : value) as T;
}

/** A Map key under which equal values meet: primitives as they are, objects by their JSON. */
export function countKey(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? `\u0000${JSON.stringify(value)}` : value;
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
