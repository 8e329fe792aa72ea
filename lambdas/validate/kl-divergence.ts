/**
 * expect_column_kl_divergence_to_be_less_than, as GX computes it on pandas: the Kullback–Leibler
 * divergence of the column's distribution (observed) from a partition object (expected), which is
 * either continuous (bin edges and weights, the values bucketed into the bins, with tails below and
 * above them) or categorical (values and weights). internal_weight_holdout gives the expected
 * partition's empty bins some weight; tail_weight_holdout gives weight to values outside it.
 * The divergence is scipy's entropy(observed, expected), both normalised; an infinite or undefined
 * divergence is observed_value null and fails a threshold. No threshold: it is reported and passes.
 *
 * Without a partition object in the contract, core.ts takes it from the previous promoted run's
 * profile of the column (profile-kl.ts); with no such run there is nothing to compare with, and the
 * expectation passes with observed_value null and a note. It keeps a count per bin (continuous) or
 * per distinct value (categorical), which add up across shards.
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { AggregateEvaluator, type AggregateState } from './column-aggregate-expectations.js';
import type { Evaluator, Finding } from './evaluator.js';
import { countKey, keep } from './result-format.js';

export const KL_DIVERGENCE_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> = {
  expect_column_kl_divergence_to_be_less_than: (c) => new KlDivergence(c),
};

interface ContinuousPartition {
  bins: number[];
  weights: number[];
  tail_weights?: [number, number];
}

interface CategoricalPartition {
  values: unknown[];
  weights: number[];
}

type Partition = ContinuousPartition | CategoricalPartition;

interface KlState extends AggregateState {
  histogram?: number[];
  below?: number;
  above?: number;
  counts?: Array<[unknown, number]>;
}

/** scipy.stats.entropy(pk, qk): Σ p·ln(p/q) over p and q each normalised to sum 1. */
export function entropy(pk: readonly number[], qk: readonly number[]): number {
  const p = pk.reduce((a, b) => a + b, 0);
  const q = qk.reduce((a, b) => a + b, 0);
  let sum = 0;
  for (let i = 0; i < pk.length; i++) {
    const x = pk[i]! / p;
    const y = qk[i]! / q;
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
    if (x > 0) {
      if (y <= 0) return Number.POSITIVE_INFINITY;
      sum += x * Math.log(x / y);
    }
  }
  return sum;
}

class KlDivergence extends AggregateEvaluator {
  private readonly partition: Partition | undefined;
  private readonly histogram: number[] = [];
  private below = 0;
  private above = 0;
  private readonly counts = new Map<unknown, { value: unknown; count: number }>();

  constructor(config: ExpectationConfig) {
    super(config);
    const partition = config.kwargs.partition_object as Partition | null | undefined;
    this.partition = partition ?? undefined;
    if (this.partition && 'bins' in this.partition) {
      this.histogram = new Array<number>(this.partition.bins.length - 1).fill(0);
    }
  }

