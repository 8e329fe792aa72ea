import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import { ingest } from '../../lambdas/ingest/core.js';
import { hashStream } from '../../lambdas/ingest/landing.js';
import type { IngestInput, IngestOutput } from '../../lambdas/ingest/types.js';
import { type PromoteInput, promote } from '../../lambdas/promote/core.js';
import { type RecordRunInput, recordRun } from '../../lambdas/record-run/core.js';
import { type Contract, contractNamed } from '../../lambdas/shared/contract.js';
import { ConfigurationError, UnsupportedSource } from '../../lambdas/shared/errors.js';
import { type RunLocation, runPrefix } from '../../lambdas/shared/keys.js';
import type { LineageSettings } from '../../lambdas/shared/lineage-transport.js';
import type { ObjectStore } from '../../lambdas/shared/object-store.js';
import type { ProgressListener } from '../../lambdas/shared/progress.js';
import { readRunRecord } from '../../lambdas/shared/run-record.js';
import { lakeSpillPrefix } from '../../lambdas/shared/run-spill.js';
import type { Interval } from '../../lambdas/shared/schedule.js';
import { type ValidateEvent, validateAction } from '../../lambdas/validate/actions.js';
import {
  type ExecutionReport,
  type HistoryEvent,
  type LocalFunction,
  lakeStorage,
  loadDefinition,
  localFunctionArn,
  runExecution,
  type ThreadedChildren,
} from './asl-runner.js';
import { uncounted } from './counting-object-store.js';
import { type LocalVersioning, localVersionTask } from './version-step.js';

/** Where the repository keeps its state machine, relative to this file. */
export const PIPELINE_ASL = join(import.meta.dirname, '..', '..', 'statemachines', 'pipeline.asl.json');

/** ASL placeholder → function id; CDK fills the same placeholders with deployed ARNs. */
export const PIPELINE_FUNCTIONS = {
  IngestFunctionArn: 'ingest',
  ValidateFunctionArn: 'validate',
  PromoteFunctionArn: 'promote',
  RecordRunFunctionArn: 'record-run',
} as const;

export type FunctionId = (typeof PIPELINE_FUNCTIONS)[keyof typeof PIPELINE_FUNCTIONS];

/** The CodeBuild project of the Version step, as the local runner names it. */
const LOCAL_VERSION_PROJECT = 'sluice-version';

/**
 * The reports bucket of the Distributed Map's ItemReader and ResultWriter: locally a bucket is
 * named by its zone (lakeStorage).
 */
const LOCAL_REPORTS_BUCKET = 'reports';

/**
 * How a run executes the Distributed Maps ValidateShards and CheckKeyPartitions (whose children
 * are actions of the validate function, like any of its steps).
 */
export interface MapRunOptions {
  /** Child executions (shards, key partitions) run at once; by default the number of cores. */
  workers?: number;
  /**
   * Runs the children in worker threads, each building the pipeline's functions from this module
   * (see pipeline-threads.ts); without it, they run in this thread.
   */
  threads?: ThreadedChildren;
}

/**
 * The pipeline's functions as their cores, with the lake and contracts passed in as ports. The
 * ports are checked against each core's own ports type, so a listener of the wrong shape does not
 * compile; a payload is what the state machine passes, as each core declares it.
 */
export function coreFunctions(ports: {
  store: ObjectStore;
  contracts: ReadonlyMap<string, Contract>;
  onProgress?: ProgressListener;
  sleep?: (ms: number) => Promise<unknown>;
  /** Where OpenLineage events go besides the reports zone (`SLUICE_OPENLINEAGE_URL`). */
  lineage?: LineageSettings;
  /** Told when a lineage event could not be delivered; the run goes on. */
  warn?: (message: string, details: Record<string, unknown>) => void;
}): Record<FunctionId, LocalFunction> {
  return {
    ingest: (payload) => ingest(payload as IngestInput, ports),
    validate: (payload) => validateAction(payload as ValidateEvent, ports),
    promote: (payload) => promote(payload as PromoteInput, ports),
    'record-run': (payload) => recordRun(payload as RecordRunInput, ports),
  };
}

/**
 * The pipeline's functions as the deployed Lambda handlers (middy, Powertools, S3 client from
 * the environment), imported in this process. The environment must name the lake buckets,
 * the S3 endpoint and the contracts before this is called.
 */
