/**
 * Which batch of the curated snapshot came from which source, for contracts whose newer batch from
 * a source replaces the earlier one (`batches: { same_source: replace }`). A batch's source is
 * read from the manifest ingest wrote beside its raw bytes, which is write-once and names it for
 * every source type; nothing else has to be kept in step with curated.
 */
import type { Contract } from './contract.js';
import { CURATED_PART, manifestKey, type RunLocation, runPrefix } from './keys.js';
import type { ObjectStore } from './object-store.js';

/** One promoted batch in the curated zone: its run and its part files. */
export interface CuratedRun extends RunLocation {
  /** Its first part (`part-00000.parquet` or `.jsonl`), which names the batch. */
  key: string;
  /** Every part, in order: one, or one per shard of a batch validated in shards. */
  parts: string[];
}

/**
 * The source a batch's manifest names, as one text that is equal for batches from the same source:
 * - s3-upload: the landing key (a corrected file uploaded under the same key);
 * - partner-drop: the batch folder (`<prefix><batch>/`, the batch sent again);
 * - pulled sources (postgres, http): the data interval (the interval pulled again);
 * undefined for a stream's micro-batch, which never stands for an earlier one, and for a manifest
 * that names no source.
 */
export function sourceKeyOf(manifest: unknown): string | undefined {
  if (typeof manifest !== 'object' || manifest === null) return undefined;
  const { source, interval } = manifest as {
    source?: { type?: unknown; key?: unknown; prefix?: unknown; batch?: unknown };
    interval?: { start?: unknown; end?: unknown };
  };
  if (source?.type === 's3-upload' && typeof source.key === 'string') return `s3-upload:${source.key}`;
  if (
    source?.type === 'partner-drop' &&
    typeof source.prefix === 'string' &&
    typeof source.batch === 'string'
  ) {
    return `partner-drop:${source.prefix}${source.batch}/`;
  }
  if (source?.type === 'stream') return undefined;
  if (typeof interval?.start === 'string' && typeof interval.end === 'string') {
    return `interval:${interval.start}/${interval.end}`;
  }
  return undefined;
}

/** The source key of one run, from its manifest in raw; undefined when it has none. */
export async function sourceKeyOfRun(store: ObjectStore, run: RunLocation): Promise<string | undefined> {
  const key = manifestKey(run);
  if (!(await store.head('raw', key))) return undefined;
  return sourceKeyOf(JSON.parse(await store.readText('raw', key)));
}

/** Every batch promoted to the curated zone of a dataset, in key order (dt, then run id). */
export async function curatedRuns(store: ObjectStore, dataset: string): Promise<CuratedRun[]> {
  const runs = new Map<string, CuratedRun>();
  for (const key of await store.list('curated', `${dataset}/dt=`)) {
    const match = CURATED_PART.exec(key);
    if (!match) continue;
    const run = { dataset, dt: match[1]!, runId: match[2]! };
    const prefix = runPrefix(run);
    const found = runs.get(prefix) ?? { ...run, key: '', parts: [] };
    found.parts.push(key);
    // Parquet or JSON Lines, as the contract said when the run was promoted.
    if (match[3] === '00000') found.key = key;
    runs.set(prefix, found);
  }
  // A run is promoted when its first part is there (promote writes the parts in order).
  return [...runs.values()].filter((run) => run.key !== '');
}

/** Manifests read at once when looking for a source's earlier batches. */
const CONCURRENT_READS = 8;

/**
 * The curated batches a run's batch replaces: with `same_source: replace`, every other promoted
 * batch whose manifest names the same source; none with `append`, or when the run's own source is
 * not known. Costs one small read per promoted batch of the dataset.
 */
export async function supersededRuns(
  store: ObjectStore,
  contract: Contract,
  run: RunLocation,
  curated?: readonly CuratedRun[],
): Promise<CuratedRun[]> {
  if (contract.batches.same_source !== 'replace') return [];
  const source = await sourceKeyOfRun(store, run);
  if (source === undefined) return [];
  const others = (curated ?? (await curatedRuns(store, contract.name))).filter((c) => c.runId !== run.runId);
  const superseded: CuratedRun[] = [];
  for (let i = 0; i < others.length; i += CONCURRENT_READS) {
    const slice = others.slice(i, i + CONCURRENT_READS);
    const sources = await Promise.all(slice.map((other) => sourceKeyOfRun(store, other)));
    slice.forEach((other, j) => {
      if (sources[j] === source) superseded.push(other);
    });
  }
  return superseded;
}
