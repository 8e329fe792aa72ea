/**
 * The cost model of `sluice cost`: what one run of a dataset's pipeline asks of AWS (state
 * transitions, Lambda invocations and their GB-seconds, S3 requests per zone, a CodeBuild build,
 * KMS requests), and what a month of runs costs at list prices. Pure: the command gathers the
 * inputs (contract, run records, options) and prints; tests give inputs and check the arithmetic.
 *
 * The per-run counts are the model's claim about the code, so they are checked against a local run
 * (`sluice run --count-requests`): the store calls of each step below are those the cores make, in
 * the order they make them. What a local run does not do, or does only locally, is named in
 * LOCAL_RUN_DIFFERENCES and tested.
 */
import type { CuratedFormat } from '../../lambdas/shared/contract.js';
import { FUNCTION_MEMORY_MB } from '../../lambdas/shared/function-sizes.js';
import type { Zone } from '../../lambdas/shared/object-store.js';
import { MIN_RECORD_BYTES, spillPartitions } from '../../lambdas/validate/spill.js';
import { addCalls, type StoreCall, type StoreCallCounts } from '../local/counting-object-store.js';
import { PRICES, type PriceName, priceOf } from './cost-prices.js';

export const MiB = 1024 * 1024;
const GB = 1024 ** 3;
/** AWS bills a month as 730 hours. */
export const DAYS_PER_MONTH = 730 / 24;
/** The longest a Lambda invocation may run. */
const LAMBDA_MAX_SECONDS = 900;
/** Keys in one ListObjectsV2 page. */
const LIST_PAGE = 1000;
/** Earlier runs whose record the data docs index reads for their status (lambdas/validate/data-docs.ts). */
const INDEX_RUNS_READ = 49;
/** A landed file up to this size is hashed in memory and written from there; above, landing is read twice (lambdas/ingest/s3-upload.ts). */
const INGEST_IN_MEMORY_BYTES = 64 * MiB;
/** S3ObjectStore: a body of known length above this is a multipart upload, parts of 8 MiB or more. */
const MULTIPART_THRESHOLD = 100 * MiB;
const PART_BYTES = 8 * MiB;
const MAX_PARTS = 10_000;
/** A batch of more objects than this is not HEAD-ed for its size by Validate (lambdas/validate/core.ts). */
const VALIDATE_HEAD_LIMIT = 16;
/** The Version build's compute grows from SMALL to LARGE above this curated size (infra/constructs/versioning.ts). */
const VERSION_LARGE_ABOVE_BYTES = 16 * GB;
/** When raw objects move to Intelligent-Tiering (infra/constructs/lake.ts, rawTieringAfter). */
const RAW_TIERING_AFTER_DAYS = 30;
/** The smallest object S3 Lifecycle moves to Intelligent-Tiering, and that Intelligent-Tiering monitors. */
const TIERING_MIN_OBJECT_BYTES = 128 * 1024;
/** How long an upload stays in landing (infra/constructs/lake.ts, landingExpiration). */
const LANDING_EXPIRATION_DAYS = 30;

/** How fast each step works, and what a run writes besides its data: every figure an assumption, stated. */
export interface Throughput {
  /** Validation of one invocation or shard, MB/s of raw bytes. */
  validateMBps: number;
  /** Ingest's copy of the source into raw (read, sha256, write), MB/s. */
  ingestMBps: number;
  /** Promote's copy of validated records into curated, MB/s. */
  promoteMBps: number;
  /** Every invocation's fixed time: start, contract, S3 round trips, ms. */
  invocationOverheadMs: number;
  /** MergeResults' time per shard's partial state, ms. */
  mergeMsPerShard: number;
  /** The Version build's fixed minutes (provisioning, clone, installing DVC, commit, push). */
  versionFixedMinutes: number;
  /** The Version build's hashing and upload of new curated bytes, MB/s. */
  versionMBps: number;
  /** What the reports zone keeps per run (validation result, data docs page, run records), bytes. */
  reportsBytesPerRun: number;
}

export const DEFAULT_THROUGHPUT: Throughput = {
  // Measured by `npm run bench:scale`: one shard's rate on a worker thread of a busy 2-core machine (docs/scale.md).
  validateMBps: 18,
  ingestMBps: 60,
  promoteMBps: 60,
  invocationOverheadMs: 200,
  mergeMsPerShard: 20,
  versionFixedMinutes: 2,
  versionMBps: 50,
  reportsBytesPerRun: 64 * 1024,
};

