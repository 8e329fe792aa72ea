import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Contract } from '../shared/contract.js';
import { ConfigurationError, WatermarkConflict } from '../shared/errors.js';
import { dateOf, intervalKey, manifestKey, type RunLocation, rawKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { type RunRecord, readRunRecord } from '../shared/run-record.js';
import { checkInterval, type Interval, intervalEndingBy, parseSchedule } from '../shared/schedule.js';
import { commitWatermark, readWatermark, type WatermarkState } from '../shared/watermark.js';
import { readIntervalResult, recordLanding, writeIntervalResult, writeRawOnce } from './landing.js';
import type { IngestInput, IngestOutput, ScheduleTrigger, SourceRun } from './types.js';

/** One file an extraction wrote to its temporary directory, ready to be landed in raw. */
export interface ExtractedFile {
  /** File name in the raw run prefix, e.g. `extract.jsonl` or `page-00001.json`. */
  name: string;
  path: string;
  size: number;
  sha256: string;
  records?: number;
  contentType?: string;
}

export interface Extraction {
  /** Nothing new when empty. */
  files: ExtractedFile[];
  records?: number;
  /** Where the watermark moves when this extraction is committed; undefined for sources without one. */
  watermark?: Pick<WatermarkState, 'column' | 'kind' | 'value' | 'cursor'>;
  /** What the manifest records about how the data was read (snapshot, query, pages); never secrets. */
  details: Record<string, unknown>;
}

export interface ExtractContext {
  contract: Contract;
  interval: Interval;
  /** The watermark as read before extracting; undefined on the first run. */
  watermark?: WatermarkState;
  /** A fresh temporary directory for this attempt, removed afterwards. */
  dir: string;
}

/** A source Sluice pulls from on a schedule (postgres, http). */
export interface PulledSource {
  readonly type: string;
  /** Whether the source keeps a watermark; without one, an interval is simply ingested once. */
  readonly incremental: boolean;
  /** What the manifest and run record say the source is (table, URL), never credentials. */
  describe(): Record<string, unknown>;
  extract(context: ExtractContext): Promise<Extraction>;
}

/** The manifest written beside the raw files of a pulled run. */
export interface PulledManifest {
  dataset: string;
  runId: string;
  source: Record<string, unknown>;
  interval: Interval;
  watermark?: { column?: string; from?: string; to?: string };
  files: Array<{ name: string; key: string; sha256: string; size: number; records?: number }>;
  sha256: string;
  size: number;
  records?: number;
  receivedAt: string;
  executionId?: string;
  details: Record<string, unknown>;
}

/** How often an extraction that lost the watermark race starts again before giving up. */
const MAX_ATTEMPTS = 4;

/**
 * The interval a schedule trigger names, or the one its schedule implies at `time`. Refused,
 * unless the trigger is forced, when it is off the schedule's grid or has not ended at `now`
 * (`checkInterval`): a deployed `sluice start` or backfill is held to the same rules as the CLI.
 */
export function intervalOfTrigger(contract: Contract, trigger: ScheduleTrigger, now: Date): Interval {
  const schedule = contract.schedule ? parseSchedule(contract.schedule) : undefined;
  if (!trigger.interval && !schedule) {
    throw new ConfigurationError(
      `dataset '${contract.name}' has no schedule, and its trigger names no interval; start it with an interval (sluice start --interval-start … --interval-end …)`,
    );
  }
  const interval = trigger.interval ?? intervalEndingBy(schedule!, new Date(trigger.time));
  checkInterval(schedule, interval, now, { force: trigger.force, dataset: contract.name });
  return interval;
}

/**
 * Ingests one data interval of a pulled source, exactly once:
 * 1. an interval already committed returns its earlier result (a no-op when its run succeeded);
 * 2. the source extracts what is new since the watermark into temporary files, which are landed
 *    in raw under a run id derived from dataset, interval and content hash (`putIfAbsent`);
 * 3. the watermark is moved by compare-and-swap; a run that loses the race starts again from the
 *    new watermark, and what it had landed stays in raw unreferenced (raw is write-once);
 * 4. the manifest, the interval's result and the run record are written.
 * A crash between 3 and 4 is repaired by the retry: the watermark remembers the run that moved it.
 */
export async function ingestPulled(run: SourceRun<PulledSource, ScheduleTrigger>): Promise<IngestOutput> {
  const { input, trigger, contract, source, store, now } = run;
  const interval = intervalOfTrigger(contract, trigger, now);
  const indexKey = intervalKey(contract.name, interval);
  const done = await readIntervalResult(store, indexKey);
  if (done) return repeated(store, contract.name, done);

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { state, etag } = await readWatermark(store, contract.name);
    const committed = state?.history.find((commit) => sameInterval(commit.interval, interval));
    if (committed) {
      const output = committed.output as IngestOutput;
      await writeIntervalResult(store, indexKey, output);
      return repeated(store, contract.name, output);
    }

    const dir = await mkdtemp(join(tmpdir(), 'sluice-extract-'));
    try {
      const extraction = await source.extract({ contract, interval, watermark: state, dir });
      const landed = await land({ input, contract, source, store, interval, extraction });
      const now = new Date().toISOString();
      if (source.incremental) {
        const next: WatermarkState = {
          dataset: contract.name,
          source: source.type,
          ...state,
          ...extraction.watermark,
          updatedAt: now,
          history: [
            ...(state?.history ?? []),
            {
              runId: landed.output.runId,
              interval,
              from: state?.value,
              to: extraction.watermark?.value,
              at: now,
              executionId: input.executionId,
              output: landed.output,
            },
          ],
        };
        if (!(await commitWatermark(store, next, etag))) continue;
      } else if (!(await store.putIfAbsent('reports', indexKey, JSON.stringify(landed.output, null, 2)))) {
        // Another run of this interval committed first: its result stands.
        return repeated(store, contract.name, (await readIntervalResult(store, indexKey))!);
      }
      await recordLanding(store, {
        dataset: contract.name,
        input,
        output: landed.output,
        manifest: landed.manifest,
        intervalKey: indexKey,
        previous: await readRunRecord(store, contract.name, landed.output.runId),
        record: { pulled: landed.record },
      });
      return landed.output;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw new WatermarkConflict(
    `${store.describe('reports', `${contract.name}/watermark.json`)} was moved by another run during each of ${MAX_ATTEMPTS} extractions of ${interval.start} – ${interval.end}; ` +
      `expected one run at a time to move it. What was extracted is kept in raw, unreferenced; the run is retried.`,
  );
}

/** What an attempt extracted for an interval, to be landed. */
interface ExtractedRun {
  input: IngestInput;
  contract: Contract;
  source: PulledSource;
  store: ObjectStore;
  interval: Interval;
  extraction: Extraction;
}

/** Lands the extracted files in raw, write-once, and prepares the manifest and the record. */
async function land(extracted: ExtractedRun) {
  const { contract, source, store, interval, extraction } = extracted;
  const files = extraction.files;
  const sha256 =
    files.length === 1
      ? files[0]!.sha256
      : createHash('sha256')
          .update(files.map((f) => `${f.sha256}  ${f.name}\n`).join(''))
          .digest('hex');
  const size = files.reduce((sum, f) => sum + f.size, 0);
  const runId = runIdOfInterval(contract.name, source.type, interval, sha256);
  const location: RunLocation = { dataset: contract.name, dt: dateOf(interval.start), runId };
  const keys = files.map((f) => rawKey(location, f.name));

  for (const [index, file] of files.entries()) {
    const key = keys[index]!;
    await writeRawOnce(store, {
      key,
      body: { stream: createReadStream(file.path), length: file.size },
      sha256: file.sha256,
      from: `${file.name} of the ${source.type} extraction`,
      contentType: file.contentType,
      metadata: { 'source-type': source.type },
    });
  }

  const output: IngestOutput = {
    runId,
    dt: location.dt,
    rawKey: keys[0] ?? '',
    files: keys.length,
    manifestKey: files.length > 0 ? manifestKey(location) : '',
    sha256,
    size,
    records: extraction.records,
    empty: files.length === 0,
    waiting: false,
    waitingFor: '',
    duplicate: false,
    alreadyProcessed: false,
  };
  const watermark = extraction.watermark && {
    column: extraction.watermark.column,
    to: extraction.watermark.value,
  };
  const manifest = files.length > 0 ? pulledManifest(extracted, output, keys, watermark) : undefined;
  const record: NonNullable<RunRecord['pulled']> = {
    type: source.type,
    interval,
    watermark,
    files: files.length,
    records: extraction.records,
    sha256,
    size,
  };
  return { output, manifest, record };
}

function pulledManifest(
  { input, contract, source, interval, extraction }: ExtractedRun,
  output: IngestOutput,
  keys: string[],
  watermark: PulledManifest['watermark'],
): PulledManifest {
  return {
    dataset: contract.name,
    runId: output.runId,
    source: source.describe(),
    interval,
    watermark,
    files: extraction.files.map((f, i) => ({
      name: f.name,
      key: keys[i]!,
      sha256: f.sha256,
      size: f.size,
      records: f.records,
    })),
    sha256: output.sha256,
    size: output.size,
    records: extraction.records,
    receivedAt: new Date().toISOString(),
    executionId: input.executionId,
    details: extraction.details,
  };
}

/** Same dataset, source, interval and bytes give the same run id. */
export function runIdOfInterval(dataset: string, type: string, interval: Interval, sha256: string): string {
  return createHash('sha256')
    .update(`${dataset}\n${type}:${interval.start}/${interval.end}\n${sha256}`)
    .digest('hex')
    .slice(0, 16);
}

/** An interval ingested before: nothing new is extracted; done when its run succeeded. */
async function repeated(store: ObjectStore, dataset: string, output: IngestOutput): Promise<IngestOutput> {
  const record = await readRunRecord(store, dataset, output.runId);
  return { ...output, duplicate: true, alreadyProcessed: record?.status === 'SUCCEEDED' };
}

/** Whether two intervals are the same, however their instants are written. */
export function sameInterval(a: Interval, b: Interval): boolean {
  return Date.parse(a.start) === Date.parse(b.start) && Date.parse(a.end) === Date.parse(b.end);
}
