import { createHash } from 'node:crypto';

/**
 * Object keys inside each zone's bucket. Hive-style (`dt=…/run=…`) so Athena, Glue and Spark
 * read them as partitions: `<dataset>/dt=YYYY-MM-DD/run=<runId>/<file>`.
 */

export interface RunLocation {
  dataset: string;
  dt: string;
  runId: string;
}

export function runPrefix({ dataset, dt, runId }: RunLocation): string {
  return `${dataset}/dt=${dt}/run=${runId}/`;
}

/** Raw bytes exactly as received, under their source file name. */
export function rawKey(run: RunLocation, fileName: string): string {
  return `${runPrefix(run)}${fileName}`;
}

/** The manifest next to the raw bytes: source, sha256, size, received-at, run id. */
export function manifestKey(run: RunLocation): string {
  return `${runPrefix(run)}_manifest.json`;
}

export function validatedKey(run: RunLocation): string {
  return `${runPrefix(run)}part-00000.jsonl`;
}

/** The file name extension of each curated format. */
export const CURATED_EXTENSIONS = { parquet: '.parquet', jsonl: '.jsonl' } as const;

/** A run's curated part file `index` (`part-00000.parquet`, …), in the contract's curated format. */
export function curatedPartKey(
  run: RunLocation,
  format: keyof typeof CURATED_EXTENSIONS,
  index: number,
): string {
  return `${runPrefix(run)}part-${String(index).padStart(5, '0')}${CURATED_EXTENSIONS[format]}`;
}

/** A run's first curated part, which names the batch in the curated zone. */
export function curatedKey(run: RunLocation, format: keyof typeof CURATED_EXTENSIONS): string {
  return curatedPartKey(run, format, 0);
}

/** A curated part file in either format: `<dataset>/dt=…/run=…/part-NNNNN.(parquet|jsonl)`. */
export const CURATED_PART = /^[^/]+\/dt=([^/]+)\/run=([^/]+)\/part-(\d{5})\.(parquet|jsonl)$/;

export function quarantineKey(run: RunLocation): string {
  return `${runPrefix(run)}rejected-rows.jsonl`;
}

/** GX-shaped validation result of one run, in the reports zone. */
export function validationReportKey(run: RunLocation): string {
  return `${runPrefix(run)}validation.json`;
}

/** The latest record of a run, whatever its outcome; found by run id alone. */
export function runRecordKey(dataset: string, runId: string): string {
  return `${dataset}/runs/${runId}.json`;
}

/**
 * Which run a trigger became, kept when the ingest recorded a run and then failed it: the failure
 * path, which then has no run id, records the failure on that run and not on one of its own.
 */
export function triggerRunKey(dataset: string, triggerId: string): string {
  return `${dataset}/triggers/${triggerId}.json`;
}

/** One record per attempt, so a failed run repeated after a fix keeps its history. */
export function runAttemptKey(dataset: string, runId: string, startedAt: string): string {
  return `${dataset}/runs/${runId}/attempts/${startedAt.replace(/[:.]/g, '-')}.json`;
}

/**
 * The OpenLineage events of one attempt at a run (one execution), `START.json` and the event that
 * ended it, beside what a transport did not take (`START.undelivered.json`).
 */
export function lineagePrefix(dataset: string, runId: string, startedAt: string): string {
  return `${dataset}/lineage/${runId}/${startedAt.replace(/[:.]/g, '-')}/`;
}

/**
 * Where a pulled source keeps how far it has read (its high-water mark, a paging cursor), in the
 * reports zone. It is only ever replaced with a conditional write (`ObjectStore.putIfMatch`).
 */
export function watermarkKey(dataset: string): string {
  return `${dataset}/watermark.json`;
}

/** The ingest result of one data interval of a pulled source: found again when the interval is re-run. */
export function intervalKey(dataset: string, interval: { start: string; end: string }): string {
  const compact = (iso: string) =>
    new Date(iso)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  return `${dataset}/intervals/${compact(interval.start)}_${compact(interval.end)}.json`;
}

/** `YYYY-MM-DD` of an ISO timestamp or Date, in UTC. */
export function dateOf(time: string | Date): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a timestamp: ${String(time)}`);
  return date.toISOString().slice(0, 10);
}

/**
 * The longest file name kept in the lake: a file system's limit, and short enough that a raw key
 * (`<dataset>/dt=…/run=…/<file>`) stays within S3's 1,024 bytes whatever the landing key was.
 */
const MAX_FILE_NAME = 255;

/**
 * The last path segment of a key, made safe as a file name in the lake: ASCII letters, digits and
 * `._=-` only, never `.` or `..` (a path segment that would leave the run's folder when the lake
 * is copied to disk), at most MAX_FILE_NAME characters. A longer name keeps its start and its
 * extension, with a hash of the whole name between, so that two long names stay two files.
 */
export function fileNameOf(key: string): string {
  const name = (key.split('/').filter(Boolean).pop() ?? 'object').replace(/[^A-Za-z0-9._=-]/g, '_');
  if (name === '.' || name === '..') return name.replaceAll('.', '_');
  if (name.length <= MAX_FILE_NAME) return name;
  const extension = /\.[A-Za-z0-9]{1,16}$/.exec(name)?.[0] ?? '';
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_FILE_NAME - extension.length - hash.length - 1)}-${hash}${extension}`;
}
