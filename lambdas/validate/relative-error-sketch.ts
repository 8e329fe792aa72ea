/**
 * Approximate quantiles with a relative error bound, for a median or quantile expectation whose
 * contract asks for it (`approximate: { relative_error: α }`): logarithmic buckets as in DDSketch
 * (Masson, Rim and Lee, VLDB 2019). A value x > 0 falls in bucket i = ⌈log_γ x⌉ with
 * γ = (1 + α) / (1 − α), which holds (γ^(i−1), γ^i]; the bucket's value 2γ^i / (γ + 1) is within
 * α·|x| of every x in it (negative values the same, mirrored). So the value read at any rank is
 * within α of the exact one, relatively. Zero, infinities and NaN are counted apart and read back
 * exactly. Memory: one count a bucket in use, bounded by the span of the values' magnitudes
 * (log_γ(max / min)), not by their number; sketches add, so shards merge exactly into the sketch
 * one pass builds.
 */
import type { SortedValues } from './spill-select.js';

/** A sketch as JSON: α, and each sign's buckets as [index, count] pairs; the exact counts apart. */
export interface SketchState {
  relativeError: number;
  positive: Array<[number, number]>;
  negative: Array<[number, number]>;
  zeros: number;
  negativeZeros: number;
  /** −∞, +∞, NaN. */
  special: [number, number, number];
}

export class RelativeErrorSketch {
  private readonly logGamma: number;
  private readonly gamma: number;
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private zeros = 0;
  private negativeZeros = 0;
  private readonly special: [number, number, number] = [0, 0, 0];
  length = 0;

  constructor(readonly relativeError: number) {
    this.gamma = (1 + relativeError) / (1 - relativeError);
    this.logGamma = Math.log(this.gamma);
  }

  push(x: number): void {
    this.length++;
    if (Number.isNaN(x)) this.special[2]++;
    else if (x === Number.POSITIVE_INFINITY) this.special[1]++;
    else if (x === Number.NEGATIVE_INFINITY) this.special[0]++;
    else if (x === 0) {
      if (Object.is(x, -0)) this.negativeZeros++;
      else this.zeros++;
    } else {
      const store = x > 0 ? this.positive : this.negative;
      const index = Math.ceil(Math.log(Math.abs(x)) / this.logGamma);
      store.set(index, (store.get(index) ?? 0) + 1);
    }
  }

  state(): SketchState {
    return {
      relativeError: this.relativeError,
      positive: [...this.positive],
      negative: [...this.negative],
      zeros: this.zeros,
      negativeZeros: this.negativeZeros,
      special: [...this.special],
    };
  }

  absorb(state: SketchState): void {
    for (const [index, count] of state.positive)
      this.positive.set(index, (this.positive.get(index) ?? 0) + count);
    for (const [index, count] of state.negative)
      this.negative.set(index, (this.negative.get(index) ?? 0) + count);
    this.zeros += state.zeros;
    this.negativeZeros += state.negativeZeros;
    state.special.forEach((count, k) => {
      this.special[k]! += count;
    });
    this.length +=
      state.zeros +
      state.negativeZeros +
      state.special.reduce((a, b) => a + b, 0) +
      [...state.positive, ...state.negative].reduce((sum, [, count]) => sum + count, 0);
  }

  /** The values in ascending order (as Float64Array.sort orders them), each bucket read as its value. */
  sorted(): SortedValues {
    const runs: Array<[number, number]> = [];
    const bucketValue = (index: number) => (2 * this.gamma ** index) / (this.gamma + 1);
    runs.push([Number.NEGATIVE_INFINITY, this.special[0]]);
    for (const index of [...this.negative.keys()].sort((a, b) => b - a)) {
      runs.push([-bucketValue(index), this.negative.get(index)!]);
    }
    runs.push([-0, this.negativeZeros], [0, this.zeros]);
    for (const index of [...this.positive.keys()].sort((a, b) => a - b)) {
      runs.push([bucketValue(index), this.positive.get(index)!]);
    }
    runs.push([Number.POSITIVE_INFINITY, this.special[1]], [Number.NaN, this.special[2]]);
    const ends: number[] = [];
    let total = 0;
    for (const [, count] of runs) {
      total += count;
      ends.push(total);
    }
    return {
      length: total,
      get: (i) => {
        if (!(i >= 0 && i < total)) return undefined;
        let low = 0;
        let high = ends.length - 1;
        while (low < high) {
          const middle = (low + high) >>> 1;
          if (ends[middle]! > i) high = middle;
          else low = middle + 1;
        }
        return runs[low]![0];
      },
    };
  }
}
