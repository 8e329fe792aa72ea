/**
 * An exact median or quantile over values spilled by shards, without holding them all. Each shard
 * writes its values sorted (float64, `values/s<shard>`) and hands on a histogram of them by their
 * top 12 bits in an order-preserving form (at most 4,096 counts, whatever the number of values).
 * The histograms together say which bucket holds the k-th value and, the blobs being sorted, where
 * that bucket lies in each shard's blob. While the bucket holds more values than a limit, the
 * next 13 bits split it (one read of the bucket's ranges to count, one to find each shard's
 * sub-range); once it fits, its values are read and sorted. After the last bits every value left
 * is the same. Memory: the limit's values and 8,192 counts.
 */
import { InternalError, MalformedInput } from '../shared/errors.js';
import type { Spill, SpillWriter } from './spill.js';

/** Values in ascending order, read by position: all in memory, a few selected from a spill, or a sketch's. */
export interface SortedValues {
  readonly length: number;
  get(index: number): number | undefined;
}

/** A shard's spilled values: how many, and the count in each top-12-bit bucket (ascending). */
export interface SpilledValues {
  spilled: { shard: number; n: number; buckets: Array<[number, number]> };
}

/** Values the selection sorts in memory at most (8 MB); beyond, a bucket is split further. */
export const SELECT_LIMIT = 1 << 20;

/** Values read from a blob at a time while counting. */
const CHUNK = 1 << 16;

const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The value's bits as two unsigned words that compare as Float64Array.sort orders values (-0 before 0, NaN last). */
function orderKey(x: number): [number, number] {
  scratch[0] = x;
  let hi = words[LITTLE_ENDIAN ? 1 : 0]!;
  let lo = words[LITTLE_ENDIAN ? 0 : 1]!;
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else hi = (hi | 0x80000000) >>> 0;
  return [hi, lo];
}

/** `width` bits of the 64-bit key starting at bit `shift` (from the least significant). */
function digit(hi: number, lo: number, shift: number, width: number): number {
  const mask = (1 << width) - 1;
  if (shift >= 32) return (hi >>> (shift - 32)) & mask;
  if (shift + width <= 32) return (lo >>> shift) & mask;
  return ((hi << (32 - shift)) | (lo >>> shift)) & mask;
}

/** The first level (from the shards' histograms), then the levels that split a bucket further. */
const TOP = { shift: 52, width: 12 };
const LEVELS = [39, 26, 13, 0].map((shift) => ({ shift, width: 13 }));

/** Writes a shard's values sorted, and returns what the merge needs to find a rank among them. */
export function spillValues(values: Float64Array, writer: SpillWriter): SpilledValues {
  const sorted = Float64Array.from(values).sort();
  const buckets: Array<[number, number]> = [];
  for (const x of sorted) {
    const [hi, lo] = orderKey(x);
    const d = digit(hi, lo, TOP.shift, TOP.width);
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last[0] === d) last[1]++;
    else buckets.push([d, 1]);
  }
  writer.put(`values/s${writer.shard}`, new Uint8Array(sorted.buffer, sorted.byteOffset, sorted.byteLength));
  return { spilled: { shard: writer.shard, n: sorted.length, buckets } };
}

export function valuesBlob(evaluator: number, shard: number): string {
  return `e${evaluator}/values/s${shard}`;
}

/** A run of a shard's sorted values: positions [start, end). */
interface Segment {
  shard: number;
  start: number;
  end: number;
}

/**
 * The values at `ranks` (0-based, in the order of all the shards' values sorted ascending), read
 * from the spill of evaluator `evaluator`. Ranks outside [0, n) have no value.
 */
export async function selectRanks(
  spill: Spill,
  evaluator: number,
  shards: ReadonlyArray<SpilledValues['spilled']>,
  ranks: readonly number[],
  limit = SELECT_LIMIT,
): Promise<Array<[number, number]>> {
  const n = shards.reduce((sum, s) => sum + s.n, 0);
  const selected: Array<[number, number]> = [];
  for (const rank of new Set(ranks)) {
    if (!Number.isInteger(rank) || rank < 0 || rank >= n) continue;
    selected.push([rank, await selectRank(spill, evaluator, shards, rank, limit)]);
  }
  return selected;
}