export interface CostInputs {
  /** The contract's source type: the s3-upload path is modelled call by call, others per file. */
  sourceType: string;
  /** Raw bytes of one batch. */
  bytes: number;
  rows: number;
  /** Objects in one batch. */
  files: number;
  runsPerDay: number;
  /** A batch over this many MiB takes the sharded branch, cut into shards of this size. */
  shardMb: number;
  /** The contract asks for DVC versions: the Version build runs. */
  dvc: boolean;
  /**
   * Uniqueness expectations of the batch (expect_column_values_to_be_unique,
   * expect_compound_columns_to_be_unique): sharded, each spills its keys and CheckKeyPartitions runs.
   * @default 0
   */
  uniqueness?: number;
  /** The month of operation costed (1 = the first): storage accumulates, raw is never deleted. */
  month: number;
  /** Validated JSON Lines bytes per raw byte of the rows that pass. */
  validatedRatio: number;
  /**
   * Curated bytes per validated byte: 1 when curated holds the JSON Lines (`curated.format: jsonl`),
   * less for Parquet (docs/curated.md).
   * @default 1
   */
  curatedRatio?: number;
  /**
   * The contract's curated format: JSON Lines are copied (the part's size read first), Parquet is
   * written from the records.
   * @default 'jsonl'
   */
  curatedFormat?: CuratedFormat;
  /** Share of rows quarantined. */
  quarantineShare: number;
  throughput: Throughput;
}

/** Every store call of a run, by step, as the pipeline's cores make them. */
export type RunStep =
  | 'upload'
  | 'ingest'
  | 'validate'
  | 'planShards'
  | 'mapRun'
  | 'validateShard'
  | 'planKeyPartitions'
  | 'keyMapRun'
  | 'checkKeyPartition'
  | 'mergeResults'
  | 'promote'
  | 'recordRunStarted'
  | 'recordRun'
  | 'versionBuild';

interface Call {
  step: RunStep;
  zone: Zone;
  call: StoreCall;
  /** Bytes written, where a write's size decides its S3 requests (multipart). */
  bytes?: number;
  /** Keys listed, which decides the LIST pages. */
  keys?: number;
}

export interface LambdaInvocation {
  step: RunStep;
  memoryMb: number;
  seconds: number;
}

/** What one run asks of AWS. */
export interface RunCounts {
  sharded: boolean;
  shards: number;
  /** Partitions of the spilled uniqueness keys, one CheckKeyPartitions child each: 0 when none are spilled. */
  keyPartitions: number;
  /** Billed transitions: each state the parent execution enters, and per child execution its start and its states. */
  transitions: number;
  /** The states of the parent execution's success path, in order. */
  path: string[];
  lambda: LambdaInvocation[];
  /** Object-store calls by zone (the pipeline's steps and the upload, not the Version build). */
  storeCalls: StoreCallCounts;
  /** The Version build's own S3 traffic, which goes through DVC and the AWS CLI, not the store. */
  versionStoreCalls: StoreCallCounts;
  /** Billed S3 requests by zone, everything included: PUT tier (PUT, LIST) and GET tier (GET, HEAD). */
  s3Requests: Partial<Record<Zone, { put: number; get: number }>>;
  versionMinutes: number;
  versionCompute: 'arm1.small' | 'arm1.large';
  kmsRequests: number;
  /** Invocations the model expects to run longer than Lambda allows. */
  warnings: string[];
}

/** An ASL state as far as the model walks it. */
interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Variable?: string; BooleanEquals?: boolean; Next: string; [operator: string]: unknown }>;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

/**
 * The states one execution enters, from StartAt to a Succeed or Fail state, taking at each Choice
 * the branch that `facts` (the execution's state data) select. Only `BooleanEquals` on a path is
 * read: a Choice the model cannot decide is a broken invariant of the model, not a guess.
 */
export function executionPath(definition: AslDefinition, facts: unknown): string[] {
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name !== undefined) {
    const state: AslState | undefined = definition.States[name];
    if (!state) throw new TypeError(`the state machine has no state '${name}'`);
    if (path.length > Object.keys(definition.States).length) {
      throw new TypeError(`the success path loops at state '${name}'`);
    }
    path.push(name);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End) break;
    name = state.Type === 'Choice' ? chooseNext(name, state, facts) : state.Next;
  }
  return path;
}

function chooseNext(name: string, state: AslState, facts: unknown): string | undefined {
  for (const rule of state.Choices ?? []) {
    const operators = Object.keys(rule).filter((key) => !['Variable', 'Next', 'Comment'].includes(key));
    if (rule.Variable === undefined || operators.join() !== 'BooleanEquals') {
      throw new TypeError(
        `Choice state '${name}': the cost model decides only Variable + BooleanEquals rules, found ${operators.join(', ')}`,
      );
    }
    if (valueAt(facts, rule.Variable, name) === rule.BooleanEquals) return rule.Next;
  }
  return state.Default;
}

