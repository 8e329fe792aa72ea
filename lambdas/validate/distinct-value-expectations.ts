/**
 * Column-aggregate expectations on a column's distinct values: their count and share, the set they
 * form, the most common one. Each keeps a map of each distinct non-null value to its count; like
 * every column aggregate, a failure is about the batch and never quarantines a row.
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { AggregateEvaluator, type AggregateState, between } from './column-aggregate-expectations.js';
import { decimal } from './decimal.js';
import { type Evaluator, type Finding, show } from './evaluator.js';
import { countKey, type ExpectationResultDetails, keep } from './result-format.js';

/** How many values GX lists of the distinct values outside the set or missing from the column. */
const MAX_DISTINCT_VALUES = 20;

export const DISTINCT_VALUE_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> = {
  expect_column_unique_value_count_to_be_between: (c) => new DistinctCount(c, 'count'),
  expect_column_proportion_of_unique_values_to_be_between: (c) => new DistinctCount(c, 'proportion'),
  expect_column_distinct_values_to_be_in_set: (c) => new DistinctSet(c, 'in'),
  expect_column_distinct_values_to_contain_set: (c) => new DistinctSet(c, 'contain'),
  expect_column_distinct_values_to_equal_set: (c) => new DistinctSet(c, 'equal'),
  expect_column_most_common_value_to_be_in_set: (c) => new MostCommon(c),
};

/** Each distinct non-null value and how often it occurs. */
abstract class DistinctEvaluator extends AggregateEvaluator {
  protected readonly counts = new Map<unknown, { value: unknown; count: number }>();
  /** value_set holds numbers: a text value that reads as a number counts as that number. */
  protected readonly numeric: boolean;

  constructor(config: ExpectationConfig) {
    super(config);
    const set = config.kwargs.value_set;
    this.numeric = Array.isArray(set) && set.some((v) => typeof v === 'number');
  }

  protected add(value: unknown): void {
    const v = this.numeric && typeof value === 'string' ? (decimal(value) ?? value) : value;
    const key = countKey(v);
    const entry = this.counts.get(key);
    if (entry) entry.count++;
    else this.counts.set(countKey(keep(v)), { value: keep(v), count: 1 });
  }

  override state(): AggregateState & { counts: Array<[unknown, number]> } {
    return { ...super.state(), counts: [...this.counts.values()].map((e) => [e.value, e.count]) };
  }

  /** Counts add up; a value first seen in a later shard comes after the earlier shards' values, as in one pass. */
  protected merge(state: AggregateState): void {
    for (const [value, count] of (state as AggregateState & { counts: Array<[unknown, number]> }).counts) {
      const entry = this.counts.get(countKey(value));
      if (entry) entry.count += count;
      else this.counts.set(countKey(value), { value, count });
    }
  }

  protected distinct(): unknown[] {
    return [...this.counts.values()].map((e) => e.value).sort(compare);
  }
}

class DistinctCount extends DistinctEvaluator {
  constructor(
    config: ExpectationConfig,
    private readonly which: 'count' | 'proportion',
  ) {
    super(config);
  }

  protected judge(): Finding {
    const distinct = this.counts.size;
    // GX's proportion is 0, not undefined, when the column has no values.
    const observed = this.which === 'count' ? distinct : this.count === 0 ? 0 : distinct / this.count;
    const { success, expected } = between(observed, this.config.kwargs);
    return this.finding(success, observed, expected);
  }
}

class DistinctSet extends DistinctEvaluator {
  constructor(
    config: ExpectationConfig,
    private readonly relation: 'in' | 'contain' | 'equal',
  ) {
    super(config);
  }

  /**
   * As GX 1.x (since 1.10) reports these: no observed value, but the distinct values outside the set
   * (`unexpected_count`, `partial_unexpected_list`: in_set, equal_set) and the set's values the
   * column lacks (`missing_count`, `partial_missing_list`: contain_set, equal_set), each list
   * sorted and cut at GX's 20 (none when `partial_unexpected_count` is 0).
   */
  protected judge(): Finding {
    const given = this.config.kwargs.value_set as unknown[] | null | undefined;
    const observed = this.distinct();
    const expectedSet = new Set((given ?? []).map(countKey));
    const observedSet = new Set(observed.map(countKey));
    const extra =
      given === null || given === undefined ? [] : observed.filter((v) => !expectedSet.has(countKey(v)));
    const missing = (given ?? []).filter((v) => !observedSet.has(countKey(v))).sort(compare);
    const success =
      this.relation === 'in'
        ? extra.length === 0
        : this.relation === 'contain'
          ? missing.length === 0
          : extra.length === 0 && missing.length === 0;
    const words = {
      in: 'distinct values within',
      contain: 'distinct values including',
      equal: 'distinct values equal to',
    };
    const expected =
      given === null || given === undefined ? 'any values' : `${words[this.relation]} ${show(given)}`;
    const lists = this.format.partialCount > 0;
    const result: ExpectationResultDetails = { observed_value: null };
    if (this.relation !== 'contain') {
      result.unexpected_count = extra.length;
      if (lists) result.partial_unexpected_list = extra.slice(0, MAX_DISTINCT_VALUES);
    }
    if (this.relation !== 'in') {
      result.missing_count = missing.length;
      if (lists) result.partial_missing_list = missing.slice(0, MAX_DISTINCT_VALUES);
    }
    return {
      success,
      result: this.format.level === 'BOOLEAN_ONLY' ? {} : result,
      summary: `${this.config.type} on column '${this.column}': observed ${show(observed)}; expected ${expected}`,
    };
  }
}

/** GX: the most common value(s); with ties_okay any of them may be in the set, without it there must be one. */
class MostCommon extends DistinctEvaluator {
  protected judge(): Finding {
    const set = new Set(((this.config.kwargs.value_set as unknown[] | undefined) ?? []).map(countKey));
    let top = 0;
    for (const { count } of this.counts.values()) top = Math.max(top, count);
    const modes = [...this.counts.values()]
      .filter((e) => e.count === top)
      .map((e) => e.value)
      .sort(compare);
    const inSet = modes.filter((m) => set.has(countKey(m))).length;
    const success = this.config.kwargs.ties_okay === true ? inSet > 0 : modes.length === 1 && inSet === 1;
    return this.finding(success, modes, `the most common value in ${show(this.config.kwargs.value_set)}`);
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a !== typeof b) return typeof a < typeof b ? -1 : 1;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
