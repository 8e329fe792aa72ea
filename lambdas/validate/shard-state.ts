/**
 * What a shard of an input (a byte range starting at a record) leaves for the merge, and how its
 * local numbers become the whole input's. A shard numbers its records from 0 and its lines from 1,
 * as if it were a file of its own; the merge knows how many records and lines came before it.
 *
 * Messages that name another row (the first occurrence of a duplicate, the row where an aggregate
 * met a value it cannot use) are written in a shard with a marker in place of the line number,
 * `\uE000<evaluator>.<line>\uE001` (private-use characters, which JSON keeps as they are); the merge
 * and globalQuarantineLine replace each by the whole input's line.
 */

import type { ProfileState } from './profile.js';
import type { RowFailure } from './row-failure.js';

/**
 * A later shard's part in the cross-shard duplicates of one evaluator, in the order of the
 * shard's records: what KeysMerge replays when it absorbs the shard.
 */
export interface RepeatEvent {
  key: string;
  /** The key's first record in the whole input (global). */
  firstIndex: number;
  firstLine: number;
  /** This is the first later shard holding the key and the first record was alone in its shard: it becomes unexpected now. */
  firstBecomesUnexpected: boolean;
  /** The key's first record in this shard (local). */
  index: number;
  line: number;
  repeated: boolean;
}

/**
 * What the merge takes from the spill (resolveSpill): by evaluator position, repeat events by
 * shard (uniqueness) or [rank, value] pairs (median, quantiles).
 */
export interface SpillResults {
  evaluators: Record<number, Record<number, RepeatEvent[]> | Array<[number, number]>>;
  /**
   * By evaluator position (-1 the schema entry), then shard: the counts of unexpected values a
   * shard spilled past its cap, of the values the whole input counts.
   */
  pastCap?: Record<number, Record<number, Array<[unknown, number]>>>;
}

/** Where a shard's records and lines are in the whole input, as an evaluator merging its state sees it. */
export interface ShardPlace {
  /** The shard's position in the input (0, 1, …). */
  readonly shard: number;
  /** What resolveSpill found for this evaluator in the spill (undefined when nothing was spilled). */
  readonly spilled: unknown;
  /** What resolveSpill read of this shard's spilled counts of unexpected values past its cap (undefined when none). */
  readonly pastCap: Array<[unknown, number]> | undefined;
  /** Records before this shard: added to its record indexes. */
  readonly index: number;
  /** Added to this shard's line numbers. */
  readonly line: number;
  /** A message written in the shard, with its line markers replaced by the whole input's lines. */
  text(message: string): string;
  /** A record the shard found as expected but the whole input does not (local index and line). */
  fail(correction: RowCorrection): void;
  /** Messages of this shard that name `line` (local) must name `globalLine` instead. */
  renameLine(line: number, globalLine: number): void;
}

/** A row failure that only the whole input shows: a duplicate of a row in an earlier shard, an order broken at the boundary. */
export interface RowCorrection {
  /** The record's local index and line in its shard. */
  index: number;
  line: number;
  reason: string;
  value: unknown;
}

/** Each run of quarantined local record indexes, as [first, end) pairs flattened. */
export type IndexRuns = number[];

/**
 * What `validateShard` returns: JSON (it travels between Lambda invocations and through S3), the
 * shard's counts and each evaluator's mergeable state in the contract's order.
 */
export interface ShardOutcome {
  rows: { read: number; valid: number; quarantined: number };
  /** Line breaks in the shard's bytes: the lines the next shard's numbers start after. */
  lines: number;
  /** Lines the shard numbered before its first byte (a CSV header it was given): subtracted from its lines. */
  headerLines: number;
  /** The CSV header, or the JSON Lines keys seen (when an expectation needs them), in first-seen order. */
  columns?: string[];
  /** Set when validation stopped at the header (it lacks required columns), and why. */
  stopped?: string;
  /** The local indexes of the records the shard quarantined. */
  quarantinedRuns: IndexRuns;
  /** The schema conformance entry's state. */
  schema: unknown;
  /** Each expectation's state, in the order of the contract's expectations of the scope validated. */
  evaluators: unknown[];
  /** The shard's column profiles (profile.ts), when it profiled. */
  profile?: ProfileState;
  /** Set when the shard wrote its keys and values to a spill (validateShard's `spill` option). */
  spill?: { shard: number; partitions: number };
}