function valueAt(facts: unknown, path: string, state: string): unknown {
  let value: unknown = facts;
  for (const part of path.replace(/^\$\./, '').split('.')) {
    if (typeof value !== 'object' || value === null || !(part in value)) {
      throw new TypeError(
        `Choice state '${state}' reads ${path}, which the cost model's run facts do not have`,
      );
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The state data that sends an execution down the path of a batch that is validated and promoted. */
export function successFacts(dvc: boolean, sharded = false, spilledKeys = false): unknown {
  return {
    ingest: { alreadyProcessed: false, waiting: false, empty: false, shard: sharded },
    keyPartitions: { spilled: spilledKeys },
    validation: { promote: true },
    promotion: { version: dvc },
  };
}

/**
 * The sharded branch as the design names it: PlanShards → ValidateShards (a Distributed Map,
 * one child execution per shard, each running one Task) → MergeResults, in place of ValidateBatch.
 */
export const SHARDED_BRANCH = ['PlanShards', 'ValidateShards', 'MergeResults'] as const;
/**
 * Transitions billed per child execution of ValidateShards and of CheckKeyPartitions: one for starting it ("you're charged
 * one state transition for each child workflow execution that the Distributed Map state starts",
 * Step Functions Developer Guide, Transitions) and one per state it enters, its single Task.
 */
export const CHILD_EXECUTION_TRANSITIONS = 1 + 1;

/** The expectations whose keys a shard spills, each a uniqueness check across shards (CheckKeyPartitions). */
export const UNIQUENESS_EXPECTATIONS: ReadonlySet<string> = new Set([
  'expect_column_values_to_be_unique',
  'expect_compound_columns_to_be_unique',
]);

/**
 * Partitions of the spilled uniqueness keys, as PlanShards gives them (lambdas/validate/sharded-core.ts,
 * which sizes records by the bytes per line of the object's start: here, bytes per row); 0 when the
 * batch is not sharded or has no uniqueness expectation.
 */
export function keyPartitionsOf(inputs: CostInputs, shards: number): number {
  if (shards <= 1 || !inputs.uniqueness) return 0;
  const largest = Math.min(inputs.bytes / Math.max(1, inputs.files), inputs.shardMb * MiB);
  const recordBytes = Math.max(MIN_RECORD_BYTES, Math.floor(inputs.bytes / Math.max(1, inputs.rows)));
  return spillPartitions(shards, Math.ceil(largest / recordBytes));
}

/** Shards of a batch of `files` objects of about equal size: one when it is not over the threshold (the single-invocation path). */
export function shardsOf(bytes: number, shardMb: number, files = 1): number {
  const shardBytes = shardMb * MiB;
  if (bytes <= shardBytes) return 1;
  // PlanShards cuts each object of the batch on its own: at least one shard an object.
  return files * Math.ceil(bytes / files / shardBytes);
}

/**
 * What one run of a batch that passes asks of AWS, with `priorRuns` runs of the dataset already
 * validated (the data docs index reads up to 49 of their records, and lists every report key).
 */
export function runCounts(inputs: CostInputs, definition: AslDefinition, priorRuns = 0): RunCounts {
  const shards = shardsOf(inputs.bytes, inputs.shardMb, inputs.files);
  const sharded = shards > 1;
  const keyPartitions = keyPartitionsOf(inputs, shards);
  const parentPath = executionPath(definition, successFacts(inputs.dvc, sharded, keyPartitions > 0));
  const path = sharded ? withShardedBranch(parentPath, definition) : parentPath;
  const children = sharded ? shards + keyPartitions : 0;
  const transitions = path.length + children * CHILD_EXECUTION_TRANSITIONS;

  const calls = storeCallsOfRun(inputs, shards, keyPartitions, priorRuns);
  const lambda = invocationsOf(inputs, shards, keyPartitions);
  const curatedBytes = curatedBytesOf(inputs);
  const versionCompute = curatedBytes > VERSION_LARGE_ABOVE_BYTES ? 'arm1.large' : 'arm1.small';
  const versionMBps = inputs.throughput.versionMBps * (versionCompute === 'arm1.large' ? 3 : 1);
  const versionMinutes = inputs.dvc
    ? Math.ceil(inputs.throughput.versionFixedMinutes + curatedBytes / 1e6 / versionMBps / 60)
    : 0;
  const pipelineCalls = calls.filter((c) => c.step !== 'versionBuild');
  const warnings = lambda
    .filter((invocation) => invocation.seconds > LAMBDA_MAX_SECONDS)
    .map(
      (invocation) =>
        `${invocation.step}: ${Math.round(invocation.seconds)} s at the assumed throughput, over Lambda's ${LAMBDA_MAX_SECONDS} s`,
    );
  return {
    sharded,
    shards,
    keyPartitions,
    transitions,
    path,
    lambda,
    storeCalls: countCalls(pipelineCalls),
    versionStoreCalls: countCalls(calls.filter((c) => c.step === 'versionBuild')),
    s3Requests: billedRequests(calls),
    versionMinutes,
    versionCompute,
    kmsRequests: kmsRequestsOf(calls, shards, keyPartitions),
    warnings: [...new Set(warnings)],
  };
}

/** The parent path with ValidateBatch replaced by the sharded branch (unless the ASL has it already). */
function withShardedBranch(path: readonly string[], definition: AslDefinition): string[] {
  if (SHARDED_BRANCH.every((state) => state in definition.States)) return [...path];
  const at = path.indexOf('ValidateBatch');
  if (at < 0) throw new TypeError('the success path has no ValidateBatch state to shard');
  return [...path.slice(0, at), ...SHARDED_BRANCH, ...path.slice(at + 1)];
}

function validatedBytes(inputs: CostInputs): number {
  return inputs.bytes * (1 - inputs.quarantineShare) * inputs.validatedRatio;
}

function curatedBytesOf(inputs: CostInputs): number {
  return validatedBytes(inputs) * (inputs.curatedRatio ?? 1);
}

function quarantineBytes(inputs: CostInputs): number {
  // A quarantined row carries its record and why it failed: about twice its validated size.
  return inputs.bytes * inputs.quarantineShare * inputs.validatedRatio * 2;
}

/**
 * The store calls of a run, step by step, as the cores make them (lambdas/ingest/s3-upload.ts,
 * lambdas/validate/core.ts and data-docs.ts, lambdas/promote/core.ts, lambdas/record-run/core.ts).
 * A batch of several objects (partner drop, stream) is modelled per object. The sharded steps are
 * those of the design.
 */
function storeCallsOfRun(
  inputs: CostInputs,
  shards: number,
  keyPartitions: number,
  priorRuns: number,
): Call[] {
  const calls: Call[] = [];
  const add = (step: RunStep, zone: Zone, call: StoreCall, times = 1, extra: Partial<Call> = {}) => {
    for (let i = 0; i < times; i++) calls.push({ step, zone, call, ...extra });
  };
  const { files, bytes } = inputs;
  const fileBytes = bytes / files;
  const valid = validatedBytes(inputs);
  const curated = curatedBytesOf(inputs);
  const quarantined = quarantineBytes(inputs);
  const sharded = shards > 1;

  // The source's own upload into landing, one object per file.
  add('upload', 'landing', 'put', files, { bytes: fileBytes });

  // Ingest: the landed object's size, its bytes hashed (and read again to copy when too large to
  // keep in memory), the run record looked up, the object and its manifest written once to raw,
  // the RUNNING run record claimed by a compare-and-swap (read with its ETag, written if unchanged).
  if (inputs.sourceType !== 's3-upload') add('ingest', 'landing', 'list');
  add('ingest', 'landing', 'head', files);
  add('ingest', 'landing', 'read', files * (fileBytes > INGEST_IN_MEMORY_BYTES ? 2 : 1));
  add('ingest', 'reports', 'head');
  add('ingest', 'raw', 'putIfAbsent', files, { bytes: fileBytes });
  add('ingest', 'raw', 'putIfAbsent');
  add('ingest', 'reports', 'readVersioned');
  add('ingest', 'reports', 'putIfMatch');

  // The data docs of a validation: its page, the index rebuilt from a listing of the dataset's
  // report keys and the records of up to 49 earlier runs.
  const reportKeysPerRun = reportKeysOfRun(shards);
  const dataDocs = (step: RunStep) => {
    add(step, 'reports', 'put');
    add(step, 'reports', 'list', 1, { keys: reportKeysListed(priorRuns, reportKeysPerRun) });
    // The records of the newest runs, this run's own (claimed by Ingest) included.
    add(step, 'reports', 'readText', Math.min(priorRuns, INDEX_RUNS_READ) + 1);
    // The column profile: the previous promoted run's (for drift; earlier runs are taken as
    // promoted) found and read, and this run's written.
    if (priorRuns > 0) {
      add(step, 'reports', 'head');
      add(step, 'reports', 'readText');
    }
    add(step, 'reports', 'put');
    add(step, 'reports', 'put');
  };

  if (!sharded) {
    // Validate: the manifest, the objects' sizes (up to 16), the objects streamed once, the
    // validated and quarantined rows, the GX-shaped result and the data docs.
    add('validate', 'raw', 'readText');
    add('validate', 'validated', 'put', 1, { bytes: valid });
    add('validate', 'quarantine', 'put', 1, { bytes: quarantined });
    if (files <= VALIDATE_HEAD_LIMIT) add('validate', 'raw', 'head', files);
    add('validate', 'raw', 'read', files);
    add('validate', 'reports', 'put');
    dataDocs('validate');
  } else {
    // PlanShards: the manifest, the objects' sizes, a small ranged read at each boundary, the
    // shard list written for the map's ItemReader.
    add('planShards', 'raw', 'readText');
    add('planShards', 'raw', 'head', files);
    add('planShards', 'raw', 'read', shards - 1);
    add('planShards', 'reports', 'put');
    // The map run: ItemReader reads the shard list; ResultWriter writes its manifest and results.
    add('mapRun', 'reports', 'readText');
    add('mapRun', 'reports', 'put', 2);
    // Each shard: its byte range, its part of validated and quarantine, its partial state.
    add('validateShard', 'raw', 'read', shards);
    add('validateShard', 'validated', 'put', shards, { bytes: valid / shards });
    add('validateShard', 'quarantine', 'put', shards, { bytes: quarantined / shards });
    add('validateShard', 'reports', 'put', shards);
    // Each shard's uniqueness keys, one blob a partition and expectation, to the run's spill.
    const keyBlobs = keyPartitions * (inputs.uniqueness ?? 0);
    add('validateShard', 'reports', 'put', shards * keyBlobs);
    // PlanKeyPartitions: the shard list, the map run's manifest and results, every partial state;
    // with keys spilled, the keys plan and the partition list.
    add('planKeyPartitions', 'reports', 'readText', 3 + shards);
    if (keyPartitions > 0) {
      add('planKeyPartitions', 'reports', 'put', 2);
      // The second map run: ItemReader reads the partition list; ResultWriter writes its manifest and results.
      add('keyMapRun', 'reports', 'readText');
      add('keyMapRun', 'reports', 'put', 2);
      // Each partition: the keys plan, its blob of every shard's keys of each expectation, its check.
      add('checkKeyPartition', 'reports', 'readText', keyPartitions);
      add('checkKeyPartition', 'reports', 'read', shards * keyBlobs);
      add('checkKeyPartition', 'reports', 'put', keyPartitions);
    }
    // MergeResults: every partial state, each partition's check, the merged result and the data docs.
    add('mergeResults', 'reports', 'readText', shards);
    add('mergeResults', 'reports', 'read', keyPartitions);
    add('mergeResults', 'reports', 'put');
    dataDocs('mergeResults');
  }

  // RecordRunStarted: the raw manifest, for the batch's objects, and the OpenLineage START event.
  add('recordRunStarted', 'raw', 'readText');
  add('recordRunStarted', 'reports', 'put');

  // Promote: each validated part read and written into curated: copied (its size read first), or as Parquet.
  if ((inputs.curatedFormat ?? 'jsonl') === 'jsonl') add('promote', 'validated', 'head', shards);
  add('promote', 'validated', 'read', shards);
  add('promote', 'curated', 'put', shards, { bytes: curated / shards });

  // RecordRun: the record read with its ETag and the final one written if unchanged (a
  // compare-and-swap that did not conflict), then the attempt's own file.
  // The COMPLETE event: whether START was emitted (and delivered), the raw manifest, the
  // validation result for the data-quality facets, the event itself.
  add('recordRun', 'reports', 'head', 2);
  add('recordRun', 'raw', 'readText');
  add('recordRun', 'reports', 'readText');
  add('recordRun', 'reports', 'put');
  add('recordRun', 'reports', 'readVersioned');
  add('recordRun', 'reports', 'putIfMatch');
  add('recordRun', 'reports', 'put');

  if (inputs.dvc) {
    // The Version build: the snapshot sync lists curated and reads the new parts; dvc push lists
    // what the remote has, then writes each new file and the directory's .dir manifest.
    add('versionBuild', 'curated', 'list', 2);
    add('versionBuild', 'curated', 'read', shards);
    add('versionBuild', 'curated', 'put', shards, { bytes: curated / shards });
    add('versionBuild', 'curated', 'put');
  }
  return calls;
}

/** Report keys a run leaves under its dataset's prefix: result, page, record, attempt (and, sharded, the shard list, partial states and map results). */
function reportKeysOfRun(shards: number): number {
  return shards > 1 ? 4 + shards + 3 : 4;
}

/** Keys the data docs list: every earlier run's, and the three this run has written by then. */
function reportKeysListed(priorRuns: number, keysPerRun: number): number {
  return priorRuns * keysPerRun + 3;
}

function countCalls(calls: readonly Call[]): StoreCallCounts {
  const counts: StoreCallCounts = {};
  for (const { zone, call } of calls) addCalls(counts, zone, call);
  return counts;
}

/**
 * What a local run (`sluice run --count-requests`) makes that a deployed run does not, and what it
 * does not make that a deployed run does:
 * - it saves its execution history to `reports/<dataset>/executions/<name>.json` (one put), where
 *   Step Functions keeps a deployed execution's history itself;
 * - its Version step runs DVC on the lake's directory, not through the object store, so the build's
 *   S3 traffic (`versionStoreCalls`) is not among the counted calls;
 * - a sharded run removes its spill from the lake when it ends, uncounted (src/local/pipeline.ts),
 *   where the reports zone's lifecycle rule expires a deployed run's spill: no request.
 */
export const LOCAL_RUN_DIFFERENCES = {
  localOnly: { reports: { put: 1 } } as StoreCallCounts,
  notCounted: 'versionStoreCalls',
} as const;

/** The store calls a local run of the same batch makes (given the model's `storeCalls`), by the rules of LOCAL_RUN_DIFFERENCES. */
export function localRunStoreCalls(storeCalls: StoreCallCounts): StoreCallCounts {
  const calls: StoreCallCounts = structuredClone(storeCalls);
  for (const [zone, byCall] of Object.entries(LOCAL_RUN_DIFFERENCES.localOnly) as Array<
    [Zone, Partial<Record<StoreCall, number>>]
  >) {
    for (const [call, n] of Object.entries(byCall) as Array<[StoreCall, number]>)
      addCalls(calls, zone, call, n);
  }
  return calls;
}

/** The S3 requests a call makes: a large write is a multipart upload (create, parts, complete), a listing one LIST per 1,000 keys. */
export function s3RequestsOf(call: StoreCall, bytes = 0, keys = 0): { put: number; get: number } {
  switch (call) {
    case 'head':
    case 'read':
    case 'readText':
    case 'readVersioned':
      return { put: 0, get: 1 };
    case 'list':
      return { put: Math.max(1, Math.ceil(keys / LIST_PAGE)), get: 0 };
    case 'delete':
      return { put: 0, get: 0 };
    case 'putIfMatch':
      return { put: 1, get: 0 };
    case 'put':
    case 'putIfAbsent': {
      // A stream (`put`) goes multipart above one part; a body of known length above the threshold.
      const threshold = call === 'put' ? PART_BYTES : MULTIPART_THRESHOLD;
      if (bytes <= threshold) return { put: 1, get: 0 };
      const partBytes = Math.max(PART_BYTES, Math.ceil(bytes / MAX_PARTS));
      return { put: 2 + Math.ceil(bytes / partBytes), get: 0 };
    }
  }
}

function billedRequests(calls: readonly Call[]): RunCounts['s3Requests'] {
  const requests: RunCounts['s3Requests'] = {};
  for (const { zone, call, bytes, keys } of calls) {
    const { put, get } = s3RequestsOf(call, bytes, keys);
    const total = requests[zone] ?? { put: 0, get: 0 };
    total.put += put;
    total.get += get;
    requests[zone] = total;
  }
  return requests;
}

/**
 * KMS requests of a run. The zone buckets use SSE-KMS with S3 Bucket Keys (infra/constructs/lake.ts),
 * so S3 asks KMS for a bucket-level key now and then rather than once per object; the model counts
 * one request per bucket that each invocation (each shard's, the upload, the map run, the build)
 * touches: an upper bound.
 */
function kmsRequestsOf(calls: readonly Call[], shards: number, keyPartitions: number): number {
  const zonesByStep = new Map<RunStep, Set<Zone>>();
  for (const { step, zone } of calls) zonesByStep.set(step, (zonesByStep.get(step) ?? new Set()).add(zone));
  const invocations: Partial<Record<RunStep, number>> = {
    validateShard: shards,
    checkKeyPartition: keyPartitions,
  };
  let requests = 0;
  for (const [step, zones] of zonesByStep) requests += zones.size * (invocations[step] ?? 1);
  return requests;
}

function invocationsOf(inputs: CostInputs, shards: number, keyPartitions: number): LambdaInvocation[] {
  const t = inputs.throughput;
  const overhead = t.invocationOverheadMs / 1000;
  const mb = inputs.bytes / 1e6;
  const validMb = validatedBytes(inputs) / 1e6;
  const memory = FUNCTION_MEMORY_MB;
  const invocations: LambdaInvocation[] = [
    { step: 'ingest', memoryMb: memory.ingest, seconds: overhead + mb / t.ingestMBps },
    { step: 'recordRunStarted', memoryMb: memory.recordRun, seconds: overhead },
  ];
  if (shards === 1) {
    invocations.push({
      step: 'validate',
      memoryMb: memory.validate,
      seconds: overhead + mb / t.validateMBps,
    });
  } else {
    // The sharded steps run on the validate function's size, as the design has them.
    invocations.push({ step: 'planShards', memoryMb: memory.validate, seconds: overhead });
    for (let i = 0; i < shards; i++) {
      invocations.push({
        step: 'validateShard',
        memoryMb: memory.validate,
        seconds: overhead + mb / shards / t.validateMBps,
      });
    }
    invocations.push({ step: 'planKeyPartitions', memoryMb: memory.validate, seconds: overhead });
    for (let i = 0; i < keyPartitions; i++) {
      // A partition's check reads one blob a shard: its time is the merge's per shard.
      invocations.push({
        step: 'checkKeyPartition',
        memoryMb: memory.validate,
        seconds: overhead + (shards * t.mergeMsPerShard) / 1000,
      });
    }
    invocations.push({
      step: 'mergeResults',
      memoryMb: memory.validate,
      seconds: overhead + (shards * t.mergeMsPerShard) / 1000,
    });
  }
  invocations.push({
    step: 'promote',
    memoryMb: memory.promote,
    seconds: overhead + validMb / t.promoteMBps,
  });
  invocations.push({ step: 'recordRun', memoryMb: memory.recordRun, seconds: overhead });
  return invocations;
}

/** Lambda bills duration rounded up to the millisecond. */
export function gbSeconds(invocation: LambdaInvocation): number {
  return (invocation.memoryMb / 1024) * (Math.ceil(invocation.seconds * 1000) / 1000);
}

export interface CostLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  price: PriceName;
  usd: number;
}

export interface MonthlyCost {
  runsPerMonth: number;
  lines: CostLine[];
  totalUsd: number;
  /** GB-months stored per zone in the costed month. */
  storageGbMonths: Partial<Record<Zone, number>>;
}

/**
 * A month of runs: `runsPerDay` × 730/24 days, each run priced from `runCounts` (the data docs'
 * reads grow with the runs before it, up to 49), plus the storage the lake holds in month
 * `inputs.month`, having kept every batch since the first.
 */
export function monthlyCost(inputs: CostInputs, definition: AslDefinition): MonthlyCost {
  const runsPerMonth = inputs.runsPerDay * DAYS_PER_MONTH;
  const wholeRuns = Math.max(1, Math.round(runsPerMonth));
  const scale = runsPerMonth / wholeRuns;
  const before = Math.round(runsPerMonth * (inputs.month - 1));
  const first = runCounts(inputs, definition, before);

  // Everything but the data docs' reads and listing pages is the same every run: those are
  // added run by run to the counts of a run with no run before it.
  const base = runCounts(inputs, definition, 0);
  let getRequests = 0;
  let putRequests = 0;
  for (const r of Object.values(base.s3Requests)) {
    getRequests += r.get * wholeRuns;
    putRequests += r.put * wholeRuns;
  }
  const keysPerRun = reportKeysOfRun(base.shards);
  const pages = (prior: number) => s3RequestsOf('list', 0, reportKeysListed(prior, keysPerRun)).put;
  for (let k = 0; k < wholeRuns; k++) {
    // Earlier runs' records, and the previous run's profile found and read (none before the first run).
    getRequests += Math.min(before + k, INDEX_RUNS_READ) + (before + k > 0 ? 2 : 0);
    putRequests += pages(before + k) - pages(0);
  }
  getRequests *= scale;
  putRequests *= scale;

  const lines: CostLine[] = [];
  const line = (service: string, item: string, quantity: number, price: PriceName) =>
    lines.push({ service, item, quantity, unit: PRICES[price].unit, price, usd: priceOf(price, quantity) });

  const gbs = first.lambda.reduce((sum, invocation) => sum + gbSeconds(invocation), 0);
  line('Lambda', 'duration', gbs * runsPerMonth, 'lambdaGbSecond');
  line('Lambda', 'requests', first.lambda.length * runsPerMonth, 'lambdaRequests');
  line('Step Functions', 'state transitions', first.transitions * runsPerMonth, 'stepFunctionsTransitions');
  line('S3', 'PUT and LIST requests', putRequests, 's3PutRequests');
  line('S3', 'GET and HEAD requests', getRequests, 's3GetRequests');

  const storage = storageOf(inputs, runsPerMonth);
  for (const [zone, gbMonths] of Object.entries(storage.standard)) {
    line('S3', `storage: ${zone} (Standard)`, gbMonths, 's3StandardStorage');
  }
  line('S3', 'storage: raw (Intelligent-Tiering, Infrequent)', storage.rawInfrequent, 's3TieringInfrequent');
  line(
    'S3',
    'storage: raw (Intelligent-Tiering, Archive Instant)',
    storage.rawArchive,
    's3TieringArchiveInstant',
  );
  line('S3', 'raw: tiering monitoring', storage.monitoredObjects, 's3TieringMonitoring');
  line('S3', 'raw: lifecycle transitions', storage.transitions, 's3LifecycleTransitions');

  if (inputs.dvc) {
    line(
      'CodeBuild',
      `Version build (${first.versionCompute})`,
      first.versionMinutes * runsPerMonth,
      first.versionCompute === 'arm1.large' ? 'codebuildArmLarge' : 'codebuildArmSmall',
    );
  }
  line('KMS', 'requests (SSE-KMS, bucket keys)', first.kmsRequests * runsPerMonth, 'kmsRequests');
  line(
    'Data transfer',
    'S3 ↔ Lambda/CodeBuild in region',
    (inputs.bytes * 4 * runsPerMonth) / GB,
    'dataTransferInRegion',
  );

  const storageGbMonths: Partial<Record<Zone, number>> = { ...storage.standard };
  storageGbMonths.raw = (storage.standard.raw ?? 0) + storage.rawInfrequent + storage.rawArchive;
  return {
    runsPerMonth,
    lines,
    totalUsd: lines.reduce((sum, l) => sum + l.usd, 0),
    storageGbMonths,
  };
}

/**
 * The storage billed in month `inputs.month`. Every zone but landing keeps its current objects
 * forever (lifecycle only expires noncurrent versions); landing expires after 30 days; raw moves to
 * Intelligent-Tiering after 30 days, where an object not read for 30 more days drops to Infrequent
 * Access and after 90 to Archive Instant Access (raw is read once, by the run that lands it).
 * Each month's batches are counted at their mid-month age.
 */
function storageOf(inputs: CostInputs, runsPerMonth: number) {
  const perMonth = (bytesPerRun: number) => (bytesPerRun * runsPerMonth) / GB;
  const month = inputs.month;
  // Month-cohorts held in the costed month: the older ones whole, the current one half (its mean age).
  const kept = (gb: number) => gb * (month - 1) + gb / 2;
  const raw = perMonth(inputs.bytes);
  let rawStandard = 0;
  let rawInfrequent = 0;
  let rawArchive = 0;
  // Lifecycle does not move objects under 128 KB to Intelligent-Tiering: they stay in Standard.
  const tiered = inputs.bytes / inputs.files >= TIERING_MIN_OBJECT_BYTES;
  for (let cohort = 0; cohort < month; cohort++) {
    const ageDays = cohort * DAYS_PER_MONTH + DAYS_PER_MONTH / 2;
    const gb = cohort === 0 ? raw / 2 : raw;
    if (!tiered || ageDays < RAW_TIERING_AFTER_DAYS + 30) rawStandard += gb;
    else if (ageDays < RAW_TIERING_AFTER_DAYS + 90) rawInfrequent += gb;
    else rawArchive += gb;
  }
  const curatedCopies = inputs.dvc ? 2 : 1; // DVC keeps its own copy under curated/_dvc/
  const landingDays = Math.min(LANDING_EXPIRATION_DAYS, month * DAYS_PER_MONTH);
  const standard: Partial<Record<Zone, number>> = {
    landing: month === 1 ? raw / 2 : (raw * landingDays) / DAYS_PER_MONTH,
    raw: rawStandard,
    validated: kept(perMonth(validatedBytes(inputs))),
    curated: kept(perMonth(curatedBytesOf(inputs))) * curatedCopies,
    quarantine: kept(perMonth(quarantineBytes(inputs))),
    reports: kept(perMonth(inputs.throughput.reportsBytesPerRun)),
  };
  const tieredObjects = tiered ? inputs.files * runsPerMonth : 0;
  return {
    standard,
    rawInfrequent,
    rawArchive,
    monitoredObjects: tieredObjects * Math.max(0, month - 1),
    transitions: month > 1 ? tieredObjects : 0,
  };
}

export interface ShardRow {
  shardMb: number;
  shards: number;
  sharded: boolean;
  transitions: number;
  lambdaInvocations: number;
  /** Cost of one run, storage excluded (it does not depend on the shard size). */
  runUsd: number;
  monthlyUsd: number;
  /** Validation's wall time: shards, then key partitions, run at once up to `concurrency`. */
  validationSeconds: number;
}

/** How a run's cost and validation time change with the shard size, for the same batch. */
export function shardTable(
  inputs: CostInputs,
  definition: AslDefinition,
  sizesMb: readonly number[] = [64, 256, 1024],
  concurrency = 1000,
): ShardRow[] {
  return sizesMb.map((shardMb) => {
    const sized = { ...inputs, shardMb };
    const counts = runCounts(sized, definition);
    const month = monthlyCost(sized, definition);
    const storageUsd = month.lines
      .filter((l) => l.item.startsWith('storage') || l.item.startsWith('raw:'))
      .reduce((sum, l) => sum + l.usd, 0);
    const shardSeconds = counts.lambda.find(
      (i) => i.step === 'validateShard' || i.step === 'validate',
    )!.seconds;
    const merge = counts.lambda.find((i) => i.step === 'mergeResults')?.seconds ?? 0;
    const plan = counts.lambda.find((i) => i.step === 'planShards')?.seconds ?? 0;
    const planKeys = counts.lambda.find((i) => i.step === 'planKeyPartitions')?.seconds ?? 0;
    const check = counts.lambda.find((i) => i.step === 'checkKeyPartition')?.seconds ?? 0;
    const keys = planKeys + Math.ceil(counts.keyPartitions / concurrency) * check;
    return {
      shardMb,
      shards: counts.shards,
      sharded: counts.sharded,
      transitions: counts.transitions,
      lambdaInvocations: counts.lambda.length,
      runUsd: (month.totalUsd - storageUsd) / month.runsPerMonth,
      monthlyUsd: month.totalUsd,
      validationSeconds: plan + Math.ceil(counts.shards / concurrency) * shardSeconds + keys + merge,
    };
  });
}
