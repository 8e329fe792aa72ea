/**
 * Uniqueness across shards. Each shard knows its own duplicates; a value whose first occurrence is
 * in an earlier shard is a duplicate only the merge sees. A shard therefore hands on every distinct
 * key with its first record (local index and line) and whether it repeated there; the merge keeps
 * each key's first record in the whole input and, for a key met again in a later shard, counts the
 * rows one pass would have counted and corrects the rows it would have failed.
 *
 * Handed on in the outcome, the keys make the merge hold every distinct key in memory, as one pass
 * does. With a spill (validateShard's `spill` option) a shard writes them instead to P partitions
 * by a stable hash of the key's text, and hands on only their number; one check a partition
 * (checkPartition: deployed, one Map iteration each) reads that partition from every shard and
 * returns the keys held by more than one shard. The merge then replays just those, in the order
 * the keys' records came, so that it finds exactly what it finds from the whole key lists.
 */
import { MalformedInput } from '../shared/errors.js';
import { FirstOccurrences } from './first-occurrences.js';
import type { RepeatEvent, ShardPlace } from './shard-state.js';

export type { RepeatEvent } from './shard-state.js';

import type { Spill, SpillWriter } from './spill.js';

/** A shard's distinct keys (FirstOccurrences.key), each with its first local index and line, and the entries that repeated. */
export interface KeysState {
  keys: string[];
  indexes: number[];
  lines: number[];
  /** Positions in `keys` of the keys seen more than once in the shard. */
  repeated: number[];
}

export function keysState(seen: FirstOccurrences): KeysState {
  const state: KeysState = { keys: [], indexes: [], lines: [], repeated: [] };
  for (let entry = 0; entry < seen.size; entry++) {
    state.keys.push(seen.key(entry));
    state.indexes.push(seen.firstIndex(entry));
    state.lines.push(seen.firstLine(entry));
    if (seen.isRepeated(entry)) state.repeated.push(entry);
  }
  return state;
}

/** A shard's keys written to the spill: each partition's blob `keys/p<partition>/s<shard>`. */
export interface SpilledKeys {
  spilled: { shard: number; partitions: number; keys: number };
}

/** The blob of one partition of one shard's keys, under its evaluator's prefix. */
export function keysBlob(evaluator: number, partition: number, shard: number): string {
  return `e${evaluator}/keys/p${partition}/s${shard}`;
}

/** The partition of a key: FNV-1a over its UTF-16 code units, mixed, modulo the partitions. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % partitions;
}

/**
 * Writes a shard's distinct keys to the spill, each as a record of its partition's blob: the
 * shard (once, at the blob's start), then per key its first local index and line, whether it
 * repeated in the shard, and its text (FirstOccurrences.key) as UTF-8. Every partition gets a
 * blob, empty ones too, so that a missing blob is an error and not a partition without keys.
 */
export function spillKeys(seen: FirstOccurrences, writer: SpillWriter): SpilledKeys {
  const { partitions, shard } = writer;
  // Each partition is one buffer of its exact size, made when it is written (a few at a time):
  // sized first, its entries listed in entry order (a counting sort), then encoded on demand.
  const partitionOfEntry = new Uint32Array(seen.size);
  const sizes = new Array<number>(partitions).fill(4);
  const starts = new Uint32Array(partitions + 1);
  for (let entry = 0; entry < seen.size; entry++) {
    const key = seen.key(entry);
    const partition = partitionOf(key, partitions);
    partitionOfEntry[entry] = partition;
    sizes[partition]! += RECORD_HEAD + Buffer.byteLength(key, 'utf8');
    starts[partition + 1]!++;
  }
  for (let p = 0; p < partitions; p++) starts[p + 1]! += starts[p]!;
  const order = new Uint32Array(seen.size);
  const fill = starts.slice(0, partitions);
  for (let entry = 0; entry < seen.size; entry++) order[fill[partitionOfEntry[entry]!]!++] = entry;
  const encode = (partition: number): Uint8Array => {
    const blob = Buffer.allocUnsafe(sizes[partition]!);
    blob.writeUInt32LE(shard, 0);
    let offset = 4;
    for (let k = starts[partition]!; k < starts[partition + 1]!; k++) {
      const entry = order[k]!;
      blob.writeUInt32LE(seen.firstIndex(entry), offset);
      blob.writeUInt32LE(seen.firstLine(entry), offset + 4);
      blob.writeUInt8(seen.isRepeated(entry) ? 1 : 0, offset + 8);
      const length = blob.write(seen.key(entry), offset + RECORD_HEAD, 'utf8');
      blob.writeUInt32LE(length, offset + 9);
      offset += RECORD_HEAD + length;
    }
    return blob;
  };
  for (let partition = 0; partition < partitions; partition++) {
    writer.put(`keys/p${partition}/s${shard}`, () => encode(partition));
  }
  return { spilled: { shard, partitions, keys: seen.size } };
}