export async function handlerFunctions(): Promise<Record<FunctionId, LocalFunction>> {
  const modules = {
    ingest: await import('../../lambdas/ingest/handler.js'),
    validate: await import('../../lambdas/validate/handler.js'),
    promote: await import('../../lambdas/promote/handler.js'),
    'record-run': await import('../../lambdas/record-run/handler.js'),
  };
  const invoke =
    (id: FunctionId): LocalFunction =>
    (payload) =>
      (modules[id].handler as (event: unknown, context: Context) => Promise<unknown>)(
        payload,
        lambdaContext(id),
      );
  return {
    ingest: invoke('ingest'),
    validate: invoke('validate'),
    promote: invoke('promote'),
    'record-run': invoke('record-run'),
  };
}

export interface UploadRunOptions extends MapRunOptions {
  dataset: string;
  inputFile: string;
  store: ObjectStore;
  contracts: ReadonlyMap<string, Contract>;
  functions: Record<FunctionId, LocalFunction>;
  retryIntervalMs?: number;
  onEvent?: (event: HistoryEvent) => void;
  /** Where the Version step keeps git and DVC data; without it, a dataset that asks for versions fails the run. */
  versioning?: LocalVersioning;
  /** The landing key; by default the dataset's prefix plus the file's name. */
  landingKey?: string;
  /** Stops the run (Ctrl-C): the execution and the run record are ABORTED. */
  signal?: AbortSignal;
  /** Told when the Version step waits for another run's lock, or takes over a stale one. */
  onWait?: (message: string) => void;
  /** When the upload happened (the trigger's time, which dates the run's partitions); now by default. */
  clock?: () => Date;
}

export interface UploadRunResult {
  landingKey: string;
  report: ExecutionReport;
  historyKey: string;
}

/**
 * Does locally what an upload does in AWS: puts the file under the dataset's landing prefix,
 * then runs the pipeline's state machine with the Object Created trigger EventBridge would send.
 */
export async function runUpload(options: UploadRunOptions): Promise<UploadRunResult> {
  const contract = contractNamed(options.contracts, options.dataset);
  if (contract.source.type !== 's3-upload') {
    throw new UnsupportedSource(
      `dataset '${contract.name}' has source type '${contract.source.type}'; --input applies to 's3-upload' datasets`,
    );
  }
  let size: number;
  try {
    size = statSync(options.inputFile).size;
  } catch (error) {
    throw new ConfigurationError(`cannot read input file ${options.inputFile}: ${(error as Error).message}`);
  }
  const landingKey = options.landingKey ?? `${contract.source.prefix}${basename(options.inputFile)}`;
  await options.store.put('landing', landingKey, createReadStream(options.inputFile));

  const now = (options.clock ?? (() => new Date()))();
  const name = localExecutionName(contract.name);
  const input = {
    dataset: contract.name,
    trigger: { type: 's3-upload', bucket: 'landing', key: landingKey, size, time: now.toISOString() },
  };
  const report = await runPipeline({ ...options, input, name });
  return { landingKey, report, historyKey: await saveReport(options.store, contract.name, report) };
}

export interface DropRunOptions extends Omit<UploadRunOptions, 'inputFile' | 'landingKey'> {
  /** A folder holding one batch: its files, and the marker or manifest when the batch is complete. */
  inputDir: string;
}

/**
 * Does locally what a partner does in AWS: delivers the folder's files into a batch folder under
 * the dataset's partner prefix (`<prefix><folder name>/`), the marker or manifest last, then runs
 * the pipeline with the Object Created trigger of the last file, as EventBridge would.
 *
 * The batch folder is made to hold exactly the folder given: a file the folder no longer has (left
 * by an earlier run of another folder of the same name) is removed, and a file whose bytes are
 * already there is not written again, so that it keeps its arrival time and `deadline_minutes`
 * counts from the first run that brought it. When anything changed, the marker or manifest is
 * written again, last, as a partner completing a new delivery does.
 */
