import { createHash } from 'node:crypto';
import type { Contract, StreamSourceConfig } from '../shared/contract.js';
import { WatermarkConflict } from '../shared/errors.js';
import { dateOf, intervalKey, manifestKey, type RunLocation } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { readRunRecord } from '../shared/run-record.js';
import type { Interval } from '../shared/schedule.js';
import { nothingLanded, readIntervalResult, recordLanding, writeIntervalResult } from './landing.js';
import { intervalOfTrigger, sameInterval } from './pulled.js';
import type { IngestInput, IngestOutput, ScheduleTrigger, SourceRun } from './types.js';

/**
 * Micro-batches of a stream. Kinesis Data Firehose writes the records into the raw zone itself,
 * partitioned by the hour of each record's `time_field`: `<dataset>/dt=YYYY-MM-DD/hour=HH/<object>`
 * (infra/constructs/stream-ingest.ts). A partition is closed `close_after_minutes` after its hour
 * ends, when Firehose has flushed its buffers. Each scheduled run takes the oldest closed
 * partition that holds objects no run has taken yet, claims exactly those objects in the
 * partition's state (`reports/<dataset>/partitions/…`, moved by compare-and-swap), and hands them
 * to validation as one batch: every object is validated once, late records included (they land
 * in an old partition and are taken by a later run).
 */

interface PartitionState {
  partition: string;
  batches: Array<{ runId: string; keys: string[]; interval: Interval; at: string }>;
}

export function partitionStateKey(dataset: string, partition: string): string {
  return `${dataset}/partitions/${partition.replace(/\//g, '_')}.json`;
}

/** The manifest of a stream micro-batch, in its run prefix; the objects stay where Firehose wrote them. */
export interface StreamManifest {
  dataset: string;
  runId: string;
  source: { type: 'stream'; partition: string };
  interval: Interval;
  files: Array<{ key: string; size: number }>;
  size: number;
  receivedAt: string;
  executionId?: string;
}

const MAX_ATTEMPTS = 4;

export async function ingestStream(
  run: SourceRun<StreamSourceConfig, ScheduleTrigger>,
): Promise<IngestOutput> {
  const { input, trigger, contract, source, store, now } = run;
  const interval = intervalOfTrigger(contract, trigger, now);
  const indexKey = intervalKey(contract.name, interval);
  const done = await readIntervalResult(store, indexKey);
  if (done) {
    const partitions = await closedPartitions(store, contract.name, source, now);
    return withBacklog(store, contract.name, partitions, await repeated(store, contract.name, done));
  }

  for (let attempt = 1; ; attempt++) {
    const partitions = await closedPartitions(store, contract.name, source, now);
    // A run of this interval that claimed a batch and stopped before recording it: that batch.
    for (const partition of partitions) {
      const state = await readState(store, contract.name, partition.name);
      const claimed = state.value?.batches.find((b) => sameInterval(b.interval, interval));
      if (claimed) {
        const output = await finish(store, input, contract.name, partition.name, claimed, indexKey, now);
        return withBacklog(store, contract.name, partitions, output);
      }
    }
    let lost = false;
    for (const partition of partitions) {
      const state = await readState(store, contract.name, partition.name);
      const taken = new Set(state.value?.batches.flatMap((b) => b.keys) ?? []);
      const keys = partition.keys.filter((key) => !taken.has(key));
      if (keys.length === 0) continue;
      const batch = {
        runId: runIdOf(contract.name, partition.name, keys),
        keys,
        interval,
        at: now.toISOString(),
      };
      const next: PartitionState = {
        partition: partition.name,
        batches: [...(state.value?.batches ?? []), batch],
      };
      const claimed = await store.putIfMatch(
        'reports',
        partitionStateKey(contract.name, partition.name),
        JSON.stringify(next, null, 2),
        state.etag,
        { contentType: 'application/json' },
      );
      if (claimed) {
        const output = await finish(store, input, contract.name, partition.name, batch, indexKey, now);
        return withBacklog(store, contract.name, partitions, output);
      }
      // Another run claimed objects of this partition first: look at the partitions again.
      lost = true;
      break;
    }
    if (!lost) break;
    if (attempt === MAX_ATTEMPTS) {
      throw new WatermarkConflict(
        `the partitions of stream dataset '${contract.name}' were claimed by other runs during each of ${MAX_ATTEMPTS} attempts; expected one run at a time. The run is retried.`,
      );
    }
  }
  const output = nothingNew(contract.name, interval);
  await writeIntervalResult(store, indexKey, output);
  return { ...output, stream: { backlog: [] } };
}