/** A spilled key's record before its text: local index, local line (u32 each), repeated (u8), text bytes (u32). */
const RECORD_HEAD = 13;

/** One key's record in a shard (local index and line), as spilled. */
export interface KeyOccurrence {
  shard: number;
  index: number;
  line: number;
  /** The key repeated within the shard (the shard counted its first record already). */
  repeated: boolean;
}

/** A key held by more than one shard: its first record in the whole input and its first record in each later shard. */
export interface CrossShardDuplicate {
  evaluator: number;
  key: string;
  /** The first record holding the key, with its global index and line. */
  first: KeyOccurrence & { globalIndex: number; globalLine: number };
  later: KeyOccurrence[];
}

/** What the merge needs of the spill: where each shard's records start, and which evaluators spilled keys. */
export interface KeysPlan {
  partitions: number;
  /** Each shard's first record index and line offset in the whole input (ShardPlacement.index and .line). */
  shards: Array<{ index: number; line: number }>;
  /** The evaluators (positions in the shard outcomes' `evaluators`) whose keys were spilled. */
  evaluators: number[];
}

/**
 * The second fan-out's unit: reads one partition of every shard's keys (one evaluator at a time,
 * shards in order) and returns the keys held by more than one shard. Memory holds one partition
 * of one evaluator's keys, in a FirstOccurrences (a few bytes a key besides its characters).
 */
export async function checkPartition(
  spill: Spill,
  plan: KeysPlan,
  partition: number,
): Promise<CrossShardDuplicate[]> {
  const duplicates: CrossShardDuplicate[] = [];
  for (const evaluator of plan.evaluators) {
    // Each key's first record: its index and line in `first`, its shard and whether it repeated there by entry.
    const first = new FirstOccurrences();
    let shardOf = new Uint32Array(1024);
    let repeatedOf = new Uint8Array(1024);
    const found = new Map<number, CrossShardDuplicate>();
    for (let shard = 0; shard < plan.shards.length; shard++) {
      const name = keysBlob(evaluator, partition, shard);
      const blob = Buffer.from(await spill.get(name));
      if (blob.length < 4 || blob.readUInt32LE(0) !== shard) {
        throw new MalformedInput(`spill blob '${name}' does not hold shard ${shard}'s keys`);
      }
      for (let at = 4; at < blob.length; ) {
        const index = blob.readUInt32LE(at);
        const line = blob.readUInt32LE(at + 4);
        const repeated = blob.readUInt8(at + 8) === 1;
        const length = blob.readUInt32LE(at + 9);
        const key = blob.toString('utf8', at + RECORD_HEAD, at + RECORD_HEAD + length);
        at += RECORD_HEAD + length;
        const entry = first.findOrAdd(key, index, line);
        if (entry === -1) {
          const added = first.size - 1;
          if (added === shardOf.length) {
            shardOf = grown(shardOf, added * 2);
            repeatedOf = grown(repeatedOf, added * 2);
          }
          shardOf[added] = shard;
          repeatedOf[added] = repeated ? 1 : 0;
          continue;
        }
        let duplicate = found.get(entry);
        if (duplicate === undefined) {
          const earlier: KeyOccurrence = {
            shard: shardOf[entry]!,
            index: first.firstIndex(entry),
            line: first.firstLine(entry),
            repeated: repeatedOf[entry] === 1,
          };
          const place = plan.shards[earlier.shard]!;
          duplicate = {
            evaluator,
            key,
            first: {
              ...earlier,
              globalIndex: earlier.index + place.index,
              globalLine: earlier.line + place.line,
            },
            later: [],
          };
          found.set(entry, duplicate);
          duplicates.push(duplicate);
        }
        duplicate.later.push({ shard, index, line, repeated });
      }
    }
  }
  return duplicates;
}

