import { createHash } from 'node:crypto';
import type { PartnerDropSourceConfig } from '../shared/contract.js';
import { ChecksumMismatch, IncompleteBatch, UnsupportedSource } from '../shared/errors.js';
import { dateOf, fileNameOf, manifestKey, type RunLocation, rawKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { type RunRecord, readRunRecord, writeRunRecord, writeTriggerRun } from '../shared/run-record.js';
import { hashStream, nothingLanded, recordLanding, writeRawOnce } from './landing.js';
import {
  type BatchRecord,
  type BatchState,
  batchState,
  NAMES_SHOWN,
  nameList,
  readBatchRecord,
  writeBatchRecord,
} from './partner-batch.js';
import type {
  IngestOutput,
  PartnerDropTrigger,
  S3UploadTrigger,
  ScheduleTrigger,
  SourceRun,
} from './types.js';

/**
 * Partner drops: a partner writes the files of a batch into a folder of its own under the
 * dataset's landing prefix (`<prefix><batch>/…`), and marks the batch complete last, with a marker
 * (`_SUCCESS`) or a manifest listing each file and its sha256. Every object that arrives starts a
 * run; until the batch is complete the run only waits (nothing is landed or recorded), unless the
 * batch's first file arrived longer than `deadline_minutes` ago: then the run fails with
 * `IncompleteBatch`. A complete batch is landed in raw file by file, byte for byte, and its
 * checksums are verified; a mismatch fails the run with `ChecksumMismatch`, keeps in raw what
 * arrived, and promotes nothing. A scheduled run (the contract's `schedule`) finds batches that
 * are overdue although no file arrived since. What a folder holds, and when a batch in it is
 * complete, is partner-batch.ts.
 */

/** The manifest written beside the landed files. */
export interface PartnerManifest {
  dataset: string;
  runId: string;
  source: { type: 'partner-drop'; prefix: string; batch: string; completedBy: string };
  files: Array<{
    name: string;
    key: string;
    sourceKey: string;
    sha256: string;
    size: number;
    expectedSha256?: string;
  }>;
  checksums: { verified: boolean; mismatches: Array<{ name: string; expected: string; actual: string }> };
  sha256: string;
  size: number;
  firstArrivedAt?: string;
  receivedAt: string;
  executionId?: string;
}

/** Ingests the batch the triggering object belongs to. */
export async function ingestPartnerDrop(
  run: SourceRun<PartnerDropSourceConfig, PartnerDropTrigger | S3UploadTrigger>,
): Promise<IngestOutput> {
  const { trigger, contract, source, store, now } = run;
  if (!trigger.key.startsWith(source.prefix)) {
    throw new UnsupportedSource(
      `landing key '${trigger.key}' is not under partner prefix '${source.prefix}' of dataset '${contract.name}'`,
    );
  }
  const rest = trigger.key.slice(source.prefix.length);
  if (!rest.includes('/')) {
    throw new UnsupportedSource(
      `'${trigger.key}' lies directly under the partner prefix '${source.prefix}'; expected one folder per batch: ${source.prefix}<batch>/<file>`,
    );
  }
  const batch = rest.split('/')[0]!;
  const record = await readBatchRecord(store, contract.name, batch);
  const state = await batchState(store, source, batch, record);
  if (!state.delivered && record?.manifestKey) return landedBefore(store, contract.name, record.manifestKey);
  if (!state.complete) {
    await failIfOverdue(run, batch, state, record);
    return waiting(contract.name, now, state);
  }
  return landBatch(run, batch, state);
}

/** A scheduled run: fails with IncompleteBatch when a batch is overdue (once per batch), otherwise waits. */
export async function sweepPartnerDrops(
  run: SourceRun<PartnerDropSourceConfig, ScheduleTrigger>,
): Promise<IngestOutput> {
  const { contract, source, store, now } = run;
  const batches = new Set(
    (await store.list('landing', source.prefix))
      .map((key) => key.slice(source.prefix.length))
      .filter((rest) => rest.includes('/'))
      .map((rest) => rest.split('/')[0]!),
  );
  let incomplete = 0;
  let reported = 0;
  for (const batch of [...batches].sort()) {
    const record = await readBatchRecord(store, contract.name, batch);
    const state = await batchState(store, source, batch, record);
    if (!state.delivered || state.complete) continue;
    incomplete++;
    if (record?.status === 'overdue') reported++;
    else await failIfOverdue(run, batch, state, record);
  }
  const batchCount = `${incomplete} incomplete batch${incomplete === 1 ? '' : 'es'}`;
  return {
    ...nothingLanded(`waiting-${contract.name}`, dateOf(now)),
    waiting: true,
    waitingFor:
      incomplete === 0
        ? 'no incomplete batch'
        : `${batchCount}, ${reported === 0 ? 'none' : reported} reported overdue${reported === 0 ? '' : ' before'}`,
  };
}

async function failIfOverdue(
  run: PartnerRun,
  batch: string,
  state: BatchState,
  record: BatchRecord | undefined,
): Promise<void> {
  const { input, contract, source, store, now } = run;
  const since = state.firstArrivedAt;
  if (!since || now.getTime() - since.getTime() <= source.deadline_minutes * 60_000) return;
  if (record?.status === 'overdue') return;
  const message =
    `partner batch ${`${store.describe('landing', state.prefix.slice(0, -1))}/`} is incomplete ${Math.round((now.getTime() - since.getTime()) / 60_000)} min after its first file arrived ` +
    `(deadline_minutes ${source.deadline_minutes}): missing ${nameList(state.missing)}; ` +
    `${state.files.length} file(s) arrived. Nothing was landed; the batch is ingested when it completes.`;
  // A folder used again can have a batch overdue more than once: each is its own run.
  const runId = batchRunId(contract.name, state.prefix, `incomplete@${since.toISOString()}`);
  const failed: RunRecord = {
    dataset: contract.name,
    runId,
    dt: dateOf(since),
    status: 'FAILED',
    executionId: input.executionId,
    startedAt: input.startedAt,
    finishedAt: now.toISOString(),
    trigger: input.trigger,
    error: { name: 'IncompleteBatch', message },
  };
  await writeRunRecord(store, failed);
  await writeTriggerRun(store, contract.name, input.trigger, runId);
  await writeBatchRecord(store, contract.name, {
    ...record,
    batch,
    status: 'overdue',
    at: now.toISOString(),
    runId,
    missing: state.missing,
  });
  throw new IncompleteBatch(message);
}

type PartnerRun = SourceRun<PartnerDropSourceConfig>;
type FileHashes = Map<string, { sha256: string; size: number }>;
type Mismatch = PartnerManifest['checksums']['mismatches'][number];

/** Lands a complete batch in raw, file by file as it arrived, then checks what its manifest promised. */
async function landBatch(run: PartnerRun, batch: string, state: BatchState): Promise<IngestOutput> {
  const { input, contract, store, now } = run;
  const { hashes, sha256, size } = await hashBatch(store, state);
  const runId = batchRunId(contract.name, state.prefix, sha256);
  const previous = await readRunRecord(store, contract.name, runId);
  const dt = previous?.dt ?? dateOf(state.firstArrivedAt ?? now);
  const location: RunLocation = { dataset: contract.name, dt, runId };
  const keys = state.files.map((f) => rawKey(location, fileNameOf(f.name)));
  const output: IngestOutput = {
    runId,
    dt,
    rawKey: keys[0] ?? '',
    files: keys.length,
    manifestKey: manifestKey(location),
    sha256,
    size,
    records: undefined,
    empty: state.files.length === 0,
    waiting: false,
    waitingFor: '',
    duplicate: false,
    alreadyProcessed: false,
  };
  const landed = () =>
    writeBatchRecord(store, contract.name, {
      batch,
      status: 'landed',
      at: now.toISOString(),
      runId,
      manifestKey: output.manifestKey,
      settled: state.settles,
    });
  if (previous?.status === 'SUCCEEDED') {
    // The same bytes delivered again: nothing more to do, and this delivery is settled too.
    await landed();
    return { ...output, duplicate: true, alreadyProcessed: true };
  }

  const duplicate = await landFiles(store, state, keys, hashes);
  const mismatches = checksumMismatches(state, hashes);
  const failure: RunRecord['error'] =
    mismatches.length > 0
      ? { name: 'ChecksumMismatch', message: mismatchMessage(run, state, location, mismatches) }
      : undefined;
  await recordLanding(store, {
    dataset: contract.name,
    input,
    output,
    manifest: batchManifest(run, batch, state, output, keys, hashes, mismatches),
    previous,
    record: failure && { status: 'FAILED', finishedAt: now.toISOString(), error: failure },
  });
  // A batch that does not match its manifest is not settled: the partner sends it again, and
  // its files that were right count again.
  if (failure) throw new ChecksumMismatch(failure.message);
  await landed();
  return { ...output, duplicate };
}

/** First pass: the hash of every file, for the run id and the checksums, and the batch's. */
async function hashBatch(
  store: ObjectStore,
  state: BatchState,
): Promise<{ hashes: FileHashes; sha256: string; size: number }> {
  const hashes: FileHashes = new Map();
  for (const file of state.files)
    hashes.set(file.key, await hashStream(await store.read('landing', file.key)));
  const listing = state.files.map((f) => `${hashes.get(f.key)!.sha256}  ${f.name}\n`).join('');
  const sha256 = createHash('sha256').update(listing).digest('hex');
  const size = state.files.reduce((sum, f) => sum + hashes.get(f.key)!.size, 0);
  return { hashes, sha256, size };
}

/** Second pass: every file in raw, write-once; true when a raw key already held a file's bytes. */
async function landFiles(
  store: ObjectStore,
  state: BatchState,
  keys: string[],
  hashes: FileHashes,
): Promise<boolean> {
  let duplicate = false;
  for (const [index, file] of state.files.entries()) {
    const { sha256, size } = hashes.get(file.key)!;
    const created = await writeRawOnce(store, {
      key: keys[index]!,
      body: { stream: await store.read('landing', file.key), length: size },
      sha256,
      from: store.describe('landing', file.key),
      metadata: { 'source-key': file.key },
    });
    if (!created) duplicate = true;
  }
  return duplicate;
}

/** The files whose sha256 or size differ from what the batch manifest declares. */
function checksumMismatches(state: BatchState, hashes: FileHashes): Mismatch[] {
  const expected = new Map((state.declared ?? []).map((d) => [d.name, d]));
  return state.files.flatMap((f) => {
    const declared = expected.get(f.name);
    const actual = hashes.get(f.key)!;
    if (!declared) return [];
    const problems = [];
    if (declared.sha256 !== actual.sha256)
      problems.push({ name: f.name, expected: declared.sha256, actual: actual.sha256 });
    if (declared.size !== undefined && declared.size !== actual.size) {
      problems.push({ name: f.name, expected: `${declared.size} bytes`, actual: `${actual.size} bytes` });
    }
    return problems;
  });
}

function batchManifest(
  { input, contract, source, now }: PartnerRun,
  batch: string,
  state: BatchState,
  output: IngestOutput,
  keys: string[],
  hashes: FileHashes,
  mismatches: Mismatch[],
): PartnerManifest {
  const expected = new Map((state.declared ?? []).map((d) => [d.name, d]));
  return {
    dataset: contract.name,
    runId: output.runId,
    source: { type: 'partner-drop', prefix: source.prefix, batch, completedBy: state.completedBy!.key },
    files: state.files.map((f, i) => ({
      name: f.name,
      key: keys[i]!,
      sourceKey: f.key,
      sha256: hashes.get(f.key)!.sha256,
      size: hashes.get(f.key)!.size,
      expectedSha256: expected.get(f.name)?.sha256,
    })),
    checksums: { verified: state.declared !== undefined && mismatches.length === 0, mismatches },
    sha256: output.sha256,
    size: output.size,
    firstArrivedAt: state.firstArrivedAt?.toISOString(),
    receivedAt: now.toISOString(),
    executionId: input.executionId,
  };
}

function mismatchMessage(
  { contract, store }: PartnerRun,
  state: BatchState,
  { dt, runId }: RunLocation,
  mismatches: Mismatch[],
): string {
  const shown = mismatches.slice(0, NAMES_SHOWN);
  return (
    `partner batch ${`${store.describe('landing', state.prefix.slice(0, -1))}/`}: ${mismatches.length} file(s) do not match the manifest ${state.completedBy!.name}: ` +
    shown.map((m) => `${m.name} (expected ${m.expected}, found ${m.actual})`).join('; ') +
    (mismatches.length > shown.length
      ? `; and ${mismatches.length - shown.length} more (the raw manifest lists each)`
      : '') +
    `. Nothing was promoted; what arrived is kept in ${`${store.describe('raw', `${contract.name}/dt=${dt}/run=${runId}`)}/`}. Ask the partner to send the batch again.`
  );
}

/** The last batch landed from a folder where nothing was delivered since (another event of that batch). */
async function landedBefore(store: ObjectStore, dataset: string, key: string): Promise<IngestOutput> {
  const manifest = JSON.parse(await store.readText('raw', key)) as PartnerManifest;
  const previous = await readRunRecord(store, dataset, manifest.runId);
  return {
    runId: manifest.runId,
    dt: previous?.dt ?? /\/dt=(\d{4}-\d\d-\d\d)\//.exec(key)?.[1] ?? dateOf(manifest.receivedAt),
    rawKey: manifest.files[0]?.key ?? '',
    files: manifest.files.length,
    manifestKey: key,
    sha256: manifest.sha256,
    size: manifest.size,
    empty: manifest.files.length === 0,
    waiting: false,
    waitingFor: '',
    duplicate: true,
    alreadyProcessed: previous?.status === 'SUCCEEDED',
  };
}

/** The output of a run whose batch is not complete, saying what it lacks. */
function waiting(dataset: string, now: Date, state: BatchState): IngestOutput {
  return {
    ...nothingLanded(`waiting-${dataset}`, dateOf(now)),
    waiting: true,
    waitingFor: `${nameList(state.missing)} (${state.files.length} file${state.files.length === 1 ? '' : 's'} arrived)`,
  };
}

/** Same dataset, batch folder and file hashes give the same run id. */
function batchRunId(dataset: string, prefix: string, sha256: string): string {
  return createHash('sha256')
    .update(`${dataset}\npartner-drop:${prefix}\n${sha256}`)
    .digest('hex')
    .slice(0, 16);
}
