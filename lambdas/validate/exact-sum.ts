/**
 * An exact sum of doubles: the running sum is kept as a few non-overlapping partials whose total is
 * the true sum (Shewchuk's algorithm, as Python's math.fsum), and read out correctly rounded. The
 * result depends only on the values added, not on their order or grouping: a column's sum, mean and
 * standard deviation come out the same, to the last bit, whether the rows are read in one pass or in
 * shards whose sums are merged afterwards (shard-state.ts). A running `sum += x` would not: it
 * rounds at every step, and differently for each way of cutting the input.
 */
export class ExactSum {
  /** Non-overlapping partials, smallest magnitude first; their exact total is the sum. */
  private partials: number[] = [];
  /** Infinities and NaN, added as IEEE adds them: the sum is this when it is not 0. */
  private special = 0;

  add(x: number): void {
    if (!Number.isFinite(x)) {
      this.special += x;
      return;
    }
    const partials = this.partials;
    let i = 0;
    for (let j = 0; j < partials.length; j++) {
      let y = partials[j]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }

  /** Adds another exact sum (its partials are exact parts of its total). */
  addAll(other: ExactSumState): void {
    for (const p of other.partials) this.add(p);
    if (other.special !== 0) this.special += other.special ?? 0;
  }

  /** The sum, correctly rounded to the nearest double (ties to even). */
  value(): number {
    if (this.special !== 0 || Number.isNaN(this.special)) return this.special;
    const partials = this.partials;
    let n = partials.length;
    if (n === 0) return 0;
    let hi = partials[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = partials[--n]!;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Half-way cases: the partials below decide the rounding direction (as in math.fsum).
    if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }

  state(): ExactSumState {
    return { partials: [...this.partials], special: this.special };
  }

  /** The exact parts of the sum, for products (ExactMoments). */
  parts(): readonly number[] {
    return this.partials;
  }
}

/** ExactSum as JSON. A special of NaN or an infinity does not survive JSON (it becomes null). */
export interface ExactSumState {
  partials: number[];
  special: number | null;
}

/** 2^27 + 1: splits a double into two halves whose products are exact (Dekker). */
const SPLITTER = 134217729;

/** Adds a × b to `sum` exactly, as the rounded product and its rounding error (Dekker's two-product). */
export function addProduct(sum: ExactSum, a: number, b: number): void {
  const p = a * b;
  if (!Number.isFinite(p)) {
    sum.add(p);
    return;
  }
  let c = SPLITTER * a;
  const aHi = c - (c - a);
  const aLo = a - aHi;
  c = SPLITTER * b;
  const bHi = c - (c - b);
  const bLo = b - bHi;
  const error = aHi * bHi - p + aHi * bLo + aLo * bHi + aLo * bLo;
  sum.add(p);
  if (error !== 0) sum.add(error);
}