function grown<T extends Uint32Array | Uint8Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}

/** The partitions' duplicates of one evaluator, as each later shard's events (by shard, in record order). */
export function repeatEvents(duplicates: readonly CrossShardDuplicate[]): Record<number, RepeatEvent[]> {
  const byShard: Record<number, RepeatEvent[]> = {};
  for (const { key, first, later } of duplicates) {
    later.forEach((occurrence, k) => {
      byShard[occurrence.shard] ??= [];
      byShard[occurrence.shard]!.push({
        key,
        firstIndex: first.globalIndex,
        firstLine: first.globalLine,
        firstBecomesUnexpected: k === 0 && !first.repeated,
        index: occurrence.index,
        line: occurrence.line,
        repeated: occurrence.repeated,
      });
    });
  }
  for (const events of Object.values(byShard)) events.sort((a, b) => a.index - b.index);
  return byShard;
}

/** What the merge does when a key of a later shard was first seen in an earlier one. */
export interface RepeatHandlers {
  /** The first occurrence (global index) becomes unexpected when the record at `at` (global index) repeats it. */
  firstRepeated(key: string, index: number, at: number): void;
  /** The key's first record in the later shard (global index) becomes unexpected, when its shard had not counted it. */
  laterUnexpected(key: string, index: number): void;
  /** The reason a row repeating the record on `line` (global) fails. */
  reason(line: number): string;
  /** The failing value reported for a key's row. */
  value(key: string): unknown;
}

/** Every key's first record in the shards merged so far. */
export class KeysMerge {
  private readonly first = new Map<string, { index: number; line: number; repeated: boolean }>();

  absorb(state: KeysState | SpilledKeys, place: ShardPlace, handlers: RepeatHandlers): void {
    if ('spilled' in state) {
      this.replay(place, handlers);
      return;
    }
    const repeated = new Set(state.repeated);
    for (let e = 0; e < state.keys.length; e++) {
      const key = state.keys[e]!;
      const index = state.indexes[e]!;
      const line = state.lines[e]!;
      const first = this.first.get(key);
      if (first === undefined) {
        this.first.set(key, {
          index: index + place.index,
          line: line + place.line,
          repeated: repeated.has(e),
        });
        continue;
      }
      if (!first.repeated) {
        handlers.firstRepeated(key, first.index, index + place.index);
        first.repeated = true;
      }
      // The shard counted its first record of a key it saw twice; one it saw once it did not.
      if (!repeated.has(e)) handlers.laterUnexpected(key, index + place.index);
      place.renameLine(line, first.line);
      place.fail({ index, line, reason: handlers.reason(first.line), value: handlers.value(key) });
    }
  }

  /** A spilled shard: only its keys that an earlier shard holds, as the partition checks found them. */
  private replay(place: ShardPlace, handlers: RepeatHandlers): void {
    const events = place.spilled as Record<number, RepeatEvent[]> | undefined;
    if (events === undefined) {
      throw new MalformedInput(
        'a shard outcome spilled its keys, and the merge was given no partition results (resolveSpill)',
      );
    }
    for (const event of events[place.shard] ?? []) {
      const { key, index, line, firstLine } = event;
      if (event.firstBecomesUnexpected) handlers.firstRepeated(key, event.firstIndex, index + place.index);
      if (!event.repeated) handlers.laterUnexpected(key, index + place.index);
      place.renameLine(line, firstLine);
      place.fail({ index, line, reason: handlers.reason(firstLine), value: handlers.value(key) });
    }
  }
}