export async function runPartnerDrop(options: DropRunOptions): Promise<UploadRunResult> {
  const contract = contractNamed(options.contracts, options.dataset);
  const { source } = contract;
  if (source.type !== 'partner-drop') {
    throw new UnsupportedSource(
      `dataset '${contract.name}' has source type '${source.type}'; a folder as --input applies to 'partner-drop' datasets`,
    );
  }
  let names: string[];
  try {
    names = readdirSync(options.inputDir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new ConfigurationError(`cannot read input folder ${options.inputDir}: ${(error as Error).message}`);
  }
  if (names.length === 0) throw new ConfigurationError(`input folder ${options.inputDir} holds no file`);
  const completion = source.complete_when.marker ?? source.complete_when.manifest;
  const data = names.filter((n) => n !== completion);
  const batch = `${source.prefix}${basename(resolve(options.inputDir))}/`;
  const { store } = options;

  let changed = false;
  const given = new Set(names);
  for (const key of await store.list('landing', batch)) {
    const name = key.slice(batch.length);
    if (name.includes('/') || given.has(name)) continue;
    await store.delete('landing', key);
    changed = true;
  }
  const deliver = async (name: string, always: boolean) => {
    const key = `${batch}${name}`;
    const file = join(options.inputDir, name);
    if (!always && (await sameBytes(store, key, file))) return;
    await store.put('landing', key, createReadStream(file));
    changed = true;
  };
  for (const name of data) await deliver(name, false);
  if (completion !== undefined && given.has(completion)) await deliver(completion, changed);

  const landingKey = `${batch}${given.has(completion ?? '') ? completion : data.at(-1)!}`;
  const name = localExecutionName(contract.name);
  const input = {
    dataset: contract.name,
    trigger: { type: 'partner-drop', bucket: 'landing', key: landingKey, time: new Date().toISOString() },
  };
  const report = await runPipeline({ ...options, input, name });
  return { landingKey, report, historyKey: await saveReport(store, contract.name, report) };
}

/** Whether the landing object already holds the file's bytes. */
async function sameBytes(store: ObjectStore, key: string, file: string): Promise<boolean> {
  const head = await store.head('landing', key);
  if (!head || head.size !== statSync(file).size) return false;
  const [landed, local] = await Promise.all([
    hashStream(await store.read('landing', key)),
    hashStream(createReadStream(file)),
  ]);
  return landed.sha256 === local.sha256;
}

export type ScheduleRunOptions = Omit<IntervalRunOptions, 'interval'>;

/**
 * Does locally what a dataset's schedule does in AWS for a source that is not pulled: a partner
 * drop's scheduled run, which fails with `IncompleteBatch` for a batch past its deadline although
 * no file arrived since.
 */
export async function runSchedule(options: ScheduleRunOptions): Promise<UploadRunResult> {
  const contract = contractNamed(options.contracts, options.dataset);
  const name = localExecutionName(contract.name);
  const input = { dataset: contract.name, trigger: { type: 'schedule', time: new Date().toISOString() } };
  const report = await runPipeline({ ...options, input, name });
  return { landingKey: '', report, historyKey: await saveReport(options.store, contract.name, report) };
}

export interface IntervalRunOptions extends MapRunOptions {
  dataset: string;
  interval: Interval;
  contracts: ReadonlyMap<string, Contract>;
  store: ObjectStore;
  functions: Record<FunctionId, LocalFunction>;
  retryIntervalMs?: number;
  onEvent?: (event: HistoryEvent) => void;
  versioning?: LocalVersioning;
  /** Take an interval that is off the schedule's grid or has not ended (`sluice run --force`). */
  force?: boolean;
  signal?: AbortSignal;
  onWait?: (message: string) => void;
}

/**
 * Does locally what a schedule does in AWS for a pulled source: runs the pipeline's state machine
 * with the schedule trigger of one data interval, as `sluice start` sends it to the deployed one.
 */
export async function runInterval(options: IntervalRunOptions): Promise<UploadRunResult> {
  const contract = contractNamed(options.contracts, options.dataset);
  const name = localExecutionName(contract.name);
  const input = {
    dataset: contract.name,
    trigger: {
      type: 'schedule',
      time: options.interval.end,
      interval: options.interval,
      ...(options.force ? { force: true } : {}),
    },
  };
  const report = await runPipeline({ ...options, input, name });
  return { landingKey: '', report, historyKey: await saveReport(options.store, contract.name, report) };
}

function localExecutionName(dataset: string): string {
  return `${dataset}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..+/, '')}-${randomBytes(3).toString('hex')}`;
}

async function saveReport(store: ObjectStore, dataset: string, report: ExecutionReport): Promise<string> {
  const historyKey = `${dataset}/executions/${report.name}.json`;
  await store.put('reports', historyKey, JSON.stringify(report, null, 2), {
    contentType: 'application/json',
  });
  return historyKey;
}

/** The values of the definition's `${…}` placeholders in a local run, as CDK fills them deployed. */
export function localSubstitutions(): Record<string, string> {
  return {
    ...Object.fromEntries(
      Object.entries(PIPELINE_FUNCTIONS).map(([placeholder, id]) => [placeholder, localFunctionArn(id)]),
    ),
    VersionProjectName: LOCAL_VERSION_PROJECT,
    ReportsBucketName: LOCAL_REPORTS_BUCKET,
  };
}

export async function runPipeline(
  options: MapRunOptions & {
    input: unknown;
    name: string;
    functions: Record<FunctionId, LocalFunction>;
    retryIntervalMs?: number;
    onEvent?: (event: HistoryEvent) => void;
    versioning?: LocalVersioning;
    /** Stops the run (Ctrl-C): the execution is ABORTED and, with `store`, so is its run record. */
    signal?: AbortSignal;
    /** Told when the Version step waits for another run's lock, or takes over a stale one. */
    onWait?: (message: string) => void;
    store?: ObjectStore;
  },
): Promise<ExecutionReport> {
  const substitutions = localSubstitutions();
  const versioning = options.versioning;
  const version = versioning
    ? localVersionTask(versioning, { signal: options.signal, onWait: options.onWait })
    : async () => {
        throw new ConfigurationError(
          'this dataset asks for DVC versions, and this run has no versioning configured',
        );
      };
  // The run the Ingest step made, for the record of an aborted execution.
  let ingested: IngestOutput | undefined;
  const ingest = options.functions.ingest;
  const functions = new Map(
    Object.values(PIPELINE_FUNCTIONS).map((id) => [localFunctionArn(id), options.functions[id]] as const),
  );
  functions.set(localFunctionArn('ingest'), async (payload) => {
    ingested = (await ingest(payload)) as IngestOutput;
    return ingested;
  });
  const report = await runExecution({
    definition: loadDefinition(PIPELINE_ASL, substitutions),
    functions,
    tasks: { VersionWithDvc: version },
    input: options.input,
    name: options.name,
    retryIntervalMs: options.retryIntervalMs,
    onEvent: options.onEvent,
    signal: options.signal,
    ...(options.store ? { storage: lakeStorage(options.store) } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
  if (report.status === 'ABORTED' && options.store) {
    await recordAborted(options.store, report, ingested, options.functions['record-run']);
  }
  // Only a run that took the sharded branch has a spill in the lake.
  const sharded = report.events.some((event) => event.step === 'PlanShards');
  if (options.store && ingested && sharded) {
    const { dataset } = report.input as { dataset: string };
    await removeRunSpill(uncounted(options.store), { dataset, dt: ingested.dt, runId: ingested.runId });
  }
  return report;
}

/** Spill objects removed at once. */
const DELETES_AT_ONCE = 16;

/**
 * Removes a sharded run's spill from the lake once the run has ended, whichever way. Deployed, the
 * reports zone's lifecycle rule expires the spill by its tag a day later (no function deletes from
 * the lake); a local lake has no lifecycle, so the run removes its own, as it always has.
 */
async function removeRunSpill(store: ObjectStore, run: RunLocation): Promise<void> {
  const keys = await store.list('reports', lakeSpillPrefix(runPrefix(run)));
  let next = 0;
  const deleters = Array.from({ length: Math.min(DELETES_AT_ONCE, keys.length) }, async () => {
    for (let k = next++; k < keys.length; k = next++) await store.delete('reports', keys[k]!);
  });
  await Promise.all(deleters);
}

/**
 * Records an aborted execution's run as ABORTED, unless the run had already finished or had
 * nothing to record (a batch already processed, or still waiting for its files).
 */
async function recordAborted(
  store: ObjectStore,
  report: ExecutionReport,
  ingested: IngestOutput | undefined,
  record: LocalFunction,
): Promise<void> {
  const { dataset, trigger } = report.input as { dataset: string; trigger?: { time?: string } };
  if (ingested && (ingested.alreadyProcessed || ingested.waiting)) return;
  if (ingested) {
    const current = await readRunRecord(store, dataset, ingested.runId);
    if (current && current.status !== 'RUNNING') return;
  }
  const step = report.events.findLast((event) => event.type.endsWith('StateEntered'))?.step;
  // Through the run's own record function, so that its ABORT event goes where its START went.
  await record({
    status: 'ABORTED',
    state: {
      dataset,
      trigger,
      ...(ingested ? { ingest: ingested } : {}),
      error: { Error: 'RunInterrupted', Cause: `the run was interrupted${step ? ` during ${step}` : ''}` },
    },
    executionId: report.executionArn,
    startedAt: new Date(report.startedAt).toISOString(),
  } satisfies RecordRunInput);
}

function lambdaContext(id: string): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `sluice-${id}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(id),
    memoryLimitInMB: '1024',
    awsRequestId: randomBytes(16).toString('hex'),
    logGroupName: `/aws/lambda/sluice-${id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 900_000 - (Date.now() - started),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
