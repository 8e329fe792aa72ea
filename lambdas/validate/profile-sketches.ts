/**
 * The two mergeable summaries a column profile keeps besides counts and moments: a HyperLogLog
 * sketch of the distinct values (once a column has more than profile.ts tracks exactly), and a
 * histogram whose bins widen as the values spread. Both add up across shards into what one pass
 * over the same values builds, so the sharded path profiles exactly as the single pass does.
 */

/** 2^12 registers: a standard error of 1.04 / √4096 ≈ 1.6% on the distinct count, 4 KiB a column. */
export const HLL_PRECISION = 12;
const REGISTERS = 1 << HLL_PRECISION;
/** The standard error of the distinct-count estimate (Flajolet et al., 2007). */
export const HLL_RELATIVE_ERROR = 1.04 / Math.sqrt(REGISTERS);

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

/** MurmurHash3's finaliser: spreads every input bit over the 32 output bits. */
function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A 32-bit hash of a profiled value: a string's UTF-16 units, a number's IEEE bits, anything else as JSON. */
export function hashValue(value: unknown): number {
  if (typeof value === 'number') {
    scratch[0] = value === 0 ? 0 : value; // -0 and 0 are one value, as in a Map
    return mix(Math.imul(scratchWords[0]!, 0x9e3779b1) ^ mix(scratchWords[1]! ^ 0x7f4a7c15));
  }
  const text = typeof value === 'string' ? value : `\u0001${JSON.stringify(value)}`;
  // Two UTF-16 units a step, each step a multiply: half the steps of a unit-by-unit FNV-1a.
  let h = 0x811c9dc5 ^ text.length;
  const pairs = text.length & ~1;
  for (let i = 0; i < pairs; i += 2) {
    h = Math.imul(h ^ (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)), 0x01000193);
    h ^= h >>> 15;
  }
  if (pairs < text.length) h = Math.imul(h ^ text.charCodeAt(pairs), 0x01000193);
  return mix(h);
}

/** HyperLogLog (Flajolet, Fusy, Gandouet and Meunier, 2007) with its small- and large-range corrections. */
export class DistinctSketch {
  readonly registers: Uint8Array;

  constructor(registers?: Uint8Array) {
    this.registers = registers ?? new Uint8Array(REGISTERS);
  }

  add(value: unknown): void {
    const h = hashValue(value);
    const index = h >>> (32 - HLL_PRECISION);
    const rank = Math.min(Math.clz32(h << HLL_PRECISION) + 1, 32 - HLL_PRECISION + 1);
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /** The union of both sketches' values: each register's maximum. */
  merge(other: DistinctSketch): void {
    for (let i = 0; i < REGISTERS; i++) {
      if (other.registers[i]! > this.registers[i]!) this.registers[i] = other.registers[i]!;
    }
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < REGISTERS; i++) {
      const r = this.registers[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / REGISTERS);
    const raw = (alpha * REGISTERS * REGISTERS) / sum;
    if (raw <= 2.5 * REGISTERS && zeros > 0) return Math.round(REGISTERS * Math.log(REGISTERS / zeros));
    const two32 = 2 ** 32;
    if (raw > two32 / 30) return Math.round(-two32 * Math.log(1 - raw / two32));
    return Math.round(raw);
  }

  toJSON(): string {
    return Buffer.from(this.registers).toString('base64');
  }

  static fromJSON(text: string): DistinctSketch {
    return new DistinctSketch(new Uint8Array(Buffer.from(text, 'base64')));
  }
}

/** Bins a histogram keeps while values arrive; the report regroups them into at most DISPLAY_BINS. */
const SLOTS = 64;
export const DISPLAY_BINS = 32;

export interface HistogramState {
  /** Bin width 2^exponent; absent while no value was added. */
  exponent?: number;
  /** The absolute index (value / width, floored) of the first bin in `counts`. */
  start: number;
  counts: number[];
}

/**
 * Equal-width bins of width 2^k over the values seen: a value x falls in bin ⌊x / 2^k⌋. When the
 * values span more than SLOTS bins, k grows by one and neighbouring bins pair up, so the counts
 * stay exact (each value is in exactly one bin) while memory stays at SLOTS numbers. Powers of two
 * make a wider bin exactly the union of two narrower ones: shards with different widths merge by
 * widening the narrower one first.
 */
export class GrowingHistogram {
  private exponent: number | undefined;
  /** 2^-k, so that a bin index is one multiplication. */
  private inverse = 1;
  private start = 0;
  private counts = new Float64Array(SLOTS);