/** Hour partitions in the look-back window whose hour ended `close_after_minutes` ago or more. */
async function closedPartitions(
  store: ObjectStore,
  dataset: string,
  source: StreamSourceConfig,
  now: Date,
): Promise<Array<{ name: string; keys: string[] }>> {
  const partitions = new Map<string, string[]>();
  for (let day = source.lookback_days; day >= 0; day--) {
    const date = dateOf(new Date(now.getTime() - day * 86_400_000));
    for (const key of await store.list('raw', `${dataset}/dt=${date}/hour=`)) {
      const match = /^[^/]+\/dt=(\d{4}-\d\d-\d\d)\/hour=(\d\d)\/[^/]+$/.exec(key);
      if (!match) continue;
      const end = Date.parse(`${match[1]}T${match[2]}:00:00Z`) + 3_600_000;
      if (end + source.close_after_minutes * 60_000 > now.getTime()) continue;
      const name = `dt=${match[1]}/hour=${match[2]}`;
      partitions.set(name, [...(partitions.get(name) ?? []), key]);
    }
  }
  return [...partitions.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, keys]) => ({ name, keys: keys.sort() }));
}

async function finish(
  store: ObjectStore,
  input: IngestInput,
  dataset: string,
  partition: string,
  batch: PartitionState['batches'][number],
  indexKey: string,
  now: Date,
): Promise<IngestOutput> {
  const dt = /dt=(\d{4}-\d\d-\d\d)/.exec(partition)![1]!;
  const run: RunLocation = { dataset, dt, runId: batch.runId };
  const sizes = await Promise.all(batch.keys.map(async (key) => (await store.head('raw', key))?.size ?? 0));
  const size = sizes.reduce((a, b) => a + b, 0);
  const manifest: StreamManifest = {
    dataset,
    runId: batch.runId,
    source: { type: 'stream', partition },
    interval: batch.interval,
    files: batch.keys.map((key, i) => ({ key, size: sizes[i]! })),
    size,
    receivedAt: now.toISOString(),
    executionId: input.executionId,
  };
  const output: IngestOutput = {
    runId: batch.runId,
    stream: { partition, backlog: [] },
    dt,
    rawKey: batch.keys[0]!,
    files: batch.keys.length,
    manifestKey: manifestKey(run),
    sha256: batch.runId,
    size,
    empty: false,
    waiting: false,
    waitingFor: '',
    duplicate: false,
    alreadyProcessed: false,
  };
  await recordLanding(store, {
    dataset,
    input,
    output,
    manifest,
    intervalKey: indexKey,
    previous: await readRunRecord(store, dataset, batch.runId),
  });
  return output;
}

/**
 * The output with the closed hours that still hold objects no run has taken, oldest first: each
 * later run of the schedule takes the oldest of them, so the caller can say when they are taken.
 */
async function withBacklog(
  store: ObjectStore,
  dataset: string,
  partitions: Array<{ name: string; keys: string[] }>,
  output: IngestOutput,
): Promise<IngestOutput> {
  return {
    ...output,
    stream: { partition: output.stream?.partition, backlog: await backlogOf(store, dataset, partitions) },
  };
}

async function backlogOf(
  store: ObjectStore,
  dataset: string,
  partitions: Array<{ name: string; keys: string[] }>,
): Promise<string[]> {
  const backlog: string[] = [];
  for (const partition of partitions) {
    const state = await readState(store, dataset, partition.name);
    const taken = new Set(state.value?.batches.flatMap((b) => b.keys) ?? []);
    if (partition.keys.some((key) => !taken.has(key))) backlog.push(partition.name);
  }
  return backlog;
}

/**
 * For `sluice run`: the hour an interval's run took (none when it found nothing new), and the
 * closed hours that still wait at `now`, oldest first. The state machine passes on only the
 * fields every source returns, so the CLI reads this from the lake after the run.
 */
export async function streamIntervalStatus(
  store: ObjectStore,
  contract: Contract,
  source: StreamSourceConfig,
  interval: Interval,
  now: Date,
): Promise<{ partition?: string; backlog: string[] }> {
  const done = await readIntervalResult(store, intervalKey(contract.name, interval));
  const partitions = await closedPartitions(store, contract.name, source, now);
  return { partition: done?.stream?.partition, backlog: await backlogOf(store, contract.name, partitions) };
}

async function readState(
  store: ObjectStore,
  dataset: string,
  partition: string,
): Promise<{ value?: PartitionState; etag?: string }> {
  const current = await store.readVersioned('reports', partitionStateKey(dataset, partition));
  return current ? { value: JSON.parse(current.text) as PartitionState, etag: current.etag } : {};
}

async function repeated(store: ObjectStore, dataset: string, output: IngestOutput): Promise<IngestOutput> {
  if (output.empty) return { ...output, duplicate: true };
  const record = await readRunRecord(store, dataset, output.runId);
  return { ...output, duplicate: true, alreadyProcessed: record?.status === 'SUCCEEDED' };
}

function nothingNew(dataset: string, interval: Interval): IngestOutput {
  return nothingLanded(runIdOf(dataset, `interval ${interval.start}`, []), dateOf(interval.start));
}

function runIdOf(dataset: string, partition: string, keys: string[]): string {
  return createHash('sha256')
    .update(`${dataset}\nstream:${partition}\n${keys.join('\n')}`)
    .digest('hex')
    .slice(0, 16);
}
