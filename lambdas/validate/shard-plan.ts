/**
 * The shard plan: an object too large for one validation pass, cut into byte ranges that each
 * start at a record, so that each range can be validated on its own and the results merged.
 *
 * Only a little of the object is read: the header line (CSV), and around each nominal cut
 * (every `targetBytes`) enough bytes to find the next record start. JSON Lines records start
 * after an LF (jsonl-boundary.ts). A CSV record may hold line breaks inside quotes, so an LF
 * alone proves nothing; csv-boundary.ts says how the quote state after a cut is found without
 * reading what precedes it, and when it is not (then the plan reads serially from the previous
 * boundary, and counts it in `fallbacks`).
 *
 * Every boundary follows an LF, which UTF-8 never uses inside a character and which ends a CR LF:
 * no range splits a character or a line break; the planner checks the byte before each boundary.
 * A range holding the start of the object holds its byte order mark, if any; no other range
 * starts with one that whole-object reading would drop.
 */
import type { RangeReader } from './byte-window.js';
import { CsvBoundaries, isAsciiSyntax } from './csv-boundary.js';
import { JsonlBoundaries } from './jsonl-boundary.js';

export { shardTargetBytes } from '../shared/shard-size.js';
export type { RangeReader } from './byte-window.js';
export { RecordTooLongAt } from './csv-boundary.js';

/** The parts of the contract's `format` the plan depends on (a `FormatConfig` is one). */
export type ShardFormat =
  | {
      readonly type: 'csv';
      readonly delimiter: string;
      readonly quote: string;
      readonly max_record_bytes: number;
    }
  | { readonly type: 'jsonl'; readonly max_record_bytes: number; readonly documents?: unknown };

/** Bytes [start, end) of the object (end exclusive). `index` counts the object's shards from 0. */
export interface Shard {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/**
 * How one object is validated. Two shapes:
 * - whole (no `header`): one shard [0, size), read as a whole object is today (a CSV one
 *   starts with its header line). An object no larger than the target, a JSON document (parsed
 *   whole) and a CSV with a non-ASCII delimiter or quote are planned whole.
 * - cut (`header` for CSV): the shards cover [header.end, size) for CSV, [0, size) for JSON
 *   Lines, in order, without gap or overlap; each starts at a record, and each holds at least
 *   one record unless the object holds none (then there is one empty shard). Each CSV shard
 *   validator reads the column names from bytes [0, header.end) (the header line, after any
 *   empty lines and a byte order mark).
 */
export interface ShardPlan {
  readonly header?: { readonly end: number };
  readonly shards: readonly Shard[];
  /** Cuts where speculation was ambiguous and the quote state was scanned serially (CSV). */
  readonly fallbacks: number;
}

/** How many cuts are searched at once (ranged reads in flight). */
const CONCURRENT_CUTS = 8;

/** Plans one object of `size` bytes, read through `read`, into shards of about `targetBytes`. */
export async function planShards(
  read: RangeReader,
  size: number,
  format: ShardFormat,
  targetBytes: number,
): Promise<ShardPlan> {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`object size ${size} is not a byte count`);
  if (!Number.isSafeInteger(targetBytes) || targetBytes < 1) {
    throw new RangeError(`shard target ${targetBytes} is not a positive byte count`);
  }
  const whole: ShardPlan = { shards: [{ index: 0, start: 0, end: size }], fallbacks: 0 };
  if (size <= targetBytes) return whole;
  if (format.type === 'jsonl') {
    if (format.documents !== undefined) return whole;
    const finder = new JsonlBoundaries(read, size, format.max_record_bytes);
    const search: CutSearch = {
      speculate: async (cut) => ({ at: await finder.boundary(cut) }),
      serial: async () => undefined,
    };
    return cut(read, size, 0, targetBytes, search);
  }
  const syntax = {
    delimiter: format.delimiter,
    quote: format.quote,
    maxRecordBytes: format.max_record_bytes,
  };
  if (!isAsciiSyntax(syntax)) return whole;
  const finder = new CsvBoundaries(read, size, syntax);
  const headerEnd = await finder.headerEnd();
  const search: CutSearch = {
    speculate: async (at) => {
      const found = await finder.speculate(at);
      if (found.kind === 'ambiguous') return { ambiguous: true };
      return { at: found.kind === 'boundary' ? found.at : undefined };
    },
    serial: (from, at) => finder.serial(from, at),
  };
  return { header: { end: headerEnd }, ...(await cut(read, size, headerEnd, targetBytes, search)) };
}

