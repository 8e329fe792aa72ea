/**
 * Where shards put what is too large to travel in their outcome: the distinct keys of a uniqueness
 * expectation (hash-partitioned, so that one partition at a time can be checked across shards) and
 * the values of a median or quantile (sorted, so that the merge can select the k-th one reading
 * ranges). A spill is a set of named byte blobs, written once each; three places hold them: memory
 * (tests), a directory (local runs) and the lake's reports zone (deployed runs, under the run's
 * prefix, where the run's grants already reach).
 */
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ObjectNotFound } from '../shared/errors.js';
import type { ObjectStore, Zone } from '../shared/object-store.js';
import { SPILL_TAG } from '../shared/run-spill.js';

/** A byte range [start, end) of a blob. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface Spill {
  /** Writes the blob `name` (a path of `/`-separated parts), replacing one of that name. */
  put(name: string, bytes: Uint8Array): Promise<void>;
  /** The blob's bytes (or the range of them, which must lie within it); throws ObjectNotFound when there is none. */
  get(name: string, range?: ByteRange): Promise<Uint8Array>;
}

/** Blobs in memory: for tests, and for a merge in the process that validated every shard. */
export class MemorySpill implements Spill {
  readonly blobs = new Map<string, Uint8Array>();

  async put(name: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(name, bytes.slice());
  }

  async get(name: string, range?: ByteRange): Promise<Uint8Array> {
    const bytes = this.blobs.get(name);
    if (bytes === undefined) throw new ObjectNotFound(`spill blob '${name}' is not in memory`);
    return range ? bytes.subarray(range.start, range.end) : bytes;
  }
}

/** Blobs as files under a directory (one file a blob): local runs, worker threads included. */
export class DirectorySpill implements Spill {
  constructor(readonly directory: string) {}

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  }

  async get(name: string, range?: ByteRange): Promise<Uint8Array> {
    const path = this.path(name);
    try {
      if (!range) return await readFile(path);
      const file = await open(path, 'r');
      try {
        const bytes = new Uint8Array(range.end - range.start);
        const { bytesRead } = await file.read(bytes, 0, bytes.length, range.start);
        return bytes.subarray(0, bytesRead);
      } finally {
        await file.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ObjectNotFound(`spill blob '${name}' is not in ${this.directory}`);
      }
      throw error;
    }
  }

  private path(name: string): string {
    return join(this.directory, ...name.split('/'));
  }
}

/**
 * Blobs in a zone of the lake under a prefix: deployed, the reports zone under the run's prefix
 * (`lakeSpillPrefix`), since a function's grants are per dataset. Each blob is tagged SPILL_TAG, by
 * which the zone's lifecycle rule expires it once the run is long over. A range is read by
 * streaming the object and keeping the range's bytes: memory holds the range, not the object.
 */
export class ObjectStoreSpill implements Spill {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly zone: Zone = 'reports',
  ) {}

  async put(name: string, bytes: Uint8Array): Promise<void> {
    await this.store.put(this.zone, this.prefix + name, bytes, {
      contentType: 'application/octet-stream',
      tags: { [SPILL_TAG.key]: SPILL_TAG.value },
    });
  }

  async get(name: string, range?: ByteRange): Promise<Uint8Array> {
    const stream = await this.store.read(this.zone, this.prefix + name);
    const start = range?.start ?? 0;
    const end = range?.end ?? Number.POSITIVE_INFINITY;
    const kept: Uint8Array[] = [];
    let at = 0;
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      const from = Math.max(start - at, 0);
      const to = Math.min(end - at, chunk.length);
      if (to > from) kept.push(chunk.subarray(from, to));
      at += chunk.length;
      if (at >= end) {
        stream.destroy();
        break;
      }
    }
    return Buffer.concat(kept);
  }
}

export { lakeSpillPrefix } from '../shared/run-spill.js';

/** Distinct keys a partition is meant to hold at most: what one partition check keeps in memory (about 100 MB). */
export const KEYS_PER_PARTITION = 1 << 20;

/**
 * How many partitions the shards' keys are spread over: enough that one partition holds about
 * KEYS_PER_PARTITION of the keys expected over all shards (at most one a record), and at least
 * one. Every shard of an input must be given the same number.
 */
/** Bytes a record takes at the fewest: the floor of `recordBytesOf`. */
export const MIN_RECORD_BYTES = 16;

/**
 * About how many bytes a record of the input takes, from a sample of its first bytes: the bytes
 * per line. A record holds at least one line (a quoted CSV field can hold more), so this is at
 * most the true size, and the keys a shard is expected to spill at least the true count: the
 * partitions come out, if anything, smaller than KEYS_PER_PARTITION, never larger.
 */
export function recordBytesOf(sample: Uint8Array): number {
  let lines = 0;
  for (let at = sample.indexOf(10); at !== -1; at = sample.indexOf(10, at + 1)) lines++;
  return Math.max(MIN_RECORD_BYTES, Math.floor(sample.length / Math.max(1, lines)));
}

export function spillPartitions(shards: number, expectedKeysPerShard: number): number {
  const expected = Math.max(0, shards) * Math.max(0, expectedKeysPerShard);
  return Math.min(4096, Math.max(1, Math.ceil(expected / KEYS_PER_PARTITION)));
}

/** Where a shard spills and under which number: `validateShard`'s `spill` option. */
export interface ShardSpill {
  spill: Spill;
  /** The shard's position in the input (0, 1, …): its blobs are named by it. */
  shard: number;
  /** Partitions of the uniqueness keys (spillPartitions); the same for every shard of the input. */
  partitions: number;
}

/** What an evaluator spilling its state is given: its blobs are named under its own prefix. */
export interface SpillWriter {
  readonly shard: number;
  readonly partitions: number;
  /**
   * Schedules writing a blob named `<evaluator>/<name>`; returns the full name. Given a function,
   * the bytes are made only when the blob is written, so that a shard's blobs (all its uniqueness
   * keys, encoded) are not all in memory at once.
   */
  put(name: string, bytes: Uint8Array | (() => Uint8Array)): string;
}
