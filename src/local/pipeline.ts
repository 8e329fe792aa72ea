import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import { ingest } from '../../lambdas/ingest/core.js';
import { promote } from '../../lambdas/promote/core.js';
import { recordRun } from '../../lambdas/record-run/core.js';
import { type Contract, contractNamed } from '../../lambdas/shared/contract.js';
import { ConfigurationError, UnsupportedSource } from '../../lambdas/shared/errors.js';
import type { ObjectStore } from '../../lambdas/shared/object-store.js';
import type { Interval } from '../../lambdas/shared/schedule.js';
import { validateBatch } from '../../lambdas/validate/core.js';
import {
  type ExecutionReport,
  type HistoryEvent,
  type LocalFunction,
  loadDefinition,
  localFunctionArn,
  runExecution,
} from './asl-runner.js';
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

/** The pipeline's functions as their cores, with the lake and contracts passed in as ports. */
export function coreFunctions(ports: {
  store: ObjectStore;
  contracts: ReadonlyMap<string, Contract>;
  onProgress?: (progress: { bytesRead: number; rowsRead: number }) => void;
  sleep?: (ms: number) => Promise<unknown>;
}): Record<FunctionId, LocalFunction> {
  return {
    ingest: (payload) => ingest(payload as never, ports),
    validate: (payload) => validateBatch(payload as never, ports),
    promote: (payload) => promote(payload as never, ports),
    'record-run': (payload) => recordRun(payload as never, ports),
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

export interface UploadRunOptions {
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
 * Does locally what a partner does in AWS: copies the folder's files into a batch folder under the
 * dataset's partner prefix (`<prefix><folder name>/`), the marker or manifest last, then runs the
 * pipeline with the Object Created trigger of the last file, as EventBridge would.
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
  const ordered = [...names.filter((n) => n !== completion), ...names.filter((n) => n === completion)];
  const batch = `${source.prefix}${basename(resolve(options.inputDir))}/`;
  for (const name of ordered) {
    await options.store.put('landing', `${batch}${name}`, createReadStream(join(options.inputDir, name)));
  }
  const landingKey = `${batch}${ordered.at(-1)!}`;
  const name = localExecutionName(contract.name);
  const input = {
    dataset: contract.name,
    trigger: { type: 'partner-drop', bucket: 'landing', key: landingKey, time: new Date().toISOString() },
  };
  const report = await runPipeline({ ...options, input, name });
  return { landingKey, report, historyKey: await saveReport(options.store, contract.name, report) };
}

export interface IntervalRunOptions {
  dataset: string;
  interval: Interval;
  contracts: ReadonlyMap<string, Contract>;
  store: ObjectStore;
  functions: Record<FunctionId, LocalFunction>;
  retryIntervalMs?: number;
  onEvent?: (event: HistoryEvent) => void;
  versioning?: LocalVersioning;
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
    trigger: { type: 'schedule', time: options.interval.end, interval: options.interval },
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

export async function runPipeline(options: {
  input: unknown;
  name: string;
  functions: Record<FunctionId, LocalFunction>;
  retryIntervalMs?: number;
  onEvent?: (event: HistoryEvent) => void;
  versioning?: LocalVersioning;
}): Promise<ExecutionReport> {
  const substitutions: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(PIPELINE_FUNCTIONS).map(([placeholder, id]) => [placeholder, localFunctionArn(id)]),
    ),
    VersionProjectName: LOCAL_VERSION_PROJECT,
  };
  const versioning = options.versioning;
  const version = versioning
    ? localVersionTask(versioning)
    : async () => {
        throw new ConfigurationError(
          'this dataset asks for DVC versions, and this run has no versioning configured',
        );
      };
  const functions = new Map(
    Object.values(PIPELINE_FUNCTIONS).map((id) => [localFunctionArn(id), options.functions[id]] as const),
  );
  return runExecution({
    definition: loadDefinition(PIPELINE_ASL, substitutions),
    functions,
    tasks: { VersionWithDvc: version },
    input: options.input,
    name: options.name,
    retryIntervalMs: options.retryIntervalMs,
    onEvent: options.onEvent,
  });
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
