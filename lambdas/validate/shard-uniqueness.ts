/**
 * Uniqueness across shards. Each shard knows its own duplicates; a value whose first occurrence is
 * in an earlier shard is a duplicate only the merge sees. A shard therefore hands on every distinct
 * key with its first record (local index and line) and whether it repeated there; the merge keeps
 * each key's first record in the whole input and, for a key met again in a later shard, counts the
 * rows one pass would have counted and corrects the rows it would have failed.
 *
 * The merge holds every distinct key in memory, as one pass does. Spilling keys to partitions by
 * hash (a second fan-out over the partitions) is what keeps a very large batch within a worker's
 * memory; that is not done here.
 */
import type { FirstOccurrences } from './first-occurrences.js';
import type { ShardPlace } from './shard-state.js';

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

/** What the merge does when a key of a later shard was first seen in an earlier one. */
export interface RepeatHandlers {
  /** The first occurrence (global index) becomes unexpected: it was not repeated until now. */
  firstRepeated(key: string, index: number): void;
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

  absorb(state: KeysState, place: ShardPlace, handlers: RepeatHandlers): void {
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
        handlers.firstRepeated(key, first.index);
        first.repeated = true;
      }
      // The shard counted its first record of a key it saw twice; one it saw once it did not.
      if (!repeated.has(e)) handlers.laterUnexpected(key, index + place.index);
      place.renameLine(line, first.line);
      place.fail({ index, line, reason: handlers.reason(first.line), value: handlers.value(key) });
    }
  }
}