  /** `integers`: bins narrower than 1 say nothing about integers, so the width starts at 1 or more. */
  constructor(private readonly integers = false) {}

  add(x: number, count = 1): void {
    if (this.exponent === undefined) this.setExponent(this.firstExponent(x));
    const index = Math.floor(x * this.inverse);
    const slot = index - this.start;
    if (slot >= 0 && slot < SLOTS) this.counts[slot]! += count;
    else this.addAt(index, count);
  }

  /**
   * Bins start far narrower than the values (2^-40 of the first one's magnitude) and widen as the
   * values spread: the width settles at the narrowest power of two whose SLOTS bins span them,
   * whatever their offset (years, instants in ms) and spread.
   */
  private firstExponent(x: number): number {
    const magnitude = x === 0 ? -40 : Math.floor(Math.log2(Math.abs(x))) - 40;
    return this.integers ? Math.max(0, magnitude) : Math.max(magnitude, -1000);
  }

  private setExponent(exponent: number): void {
    this.exponent = exponent;
    this.inverse = 2 ** -exponent;
  }

  /** Adds `count` at absolute bin `index` (at the current width), widening or moving the window first. */
  private addAt(index: number, count: number): void {
    let i = index;
    for (;;) {
      const used = this.usedRange();
      const low = used ? Math.min(used[0], i) : i;
      const high = used ? Math.max(used[1], i) : i;
      if (high - low < SLOTS) {
        if (i < this.start || i >= this.start + SLOTS) this.moveTo(low);
        this.counts[i - this.start]! += count;
        return;
      }
      this.widen();
      i = Math.floor(i / 2);
    }
  }

  /** The absolute indexes of the first and last bins holding values. */
  private usedRange(): [number, number] | undefined {
    let first = -1;
    let last = -1;
    for (let s = 0; s < SLOTS; s++) {
      if (this.counts[s]! > 0) {
        if (first < 0) first = s;
        last = s;
      }
    }
    return first < 0 ? undefined : [this.start + first, this.start + last];
  }

  private moveTo(start: number): void {
    const counts = new Float64Array(SLOTS);
    for (let s = 0; s < SLOTS; s++) {
      const c = this.counts[s]!;
      if (c > 0) counts[this.start + s - start] = c;
    }
    this.counts = counts;
    this.start = start;
  }

  /** Doubles the bin width: bins 2j and 2j+1 become bin j. */
  private widen(): void {
    const counts = new Float64Array(SLOTS);
    const start = Math.floor(this.start / 2);
    for (let s = 0; s < SLOTS; s++) {
      const c = this.counts[s]!;
      if (c > 0) counts[Math.floor((this.start + s) / 2) - start]! += c;
    }
    this.counts = counts;
    this.start = start;
    this.setExponent(this.exponent! + 1);
  }

  state(): HistogramState {
    const counts = Array.from(this.counts);
    let end = counts.length;
    while (end > 0 && counts[end - 1] === 0) end--;
    return this.exponent === undefined
      ? { start: 0, counts: [] }
      : { exponent: this.exponent, start: this.start, counts: counts.slice(0, end) };
  }

  /** Adds another histogram's values, as if they had been added here. */
  absorb(state: HistogramState): void {
    if (state.exponent === undefined) return;
    if (this.exponent === undefined) this.setExponent(state.exponent);
    while (this.exponent! < state.exponent) this.widen();
    // Adding may widen the bins, so each index is taken at the width of the moment.
    state.counts.forEach((count, s) => {
      if (count > 0)
        this.addAt(Math.floor((state.start + s) / 2 ** (this.exponent! - state.exponent!)), count);
    });
  }

  /**
   * At most DISPLAY_BINS equal-width bins from the first value's bin to the last's: `edges` has
   * one more entry than `counts`; a value v is in bin i when edges[i] <= v < edges[i + 1].
   */
  bins(): { edges: number[]; counts: number[] } | undefined {
    const used = this.usedRange();
    if (this.exponent === undefined || used === undefined) return undefined;
    const width = 2 ** this.exponent;
    const span = used[1] - used[0] + 1;
    const group = Math.ceil(span / DISPLAY_BINS);
    const n = Math.ceil(span / group);
    const counts = new Array<number>(n).fill(0);
    for (let i = used[0]; i <= used[1]; i++) {
      counts[Math.floor((i - used[0]) / group)]! += this.counts[i - this.start]!;
    }
    const edges = Array.from({ length: n + 1 }, (_, j) => (used[0] + j * group) * width);
    return { edges, counts };
  }
}
