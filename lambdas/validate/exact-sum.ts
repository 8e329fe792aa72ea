/**
 * An exact sum of doubles, read out correctly rounded. The result depends only on the values
 * added, not on their order or grouping: a column's sum, mean and standard deviation come out the
 * same, to the last bit, whether the rows are read in one pass or in shards whose sums are merged
 * afterwards (shard-merge.ts). A running `sum += x` would not: it rounds at every step, and
 * differently for each way of cutting the input.
 *
 * Adding is cheap: each value is cut (exactly) into three pieces at multiples of 2^32-wide bins
 * by its exponent, and each piece is added to its bin, where the sum of up to 2^21 pieces stays
 * exact in a double. Every 2^21 values, and when read, the bins are folded into a list of
 * non-overlapping partials (Shewchuk's algorithm, as Python's math.fsum), which is exact at any size.
 */
export class ExactSum {
  private readonly bins = new Float64Array(BINS + 2);
  private pending = 0;
  private readonly total = new Partials();

  add(x: number): void {
    if (x - x !== 0) {
      // Infinity or NaN (x − x is NaN for both).
      this.total.special += x;
      return;
    }
    BITS[0] = x;
    const exponent = (WORDS[1]! >>> 20) & 0x7ff;
    // The bin of x's last bit: x is a multiple of 2^(32b − 1074) below 2^(32b − 1074 + 84).
    const b = ((exponent === 0 ? 1 : exponent) - 1) >>> 5;
    if (b >= BINS) {
      this.total.add(x);
      return;
    }
    const high = x + ROUND_HIGH[b]! - ROUND_HIGH[b]!;
    const rest = x - high;
    const middle = rest + ROUND_MIDDLE[b]! - ROUND_MIDDLE[b]!;
    const bins = this.bins;
    bins[b + 2]! += high;
    bins[b + 1]! += middle;
    bins[b]! += rest - middle;
    if (++this.pending === FOLD_EVERY) this.fold();
  }

  /** Adds another exact sum's parts (each exact, so their total is exactly its sum). */
  addAll(other: ExactSumState): void {
    for (const p of other.partials) this.total.add(p);
    if (other.special !== 0) this.total.special += other.special ?? Number.NaN;
  }

  /** The sum, correctly rounded to the nearest double (ties to even). */
  value(): number {
    this.fold();
    return this.total.value();
  }

  state(): ExactSumState {
    this.fold();
    return { partials: [...this.total.parts()], special: this.total.special };
  }

  /** Non-overlapping doubles whose exact total is the sum (no infinities or NaN among them). */
  parts(): Float64Array {
    this.fold();
    return this.total.parts();
  }

  private fold(): void {
    const bins = this.bins;
    for (let b = 0; b < bins.length; b++) {
      if (bins[b] !== 0) {
        this.total.add(bins[b]!);
        bins[b] = 0;
      }
    }
    this.pending = 0;
  }
}

/** Bins below 2^910: a larger value (beyond any data) goes to the partials directly. */
const BINS = 62;
/** Pieces are below 2^32 units of their bin: 2^21 of them add up exactly within a double's 53 bits. */
const FOLD_EVERY = 1 << 21;
/** x + c − c rounds x to a multiple of 2^k when c = 1.5 × 2^(k + 52) and |x| < 2^(k + 51). */
const ROUND_HIGH = Float64Array.from({ length: BINS }, (_, b) => 1.5 * 2 ** (32 * (b + 2) - 1074 + 52));
const ROUND_MIDDLE = Float64Array.from({ length: BINS }, (_, b) => 1.5 * 2 ** (32 * (b + 1) - 1074 + 52));
/** A double's bits, to read its exponent (little-endian words, as on every platform Node runs on here). */
const BITS = new Float64Array(1);
const WORDS = new Uint32Array(BITS.buffer);

/**
 * Non-overlapping partials, smallest magnitude first, whose exact total is the sum (Shewchuk).
 * Usually a few; values spread over the whole range of doubles can make more (grown on demand).
 */
class Partials {
  private partials = new Float64Array(16);
  private count = 0;
  /** Infinities and NaN, added as IEEE adds them: the sum is this when it is not 0. */
  special = 0;

  add(value: number): void {
    let x = value;
    const partials = this.partials;
    const count = this.count;
    let i = 0;
    for (let j = 0; j < count; j++) {
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
    if (i === partials.length) {
      this.partials = new Float64Array(partials.length * 2);
      this.partials.set(partials);
    }
    this.partials[i] = x;
    this.count = i + 1;
  }

  value(): number {
    if (this.special !== 0) return this.special;
    const partials = this.partials;
    let n = this.count;
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

  parts(): Float64Array {
    return this.partials.subarray(0, this.count);
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

/**
 * The sample standard deviation (ddof 1, as pandas) of `n` values from the exact sums of the values
 * and of their squares: n·Σx² − (Σx)² computed exactly and rounded once, over n(n − 1). The same to
 * the last bit however the values were cut into shards. Null under two values.
 */
export function exactStdev(n: number, sum: ExactSum, squares: ExactSum): number | null {
  if (n < 2) return null;
  const spread = new ExactSum();
  for (const q of squares.parts()) addProduct(spread, q, n);
  const parts = sum.parts();
  for (const a of parts) for (const b of parts) addProduct(spread, -a, b);
  if (!Number.isFinite(sum.value()) || !Number.isFinite(squares.value())) return Number.NaN;
  return Math.sqrt(Math.max(0, spread.value()) / (n * (n - 1)));
}