/** The record start after a cut, or that the cut is ambiguous (then `serial` finds it). */
interface CutSearch {
  speculate(cut: number): Promise<{ at?: number | undefined; ambiguous?: boolean }>;
  /** The first non-empty record start at or after `cut`, reading from `from`, a record start. */
  serial(from: number, cut: number): Promise<number | undefined>;
}

/** Cuts [first, size) at the record starts after each multiple of `targetBytes`. */
async function cut(
  read: RangeReader,
  size: number,
  first: number,
  targetBytes: number,
  search: CutSearch,
): Promise<Omit<ShardPlan, 'header'>> {
  const cuts: number[] = [];
  for (let at = first + targetBytes; at < size; at += targetBytes) cuts.push(at);
  const found = await mapConcurrently(cuts, CONCURRENT_CUTS, (at) => search.speculate(at));
  const starts = [first];
  let fallbacks = 0;
  for (const [k, at] of cuts.entries()) {
    const previous = starts[starts.length - 1]!;
    if (at <= previous) continue; // the record found for an earlier cut runs past this one
    let boundary = found[k]!.at;
    if (found[k]!.ambiguous) {
      fallbacks++;
      boundary = await search.serial(previous, at);
    }
    if (boundary !== undefined && boundary > previous && boundary < size) starts.push(boundary);
  }
  // Later shards start with a record; the first may be only empty lines up to the second.
  if (starts.length > 1 && !(await holdsNonBlank(read, first, starts[1]!))) starts.splice(1, 1);
  for (const start of starts.slice(1)) await assertAfterLineFeed(read, start);
  const shards = starts.map((start, index) => ({ index, start, end: starts[index + 1] ?? size }));
  return { shards, fallbacks };
}

/** Whether bytes [start, end) hold anything but line breaks and blanks (a record, then). */
async function holdsNonBlank(read: RangeReader, start: number, end: number): Promise<boolean> {
  for (let from = start, step = 1024; from < end; from += step, step *= 2) {
    const bytes = await read(from, Math.min(end, from + step));
    if (bytes.some((byte) => byte !== 10 && byte !== 13 && byte !== 32 && byte !== 9)) return true;
  }
  return false;
}

/** A boundary must follow an LF: never inside a UTF-8 character, never between CR and LF. */
async function assertAfterLineFeed(read: RangeReader, at: number): Promise<void> {
  const [before] = await read(at - 1, at);
  if (before !== 10)
    throw new Error(`shard boundary at byte ${at} does not follow a line feed (byte ${before})`);
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One object of a batch, as listed. */
export interface BatchObject {
  readonly key: string;
  readonly size: number;
}

/** An object's plan, with its key. */
export interface ObjectPlan {
  readonly key: string;
  readonly plan: ShardPlan;
}

/**
 * Plans a batch of many objects, one at a time and in order: each object no larger than the
 * target is one whole shard without reading it; a larger one is cut as `planShards` cuts it.
 * Small objects are not grouped: each is one item of the map.
 */
export async function* planBatch(
  objects: Iterable<BatchObject> | AsyncIterable<BatchObject>,
  open: (key: string) => RangeReader,
  format: ShardFormat,
  targetBytes: number,
): AsyncGenerator<ObjectPlan> {
  for await (const { key, size } of objects) {
    yield { key, plan: await planShards(open(key), size, format, targetBytes) };
  }
}