  protected add(value: unknown, line: number): void {
    const partition = this.partition;
    if (partition === undefined) return;
    if ('values' in partition) {
      const key = countKey(value);
      const entry = this.counts.get(key);
      if (entry) entry.count++;
      else this.counts.set(countKey(keep(value)), { value: keep(value), count: 1 });
      return;
    }
    const x = this.numberOf(value, line);
    if (x === undefined) return;
    const bins = partition.bins;
    const last = bins.length - 1;
    if (x < bins[0]!) this.below++;
    else if (x > bins[last]!) this.above++;
    else {
      // numpy.histogram: [b_i, b_i+1) for every bin but the last, which is closed.
      let lo = 0;
      let hi = last - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (bins[mid]! <= x) lo = mid;
        else hi = mid - 1;
      }
      this.histogram[lo]!++;
    }
  }

  override state(): KlState {
    return this.partition && 'bins' in this.partition
      ? { ...super.state(), histogram: [...this.histogram], below: this.below, above: this.above }
      : { ...super.state(), counts: [...this.counts.values()].map((e) => [e.value, e.count]) };
  }

  protected merge(state: AggregateState): void {
    const s = state as KlState;
    s.histogram?.forEach((c, i) => {
      this.histogram[i]! += c;
    });
    this.below += s.below ?? 0;
    this.above += s.above ?? 0;
    for (const [value, count] of s.counts ?? []) {
      const entry = this.counts.get(countKey(value));
      if (entry) entry.count += count;
      else this.counts.set(countKey(value), { value, count });
    }
  }

  protected judge(): Finding {
    const kwargs = this.config.kwargs;
    const threshold = (kwargs.threshold as number | null | undefined) ?? null;
    const expected = threshold === null ? 'any divergence (no threshold)' : `a KL divergence <= ${threshold}`;
    const partition = this.partition;
    if (partition === undefined) {
      const source = this.config.meta?.partition_source;
      return this.finding(true, null, expected, {
        note: `no partition_object in the contract, and none from the previous promoted run${typeof source === 'string' ? ` (${source})` : ''}: nothing to compare with`,
      });
    }
    const { kl, details } = 'values' in partition ? this.categorical(partition) : this.continuous(partition);
    const observed = Number.isFinite(kl) ? kl : null;
    const success = threshold === null ? true : kl <= threshold;
    return this.finding(success, observed, expected, details);
  }

  private categorical(partition: CategoricalPartition): { kl: number; details: Record<string, unknown> } {
    const tail = (this.config.kwargs.tail_weight_holdout as number | undefined) ?? 0;
    const nonNull = this.count;
    const expectedKeys = new Map(partition.values.map((v, i) => [countKey(v), i]));
    // The index of GX's joined frame: the partition's values, then the values it lacks, sorted.
    const extra = [...this.counts.values()]
      .filter((e) => !expectedKeys.has(countKey(e.value)))
      .sort((a, b) => compareValues(a.value, b.value));
    const values = [...partition.values, ...extra.map((e) => e.value)];
    const pk = values.map((v) => (this.counts.get(countKey(v))?.count ?? 0) / nonNull);
    const qk =
      extra.length > 0
        ? [...partition.weights.map((w) => w * (1 - tail)), ...extra.map(() => tail / extra.length)]
        : [...partition.weights];
    return {
      kl: entropy(pk, qk),
      details: {
        observed_partition: { values, weights: pk },
        expected_partition: { values, weights: qk },
      },
    };
  }

  private continuous(partition: ContinuousPartition): { kl: number; details: Record<string, unknown> } {
    const kwargs = this.config.kwargs;
    const tail = (kwargs.tail_weight_holdout as number | undefined) ?? 0;
    const internal = (kwargs.internal_weight_holdout as number | undefined) ?? 0;
    const nonNull = this.count;
    const bins = partition.bins;
    let observed = this.histogram.map((c) => c / nonNull);
    let expected = partition.weights.map((w) => w * (1 - tail - internal));
    if (internal > 0) {
      const zeros = expected.filter((w) => w === 0).length;
      if (zeros > 0) expected = expected.map((w) => (w === 0 ? internal / zeros : w));
    }
    const below = this.below / nonNull;
    const above = this.above / nonNull;
    const lowInfinite = bins[0] === Number.NEGATIVE_INFINITY;
    const highInfinite = bins[bins.length - 1] === Number.POSITIVE_INFINITY;
    let expectedBins: number[];
    let combExpected: number[];
    let combObserved: number[];
    let expectedTails: number[];
    let observedTails: number[];
    if (lowInfinite && highInfinite) {
      expectedBins = bins.slice(1, -1);
      combExpected = expected;
      combObserved = observed;
      expectedTails = [expected[0]!, expected[expected.length - 1]!];
      observedTails = [observed[0]!, observed[observed.length - 1]!];
      expected = expected.slice(1, -1);
      observed = observed.slice(1, -1);
    } else if (lowInfinite) {
      expectedBins = bins.slice(1);
      combExpected = [...expected, tail];
      combObserved = [...observed, above];
      expectedTails = [expected[0]!, tail];
      observedTails = [observed[0]!, above];
      expected = expected.slice(1);
      observed = observed.slice(1);
    } else if (highInfinite) {
      expectedBins = bins.slice(0, -1);
      combExpected = [tail, ...expected];
      combObserved = [below, ...observed];
      expectedTails = [tail, expected[expected.length - 1]!];
      observedTails = [below, observed[observed.length - 1]!];
      expected = expected.slice(0, -1);
      observed = observed.slice(0, -1);
    } else {
      expectedBins = bins;
      expectedTails = partition.tail_weights ? [...partition.tail_weights] : [tail / 2, tail / 2];
      combExpected = [expectedTails[0]!, ...expected, expectedTails[1]!];
      combObserved = [below, ...observed, above];
      observedTails = [below, above];
    }
    return {
      kl: entropy(combObserved, combExpected),
      details: {
        observed_partition: { bins: expectedBins, weights: observed, tail_weights: observedTails },
        expected_partition: { bins: expectedBins, weights: expected, tail_weights: expectedTails },
      },
    };
  }
}

/** pandas' sort of value_counts by value: numbers in order, then texts. */
function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