/** Where one shard's outputs go in the whole input's: what globalQuarantineLine and globalShardOutputs need. */
export interface ShardPlacement {
  /** Added to the shard's record indexes and lines. */
  index: number;
  line: number;
  /** Records read by the shard. */
  read: number;
  quarantinedRuns: IndexRuns;
  /** `<evaluator>.<local line>` → the whole input's line, where a message must name another row than its shard did. */
  firstLines: Record<string, number>;
  /** Failures the whole input adds to the shard's records, by local index, in the order of the evaluators. */
  failures: Array<{ index: number; line: number; evaluator: number; failure: RowFailure }>;
  /** Each row-level evaluator's (type, column), in order: where an added failure goes among a row's failures. */
  order: Array<[string, string | null]>;
  /** For a batch of several objects: the objects' lines (shared by every placement of the merge). */
  files?: BatchLines;
}

/**
 * The lines of a batch of several objects, one after the other: object `k` holds lines
 * (starts[k], starts[k + 1]) of the batch, its own line n being the batch's starts[k] + n. Each
 * object starts a line after the last one of the object before, whether or not that one ended
 * with a line break, so that no line of the batch is in two objects.
 */
export interface BatchLines {
  starts: number[];
  names: string[];
}

/**
 * Lines of the whole input before each shard: the shards' line breaks added up, and for a batch of
 * several objects (`firsts[k]`: shard k starts an object) one more at each later object's start
 * (see BatchLines). A shard's lines are numbered from this, less the header lines it was given.
 */
export function linesBefore(
  outcomes: readonly Pick<ShardOutcome, 'lines'>[],
  firsts?: readonly boolean[],
): number[] {
  const before: number[] = [];
  let lines = 0;
  for (const [position, outcome] of outcomes.entries()) {
    if (position > 0 && firsts?.[position] === true) lines++;
    before.push(lines);
    lines += outcome.lines;
  }
  return before;
}

/** A line of the batch as the object it is in and its own line there. */
export function fileLine(files: BatchLines, line: number): { file: string; line: number } {
  let low = 0;
  let high = files.starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (files.starts[middle]! < line) low = middle;
    else high = middle - 1;
  }
  return { file: files.names[low]!, line: line - files.starts[low]! };
}

/** How a message names a line of the batch: the line, or for several objects, `<line> of <file>` (as a joined pass names it). */
export function lineName(files: BatchLines | undefined, line: number): string {
  if (files === undefined) return String(line);
  const at = fileLine(files, line);
  return `${at.line} of ${at.file}`;
}

/** The marker a shard writes for a line in the messages of evaluator `e`. */
export function lineMarker(e: number): (line: number) => string {
  return (line) => `\uE000${e}.${line}\uE001`;
}

const MARKER = /\uE000(-?\d+)\.(\d+)\uE001/g;

/** A shard's message with each line marker replaced by the whole input's line. */
export function globalText(
  message: string,
  placement: Pick<ShardPlacement, 'line' | 'firstLines' | 'files'>,
): string {
  if (!message.includes('\uE000')) return message;
  return message.replace(MARKER, (_, e: string, line: string) => {
    const renamed = placement.firstLines[`${e}.${line}`];
    return lineName(placement.files, renamed ?? Number(line) + placement.line);
  });
}

/** Whether `index` is in one of the runs (sorted, non-overlapping). */
export function inRuns(runs: IndexRuns, index: number): boolean {
  let low = 0;
  let high = runs.length / 2 - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (index < runs[2 * middle]!) high = middle - 1;
    else if (index >= runs[2 * middle + 1]!) low = middle + 1;
    else return true;
  }
  return false;
}

/** Adds an index (greater than every one before) to the runs. */
export function addToRuns(runs: IndexRuns, index: number): void {
  if (runs.length > 0 && runs[runs.length - 1] === index) runs[runs.length - 1] = index + 1;
  else runs.push(index, index + 1);
}
