import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RawObjectConflict } from '../shared/errors.js';
import type { Body, ObjectStore, SizedStream } from '../shared/object-store.js';
import { type RunRecord, writeRunRecord, writeTriggerRun } from '../shared/run-record.js';
import type { IngestInput, IngestOutput } from './types.js';

/** A run whose raw objects are in the raw zone, as each ingest path describes it. */
export interface Landing {
  dataset: string;
  input: IngestInput;
  /** What ingest returns for the run: its run id, dt, raw keys and manifest key. */
  output: IngestOutput;
  /** The manifest beside the raw objects; none when nothing was landed (then the record names no raw objects). */
  manifest?: object;
  /** For a source run by interval: where the interval's result is kept (`intervalKey`). */
  intervalKey?: string;
  /** The run's record as read before landing; undefined for a new run. */
  previous: RunRecord | undefined;
  /** What the source adds to the record (`source`, `pulled`, a failure), or raw keys of its own. */
  record?: Partial<RunRecord>;
}

/**
 * Records a landed run, in this order: the manifest beside the raw objects, write-once (a manifest
 * an earlier attempt wrote is kept); the interval's result, for a source run by interval; then the
 * run record, claimed as RUNNING on top of the previous one, so that a repeated trigger finds the
 * run's dt and raw keys. A landing with a failure (`record.status` FAILED) is recorded as failed,
 * and its trigger noted, so that the failure path records the failure on this run.
 */
export async function recordLanding(store: ObjectStore, landing: Landing): Promise<void> {
  const { input, output, manifest } = landing;
  if (manifest) {
    await store.putIfAbsent('raw', output.manifestKey, JSON.stringify(manifest, null, 2), {
      contentType: 'application/json',
    });
  }
  if (landing.intervalKey) await writeIntervalResult(store, landing.intervalKey, output);
  const record: RunRecord = {
    ...(landing.previous ?? {}),
    dataset: landing.dataset,
    runId: output.runId,
    dt: output.dt,
    status: 'RUNNING',
    executionId: input.executionId,
    startedAt: input.startedAt,
    trigger: input.trigger,
    ...(manifest
      ? { raw: { key: output.rawKey, manifestKey: output.manifestKey, files: output.files } }
      : {}),
    ...landing.record,
  };
  await writeRunRecord(store, record);
  // The ingest throws next; the failure path finds this run by the trigger.
  if (record.status === 'FAILED') await writeTriggerRun(store, landing.dataset, input.trigger, output.runId);
}

/** The result an earlier run of the interval wrote, if any. */
export async function readIntervalResult(
  store: ObjectStore,
  intervalKey: string,
): Promise<IngestOutput | undefined> {
  const current = await store.readVersioned('reports', intervalKey);
  if (!current) return undefined;
  // Results written before the state carried a count instead of the keys list every raw key: what
  // ingest returns becomes the execution state, so the list is dropped and counted.
  const { rawKeys, ...stored } = JSON.parse(current.text) as Partial<IngestOutput> & { rawKeys?: string[] };
  return {
    ...(stored as IngestOutput),
    files: stored.files ?? rawKeys?.length ?? 0,
    waitingFor: stored.waitingFor ?? '',
  };
}

/** The result of an interval's run, where a repeated trigger of the interval finds it. */
export async function writeIntervalResult(
  store: ObjectStore,
  intervalKey: string,
  output: IngestOutput,
): Promise<void> {
  await store.put('reports', intervalKey, JSON.stringify(output, null, 2), {
    contentType: 'application/json',
  });
}

/** The output of a run that lands nothing: nothing new in an interval, or a partner batch still waiting. */
export function nothingLanded(runId: string, dt: string): IngestOutput {
  return {
    runId,
    dt,
    rawKey: '',
    files: 0,
    manifestKey: '',
    sha256: '',
    size: 0,
    empty: true,
    waiting: false,
    waitingFor: '',
    duplicate: false,
    alreadyProcessed: false,
  };
}

/** The sha256 and size of a stream's bytes, read once. */
export async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Bytes for one raw key, and what the conflict message calls them. */
export interface RawWrite {
  key: string;
  body: Body | SizedStream;
  /** The sha256 of `body`, kept as the object's `sha256` metadata. */
  sha256: string;
  /** Where the bytes come from, for a conflict's message: the landing object, the extraction. */
  from: string;
  contentType?: string;
  /** Metadata kept beside `sha256`: where the bytes came from (`source-key`, `source-type`). */
  metadata?: Record<string, string>;
}

/**
 * Writes bytes under a raw key once (`putIfAbsent`). True when written; false when the key already
 * held these bytes (a repeated trigger); `RawObjectConflict` when it holds other bytes: raw is
 * never overwritten. The existing object's sha256 is its metadata, or, for an object written
 * without it (by hand, or by a tool that keeps no metadata), the hash of its bytes: the same bytes
 * are the same whatever metadata they were written with.
 */
export async function writeRawOnce(store: ObjectStore, write: RawWrite): Promise<boolean> {
  const { key, sha256 } = write;
  const created = await store.putIfAbsent('raw', key, write.body, {
    contentType: write.contentType,
    metadata: { sha256, ...write.metadata },
  });
  if (created) return true;
  const existing = await store.head('raw', key);
  const existingSha = existing?.metadata.sha256 ?? (await hashStream(await store.read('raw', key))).sha256;
  if (existingSha !== sha256) {
    throw new RawObjectConflict(
      `${store.describe('raw', key)} already holds different bytes (sha256 ${existingSha}); ` +
        `${write.from} (sha256 ${sha256}) was not written. Raw is write-once: ` +
        'fix the cause and land the data under a new run.',
    );
  }
  return false;
}