async function selectRank(
  spill: Spill,
  evaluator: number,
  shards: ReadonlyArray<SpilledValues['spilled']>,
  rank: number,
  limit: number,
): Promise<number> {
  // The top bucket, from the histograms.
  const totals = new Map<number, number>();
  for (const s of shards) for (const [d, count] of s.buckets) totals.set(d, (totals.get(d) ?? 0) + count);
  let k = rank;
  let chosen = -1;
  for (const d of [...totals.keys()].sort((a, b) => a - b)) {
    const count = totals.get(d)!;
    if (k < count) {
      chosen = d;
      break;
    }
    k -= count;
  }
  if (chosen === -1) throw new InternalError(`rank ${rank} is beyond the spilled values' histograms`);
  let segments: Segment[] = shards.map((s) => {
    let start = 0;
    let count = 0;
    for (const [d, c] of s.buckets) {
      if (d < chosen) start += c;
      else if (d === chosen) count = c;
    }
    return { shard: s.shard, start, end: start + count };
  });
  segments = segments.filter((s) => s.end > s.start);
  const read = (s: Segment, start: number, end: number) => readValues(spill, evaluator, s.shard, start, end);
  for (const level of LEVELS) {
    const total = segments.reduce((sum, s) => sum + s.end - s.start, 0);
    if (total <= limit) return inMemory(segments, read, k);
    const counts = new Float64Array(1 << level.width);
    for (const s of segments) {
      for (let at = s.start; at < s.end; at += CHUNK) {
        for (const x of await read(s, at, Math.min(at + CHUNK, s.end))) {
          const [hi, lo] = orderKey(x);
          counts[digit(hi, lo, level.shift, level.width)]!++;
        }
      }
    }
    let d = 0;
    while (k >= counts[d]!) k -= counts[d++]!;
    // Within a segment the values are sorted and share the bits above this level: their digits rise.
    const next: Segment[] = [];
    for (const s of segments) {
      let below = 0;
      let within = 0;
      for (let at = s.start; at < s.end; at += CHUNK) {
        for (const x of await read(s, at, Math.min(at + CHUNK, s.end))) {
          const [hi, lo] = orderKey(x);
          const here = digit(hi, lo, level.shift, level.width);
          if (here < d) below++;
          else if (here === d) within++;
        }
      }
      if (within > 0) next.push({ shard: s.shard, start: s.start + below, end: s.start + below + within });
    }
    segments = next;
  }
  // Every bit is fixed: the values left are all the same one.
  const s = segments[0]!;
  return (await read(s, s.start, s.start + 1))[0]!;
}

async function inMemory(
  segments: readonly Segment[],
  read: (s: Segment, start: number, end: number) => Promise<Float64Array>,
  k: number,
): Promise<number> {
  const values = new Float64Array(segments.reduce((sum, s) => sum + s.end - s.start, 0));
  let at = 0;
  for (const s of segments) {
    values.set(await read(s, s.start, s.end), at);
    at += s.end - s.start;
  }
  return values.sort()[k]!;
}

async function readValues(
  spill: Spill,
  evaluator: number,
  shard: number,
  start: number,
  end: number,
): Promise<Float64Array> {
  const bytes = await spill.get(valuesBlob(evaluator, shard), { start: start * 8, end: end * 8 });
  if (bytes.length !== (end - start) * 8) {
    throw new MalformedInput(
      `spill blob '${valuesBlob(evaluator, shard)}' holds fewer values than its shard counted (wanted [${start}, ${end}))`,
    );
  }
  // A copy: the bytes may sit at an offset that is not a multiple of 8.
  return new Float64Array(Uint8Array.from(bytes).buffer);
}
