import { PassThrough } from 'node:stream';
import { type Contract, contractNamed } from '../shared/contract.js';
import { quarantineKey, type RunLocation, validatedKey, validationReportKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { ProgressListener } from '../shared/progress.js';
import { readBatchKeys } from '../shared/raw-manifest.js';
import { writeDataDocs } from './data-docs.js';
import { type ValidationOutcome, validateStream } from './engine.js';
import type { Profile } from './profile.js';
import { compareProfiles, type ProfileDrift } from './profile-drift.js';
import { wantsPreviousPartition, withPreviousPartitions } from './profile-kl.js';
import { describeBatch, openRawBatch } from './raw-batch.js';
import {
  type HistoryEntry,
  previousPromotedProfile,
  profileKey,
  readHistory,
  type StoredProfile,
} from './report-history.js';
import { publishedResult } from './result-format.js';
import { checkSnapshot, withSnapshot } from './snapshot.js';

export interface ValidateInput {
  dataset: string;
  runId: string;
  dt: string;
  rawKey: string;
  /**
   * The batch's raw manifest, which lists its objects in order (HTTP pages, partner files); without
   * it, the batch is `rawKey` alone. The state machine passes this key, never the list: a list
   * grows with the batch, and a state stops at 256 KiB.
   */
  manifestKey?: string;
}

export interface ValidateOutput {
  promote: boolean;
  success: boolean;
  summary: string;
  rows: ValidationOutcome['rows'];
  statistics: ValidationOutcome['result']['statistics'];
  reasons: string[];
  reportKey: string;
  /** The run's HTML data docs, next to reportKey, and the dataset's index of runs. */
  htmlReportKey: string;
  reportsIndexKey: string;
  validatedKey: string;
  quarantineKey: string;
}

export interface ValidatePorts {
  store: ObjectStore;
  contracts: ReadonlyMap<string, Contract>;
  onProgress?: ProgressListener;
}

/**
 * Streams one raw batch through its contract: records that pass go to the validated zone as typed
 * JSON Lines, records that fail go to quarantine with row, column, expectation and reason (and, in
 * a batch of several objects, the object they are in), and the GX-shaped result goes to the
 * reports zone. Memory stays flat in the batch size.
 */
export async function validateBatch(input: ValidateInput, ports: ValidatePorts): Promise<ValidateOutput> {
  const declared = contractNamed(ports.contracts, input.dataset);
  const { store } = ports;
  const run: RunLocation = { dataset: declared.name, dt: input.dt, runId: input.runId };
  const keys = {
    validated: validatedKey(run),
    quarantine: quarantineKey(run),
    report: validationReportKey(run),
  };
  const rawKeys = input.manifestKey ? await readBatchKeys(store, input.manifestKey) : [input.rawKey];
  const source = describeBatch(store, rawKeys);
  const contract = await partitionsFromPreviousRun(store, declared, run);

  const outcome = await validateIntoZones(store, contract, rawKeys, {
    source,
    keys,
    onProgress: ports.onProgress,
  });
  return concludeValidation(store, contract, run, outcome, { source, keys, parts: keys.validated });
}

/**
 * What ValidateBatch and MergeResults conclude alike from a batch's outcome: a batch that may be
 * promoted checked against the snapshot it would join (its validated `parts`), the reports and
 * data docs written, and the keys the next states read.
 */
export async function concludeValidation(
  store: ObjectStore,
  contract: Contract,
  run: RunLocation,
  validated: ValidationOutcome,
  written: { source: string; keys: BatchKeys; parts: string | readonly string[] },
): Promise<ValidateOutput> {
  let outcome = validated;
  if (outcome.decision.promote) {
    const check = await checkSnapshot(store, contract, run, written.parts);
    if (check) outcome = withSnapshot(outcome, check);
  }
  const { source, keys } = written;
  const docs = await writeReports(store, contract, run, outcome, { source, keys });
  return {
    promote: outcome.decision.promote,
    success: outcome.result.success,
    summary: summarise(contract.name, run.runId, outcome),
    rows: outcome.rows,
    statistics: outcome.result.statistics,
    reasons: outcome.decision.reasons,
    reportKey: keys.report,
    htmlReportKey: docs.htmlKey,
    reportsIndexKey: docs.indexKey,
    validatedKey: keys.validated,
    quarantineKey: keys.quarantine,
  };
}

/** Where a batch's outputs go: the validated and quarantine objects and the report. */
export type BatchKeys = { validated: string; quarantine: string; report: string };

/**
 * Streams the batch through the contract into the validated and quarantine objects, uploading
 * them as they are written.
 */
async function validateIntoZones(
  store: ObjectStore,
  contract: Contract,
  rawKeys: string[],
  batch: { source: string; keys: BatchKeys; onProgress: ProgressListener | undefined },
): Promise<ValidationOutcome> {
  const { source, keys } = batch;
  return intoZones(store, keys, async (outputs) => {
    // Asked before the batch is opened: nothing waits between opening its stream and reading it.
    const sizeBytes = await batchSize(store, rawKeys);
    const raw = await openRawBatch(store, rawKeys, contract);
    return validateStream(raw.stream, contract, outputs, {
      source,
      onProgress: batch.onProgress,
      sizeBytes,
      origins: raw.origins,
      quarantineSamples: true,
    });
  });
}

/**
 * Runs `work` with two streams that are uploaded as they are written: the validated object and
 * the quarantine object at `keys`. The streams are ended once `work` is done, and the uploads
 * awaited; when `work` or an upload fails, both are stopped and the error is thrown.
 */
export async function intoZones<T>(
  store: ObjectStore,
  keys: { validated: string; quarantine: string },
  work: (outputs: { valid: PassThrough; quarantine: PassThrough }) => Promise<T>,
): Promise<T> {
  const valid = new PassThrough();
  const quarantine = new PassThrough();
  const uploads = Promise.all([
    store.put('validated', keys.validated, valid, { contentType: 'application/x-ndjson' }),
    store.put('quarantine', keys.quarantine, quarantine, { contentType: 'application/x-ndjson' }),
  ]);
  // A failed upload is reported through `uploads`; the streams then end destroyed with its error,
  // which must not also be an unhandled 'error' event that takes the whole process down.
  for (const stream of [valid, quarantine]) stream.on('error', () => undefined);
  // An upload that fails early must not leave the engine blocked on backpressure.
  uploads.catch((error: unknown) => {
    valid.destroy(error as Error);
    quarantine.destroy(error as Error);
  });

  let result: T;
  try {
    result = await work({ valid, quarantine });
  } catch (error) {
    valid.destroy();
    quarantine.destroy();
    await uploads.catch(() => undefined);
    throw error;
  }
  valid.end();
  quarantine.end();
  await uploads;
  return result;
}

/** Writes the batch's GX-shaped result to the reports zone, and its data docs next to it. */
export async function writeReports(
  store: ObjectStore,
  contract: Contract,
  run: RunLocation,
  outcome: ValidationOutcome,
  batch: { source: string; keys: BatchKeys },
): Promise<{ htmlKey: string; indexKey: string }> {
  const { source, keys } = batch;
  const report = {
    ...publishedResult(outcome.result),
    meta: {
      ...outcome.result.meta,
      run_id: run.runId,
      dataset: contract.name,
      batch: { raw: source, dt: run.dt },
      rows: outcome.rows,
      decision: outcome.decision,
      outputs: {
        validated: store.describe('validated', keys.validated),
        quarantine: store.describe('quarantine', keys.quarantine),
      },
    },
  };
  await store.put('reports', keys.report, JSON.stringify(report, null, 2), {
    contentType: 'application/json',
  });
  const history = await readHistory(store, contract.name);
  const drift = outcome.profile && (await driftFromPrevious(store, run, outcome.profile, history.runs));
  if (outcome.profile) {
    const stored: StoredProfile = {
      dataset: contract.name,
      run_id: run.runId,
      dt: run.dt,
      profile: outcome.profile,
      ...(drift ? { drift } : {}),
    };
    await store.put('reports', profileKey(run), JSON.stringify(stored), { contentType: 'application/json' });
  }
  return writeDataDocs(
    store,
    run,
    outcome.result,
    {
      dataset: contract.name,
      runId: run.runId,
      decision: outcome.decision,
      rows: outcome.rows,
      outputs: { ...report.meta.outputs, report: store.describe('reports', keys.report) },
      ...(outcome.profile ? { profile: outcome.profile } : {}),
      ...(drift ? { drift } : {}),
      ...(outcome.quarantineSamples ? { quarantineSamples: outcome.quarantineSamples } : {}),
    },
    history,
  );
}

/**
 * The contract with the partition objects its KL divergence expectations leave to the previous
 * promoted run (profile-kl.ts); the reports zone is read only when one of them does.
 */
export async function partitionsFromPreviousRun(
  store: ObjectStore,
  contract: Contract,
  run: RunLocation,
): Promise<Contract> {
  if (!contract.expectations.some(wantsPreviousPartition)) return contract;
  const history = await readHistory(store, contract.name);
  const previous = await previousPromotedProfile(store, contract.name, history.runs, run.runId);
  return withPreviousPartitions(
    contract,
    previous && { runId: previous.run.runId, profile: previous.profile },
  );
}

/** How the run's profile compares with the latest promoted run's, when there is one. */
async function driftFromPrevious(
  store: ObjectStore,
  run: RunLocation,
  profile: Profile,
  runs: readonly HistoryEntry[],
): Promise<ProfileDrift | undefined> {
  const previous = await previousPromotedProfile(store, run.dataset, runs, run.runId);
  if (!previous) return undefined;
  return compareProfiles(previous.profile, profile, { runId: previous.run.runId, dt: previous.run.dt });
}

export function summarise(dataset: string, runId: string, outcome: ValidationOutcome): string {
  const { rows, result, decision } = outcome;
  const stats = result.statistics;
  const head =
    `${dataset} run ${runId}: ${rows.read} rows read, ${rows.valid} validated, ${rows.quarantined} quarantined; ` +
    `${stats.successful_expectations}/${stats.evaluated_expectations} expectations met` +
    (decision.warnings.length > 0
      ? ` (${decision.warnings.length} warning${decision.warnings.length === 1 ? '' : 's'})`
      : '');
  if (decision.promote) {
    const quarantined =
      rows.quarantined > 0 ? ' Promoted the rows that passed; the rest are in quarantine.' : '';
    return `${head}.${quarantined}${decision.reasons.length > 0 ? ` ${decision.reasons.join(' ')}` : ''}`;
  }
  return `${head}. Not promoted: ${decision.reasons.join(' ')}`;
}

/**
 * The batch's size in bytes, for the engine's estimate of its record count; undefined (no
 * estimate) for a batch of many objects, where a HEAD request per object would cost more.
 */
async function batchSize(store: ObjectStore, keys: readonly string[]): Promise<number | undefined> {
  if (keys.length > 16) return undefined;
  const sizes = await Promise.all(keys.map((key) => store.head('raw', key)));
  return sizes.every((info) => info !== undefined)
    ? sizes.reduce((sum, info) => sum + info!.size, 0)
    : undefined;
}
