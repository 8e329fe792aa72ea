/**
 * A Distributed Map state run locally, as Step Functions runs one: aws-local-stepfunctions does not
 * (its ItemReader fails, ItemBatcher and ResultWriter are ignored), so the runner hands it a Task in
 * the Map state's place and runs the map run here: items read as `ItemReader` reads them, shaped by
 * `ItemSelector`, grouped by `ItemBatcher`, each batch a child execution of the `ItemProcessor`,
 * at most `MaxConcurrency` of them at once, failures judged against `ToleratedFailurePercentage` /
 * `ToleratedFailureCount`, results written where `ResultWriter` says.
 *
 * The Task keeps the Map state's InputPath, ResultSelector, ResultPath, OutputPath, Retry, Catch and
 * Next/End, so the interpreter applies them to the map run's result as it would to the Map's.
 */
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import type { ExecutionReport } from './asl-runner.js';
import {
  type BatcherSpec,
  batchItems,
  type ItemReaderSpec,
  type MapRunStorage,
  readItems,
  StatesError,
} from './distributed-map-items.js';
import type { HistoryEvent } from './execution-history.js';

/** The resource of the Task that stands for a Distributed Map state; only the local runner knows it. */
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::sluice:distributedMap';

export interface DistributedMapState {
  Type: 'Map';
  ItemProcessor: {
    ProcessorConfig?: { Mode?: string; ExecutionType?: string };
    StartAt: string;
    States: Record<string, unknown>;
  };
  ItemReader?: {
    Resource: string;
    Parameters?: Record<string, unknown>;
    ReaderConfig?: Record<string, unknown>;
  };
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  /** The older name of ItemSelector. */
  Parameters?: Record<string, unknown>;
  ItemBatcher?: {
    MaxItemsPerBatch?: number;
    MaxItemsPerBatchPath?: string;
    MaxInputBytesPerBatch?: number;
    MaxInputBytesPerBatchPath?: string;
    BatchInput?: Record<string, unknown>;
  };
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailurePercentagePath?: string;
  ToleratedFailureCount?: number;
  ToleratedFailureCountPath?: string;
  ResultWriter?: {
    Resource?: string;
    Parameters?: Record<string, unknown>;
    WriterConfig?: { Transformation?: 'NONE' | 'COMPACT' | 'FLATTEN'; OutputType?: 'JSON' | 'JSONL' };
  };
  Label?: string;
}

/** Fields the standing-in Task keeps from the Map state: the interpreter applies them. */
const KEPT_FIELDS = [
  'Comment',
  'InputPath',
  'OutputPath',
  'ResultPath',
  'ResultSelector',
  'Retry',
  'Catch',
  'Next',
  'End',
] as const;

export function isDistributedMap(state: unknown): state is DistributedMapState {
  const candidate = state as Partial<DistributedMapState> | undefined;
  return candidate?.Type === 'Map' && candidate.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/**
 * The definition with each top-level Distributed Map state replaced by a Task of
 * DISTRIBUTED_MAP_RESOURCE whose parameters are the state's effective input and the context object.
 * A Distributed Map inside a Parallel branch or an inline Map is refused rather than run wrongly.
 */
export function withDistributedMapsAsTasks(definition: StateMachineDefinition): {
  definition: StateMachineDefinition;
  maps: Map<string, DistributedMapState>;
} {
  const maps = new Map<string, DistributedMapState>();
  const states: Record<string, unknown> = {};
  for (const [name, state] of Object.entries(
    definition.States as unknown as Record<string, Record<string, unknown>>,
  )) {
    if (!isDistributedMap(state)) {
      refuseNestedDistributedMaps(name, state);
      states[name] = state;
      continue;
    }
    maps.set(name, state);
    const task: Record<string, unknown> = {
      Type: 'Task',
      Resource: DISTRIBUTED_MAP_RESOURCE,
      Parameters: { 'input.$': '$', 'context.$': '$$' },
    };
    for (const field of KEPT_FIELDS) {
      if (state[field] !== undefined) task[field] = state[field];
    }
    states[name] = task;
  }
  return { definition: { ...definition, States: states } as StateMachineDefinition, maps };
}

function refuseNestedDistributedMaps(name: string, state: Record<string, unknown>): void {
  const inner: Array<{ States?: Record<string, unknown> }> = [
    ...((state.Branches as Array<{ States?: Record<string, unknown> }>) ?? []),
    ...(state.Iterator ? [state.Iterator as { States?: Record<string, unknown> }] : []),
    ...(state.Type === 'Map' && state.ItemProcessor
      ? [state.ItemProcessor as { States?: Record<string, unknown> }]
      : []),
  ];
  for (const branch of inner) {
    for (const [innerName, innerState] of Object.entries(branch.States ?? {})) {
      if (isDistributedMap(innerState)) {
        throw new ConfigurationError(
          `state '${innerName}' in '${name}': the local runner runs a Distributed Map only at the top level of a state machine or of a Distributed Map's ItemProcessor`,
        );
      }
      refuseNestedDistributedMaps(innerName, innerState as Record<string, unknown>);
    }
  }
}

/** Runs one child execution of the ItemProcessor. */
export type ChildRunner = (run: {
  input: unknown;
  name: string;
  signal?: AbortSignal;
}) => Promise<ExecutionReport>;

export type MapRunStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface MapRunCounts {
  total: number;
  succeeded: number;
  failed: number;
  /** Not started: the map run failed or was aborted first. */
  pending: number;
}

/** One map run, as DescribeMapRun and the console's Map Run page show it. */
export interface MapRunReport {
  mapRunArn: string;
  /** The Distributed Map state that started it. */
  step: string;
  status: MapRunStatus;
  startedAt: number;
  stoppedAt: number;
  maxConcurrency: number;
  toleratedFailurePercentage: number;
  toleratedFailureCount: number;
  itemCounts: MapRunCounts;
  executionCounts: MapRunCounts;
  error?: string;
  cause?: string;
  /** Each child execution with its own history, in item order. */
  executions: ExecutionReport[];
}

export interface MapRunPorts {
  /** Required when the state reads items from S3 or writes results to S3. */
  storage?: MapRunStorage;
  runChild: ChildRunner;
  /** The most child executions this machine runs at once; MaxConcurrency may lower it. */
  workers: number;
  /** Adds a line to the parent execution's history under the Map state. */
  record: (event: Pick<HistoryEvent, 'type' | 'detail' | 'error' | 'cause'>) => void;
  /** The parent state machine's name; a map run's ARN and its children's are named after it. */
  machineName: string;
  region: string;
  account: string;
  signal?: AbortSignal;
  onMapRun: (report: MapRunReport) => void;
}

/** What the standing-in Task receives: the Map state's effective input and the context object. */
interface MapTaskInput {
  input: unknown;
  context: Record<string, unknown>;
}

/**
 * Resolves payload templates (`"key.$": path`, intrinsic functions) as the interpreter does, by
 * running a Pass state whose Parameters are the template: the same JSONPath semantics as the rest
 * of the execution, and `$$.Map.Item` for ItemSelector.
 */
class Templates {
  private readonly machines = new Map<unknown, StateMachine>();

  async resolve(template: unknown, input: unknown, context: Record<string, unknown>): Promise<unknown> {
    let machine = this.machines.get(template);
    if (!machine) {
      machine = new StateMachine(
        {
          StartAt: 'Resolve',
          States: { Resolve: { Type: 'Pass', Parameters: template, End: true } },
        } as never,
        { validationOptions: { noValidate: true } },
      );
      this.machines.set(template, machine);
    }
    return machine.run(input as never, { context: context as never }).result;
  }

  /** The value at a reference path (`MaxConcurrencyPath` and the like). */
  path(path: string, input: unknown, context: Record<string, unknown>): Promise<unknown> {
    return this.resolve({ 'value.$': path }, input, context).then(
      (result) => (result as { value: unknown }).value,
    );
  }
}

/** The Task handler of one Distributed Map state: runs a map run and returns the Map's result. */
export function distributedMapTask(
  stateName: string,
  state: DistributedMapState,
  ports: MapRunPorts,
): (parameters: unknown) => Promise<unknown> {
  const templates = new Templates();
  return async (parameters) => {
    const { input, context } = parameters as MapTaskInput;
    const config = await mapRunConfig(state, input, context, templates);
    const label = state.Label ?? stateName;
    const mapRunId = randomUUID();
    const mapRunArn = `arn:aws:states:${ports.region}:${ports.account}:mapRun:${ports.machineName}/${label}:${mapRunId}`;
    const startedAt = Date.now();

    const items = state.ItemReader
      ? await readItems(
          (await templates.resolve(state.ItemReader, input, context)) as ItemReaderSpec,
          requireStorage(ports, stateName, 'ItemReader'),
        )
      : await itemsAtPath(state.ItemsPath ?? '$', input, context, templates, stateName);
    const selector = state.ItemSelector ?? state.Parameters;
    const selected = selector
      ? await Promise.all(
          items.map((value, index) =>
            templates.resolve(selector, input, { ...context, Map: { Item: { Index: index, Value: value } } }),
          ),
        )
      : items;
    const children = batchItems(selected, config.batcher);

    const total = items.length;
    const limit = Math.max(
      1,
      Math.min(config.maxConcurrency > 0 ? config.maxConcurrency : Infinity, ports.workers),
    );
    ports.record({
      type: 'MapRunStarted',
      detail: `${mapRunArn}\n${total} items in ${children.length} child executions, at most ${limit} at once`,
    });

    const executions: Array<ExecutionReport | undefined> = children.map(() => undefined);
    let failedItems = 0;
    let next = 0;
    let exceeded = false;
    // A child that could not be run at all (a thread that died, a broken setup) is not a child
    // failure: the map run stops starting children and the error ends the state.
    let broken: Error | undefined;
    const tooMany = () =>
      (config.toleratedCount !== undefined && failedItems > config.toleratedCount) ||
      (config.toleratedPercentage !== undefined && (failedItems * 100) / total > config.toleratedPercentage);
    const worker = async () => {
      while (!broken && !exceeded && !ports.signal?.aborted && next < children.length) {
        const index = next++;
        const child = children[index]!;
        let report: ExecutionReport;
        try {
          report = await ports.runChild({ input: child.input, name: randomUUID(), signal: ports.signal });
        } catch (error) {
          broken ??= error as Error;
          return;
        }
        executions[index] = report;
        if (report.status === 'FAILED') {
          failedItems += child.itemCount;
          // Step Functions may let children under way finish; it starts no new one once over.
          if (tooMany()) exceeded = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, children.length) }, worker));
    if (broken) {
      ports.record({ type: 'MapRunFailed', detail: mapRunArn, error: broken.name, cause: broken.message });
      throw broken;
    }

    const ran = executions.filter((report): report is ExecutionReport => report !== undefined);
    const status: MapRunStatus = ports.signal?.aborted ? 'ABORTED' : exceeded ? 'FAILED' : 'SUCCEEDED';
    const counts = (unit: (i: number) => number): MapRunCounts => {
      const sum = (keep: (report: ExecutionReport | undefined) => boolean) =>
        executions.reduce((acc, report, i) => acc + (keep(report) ? unit(i) : 0), 0);
      return {
        total: children.reduce((acc, _, i) => acc + unit(i), 0),
        succeeded: sum((report) => report?.status === 'SUCCEEDED'),
        failed: sum((report) => report?.status === 'FAILED'),
        pending: sum((report) => report === undefined),
      };
    };
    const itemCounts = counts((i) => children[i]!.itemCount);
    const executionCounts = counts(() => 1);
    const failure =
      status === 'FAILED'
        ? {
            error: 'States.ExceedToleratedFailureThreshold',
            cause: `map run ${mapRunArn}: ${failedItems} of ${total} items failed, over the tolerated ${toleranceText(config)}`,
          }
        : undefined;

    const records = ran.map((report) => executionRecord(report));
    let output: unknown;
    try {
      output = await writeResults(state, input, context, templates, records, ran, {
        mapRunArn,
        mapRunId,
        storage: ports.storage,
        stateName,
      });
    } finally {
      const report: MapRunReport = {
        mapRunArn,
        step: stateName,
        status,
        startedAt,
        stoppedAt: Date.now(),
        maxConcurrency: config.maxConcurrency,
        toleratedFailurePercentage: config.toleratedPercentage ?? 0,
        toleratedFailureCount: config.toleratedCount ?? 0,
        itemCounts,
        executionCounts,
        ...failure,
        executions: ran,
      };
      ports.onMapRun(report);
      const detail = `${mapRunArn}\nitems: ${itemCounts.succeeded} succeeded, ${itemCounts.failed} failed, ${itemCounts.pending} not run, of ${itemCounts.total}\nchild executions: ${executionCounts.succeeded} succeeded, ${executionCounts.failed} failed, ${executionCounts.pending} not run, of ${executionCounts.total}`;
      if (status === 'SUCCEEDED') ports.record({ type: 'MapRunSucceeded', detail });
      else if (status === 'ABORTED') ports.record({ type: 'MapRunAborted', detail });
      else ports.record({ type: 'MapRunFailed', detail, error: failure?.error, cause: failure?.cause });
    }
    if (status === 'ABORTED') throw new StatesError('States.Runtime', `map run ${mapRunArn} was aborted`);
    if (failure) throw new StatesError(failure.error, failure.cause);
    return output;
  };
}

interface MapRunConfig {
  maxConcurrency: number;
  toleratedPercentage?: number;
  toleratedCount?: number;
  batcher?: BatcherSpec;
}

async function mapRunConfig(
  state: DistributedMapState,
  input: unknown,
  context: Record<string, unknown>,
  templates: Templates,
): Promise<MapRunConfig> {
  const number = async (value: number | undefined, path: string | undefined, field: string) => {
    if (path === undefined) return value;
    const resolved = await templates.path(path, input, context);
    if (typeof resolved !== 'number' || !Number.isFinite(resolved) || resolved < 0) {
      throw new StatesError(
        'States.Runtime',
        `${field}Path ${path} is ${JSON.stringify(resolved)}, not a number ≥ 0`,
      );
    }
    return resolved;
  };
  const percentage = await number(
    state.ToleratedFailurePercentage,
    state.ToleratedFailurePercentagePath,
    'ToleratedFailurePercentage',
  );
  const count = await number(
    state.ToleratedFailureCount,
    state.ToleratedFailureCountPath,
    'ToleratedFailureCount',
  );
  const batcher = state.ItemBatcher;
  return {
    maxConcurrency: (await number(state.MaxConcurrency, state.MaxConcurrencyPath, 'MaxConcurrency')) ?? 0,
    // With neither set, no failure is tolerated; with one set, only that one applies.
    ...(percentage === undefined && count === undefined
      ? { toleratedCount: 0 }
      : { toleratedPercentage: percentage, toleratedCount: count }),
    batcher: batcher && {
      MaxItemsPerBatch: await number(
        batcher.MaxItemsPerBatch,
        batcher.MaxItemsPerBatchPath,
        'MaxItemsPerBatch',
      ),
      MaxInputBytesPerBatch: await number(
        batcher.MaxInputBytesPerBatch,
        batcher.MaxInputBytesPerBatchPath,
        'MaxInputBytesPerBatch',
      ),
      BatchInput: batcher.BatchInput && (await templates.resolve(batcher.BatchInput, input, context)),
    },
  };
}

function toleranceText(config: MapRunConfig): string {
  const parts = [
    ...(config.toleratedPercentage !== undefined ? [`${config.toleratedPercentage}%`] : []),
    ...(config.toleratedCount !== undefined ? [`${config.toleratedCount} items`] : []),
  ];
  return parts.join(' or ');
}

async function itemsAtPath(
  path: string,
  input: unknown,
  context: Record<string, unknown>,
  templates: Templates,
  stateName: string,
): Promise<unknown[]> {
  const items = await templates.path(path, input, context);
  if (!Array.isArray(items)) {
    throw new StatesError('States.Runtime', `state '${stateName}': ItemsPath ${path} is not an array`);
  }
  return items;
}

function requireStorage(ports: MapRunPorts, stateName: string, field: string): MapRunStorage {
  if (!ports.storage) {
    throw new ConfigurationError(
      `state '${stateName}' has an S3 ${field}, and this run was given no storage for it`,
    );
  }
  return ports.storage;
}

/** A child execution as ResultWriter writes it (Transformation NONE): its metadata, input and output as JSON text. */
function executionRecord(report: ExecutionReport): Record<string, unknown> {
  return {
    ExecutionArn: report.executionArn,
    Input: JSON.stringify(report.input ?? null),
    InputDetails: { Included: true },
    Name: report.name,
    ...(report.status === 'SUCCEEDED'
      ? { Output: JSON.stringify(report.output ?? null), OutputDetails: { Included: true } }
      : { Error: report.error, Cause: report.cause }),
    StartDate: new Date(report.startedAt).toISOString(),
    StateMachineArn: report.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
    Status: report.status,
    StopDate: new Date(report.stoppedAt).toISOString(),
  };
}

/**
 * The map run's results: without an S3 ResultWriter, the Map's result is the children's outputs in
 * item order (a failed child as its record, whatever the Transformation); with one, the results are
 * written as SUCCEEDED_0.json, FAILED_0.json and a manifest under `<Prefix>/<map run id>/`, and the
 * Map's result says where.
 */
async function writeResults(
  state: DistributedMapState,
  input: unknown,
  context: Record<string, unknown>,
  templates: Templates,
  records: Array<Record<string, unknown>>,
  ran: ExecutionReport[],
  where: { mapRunArn: string; mapRunId: string; storage?: MapRunStorage; stateName: string },
): Promise<unknown> {
  const writer = state.ResultWriter;
  const toS3 = writer?.Resource !== undefined;
  const transformation = writer?.WriterConfig?.Transformation ?? (toS3 ? 'NONE' : 'COMPACT');
  if (writer?.WriterConfig?.OutputType === 'JSONL') {
    throw new ConfigurationError(
      `state '${where.stateName}': ResultWriter OutputType JSONL is not written by the local runner`,
    );
  }
  const output = (report: ExecutionReport, i: number): unknown[] => {
    if (report.status !== 'SUCCEEDED' || transformation === 'NONE') return [records[i]];
    if (transformation === 'FLATTEN' && Array.isArray(report.output)) return report.output;
    return [report.output ?? null];
  };
  const results = ran.flatMap(output);
  if (!toS3) return results;
  if (writer.Resource !== 'arn:aws:states:::s3:putObject') {
    throw new ConfigurationError(
      `state '${where.stateName}': ResultWriter resource ${writer.Resource} is not s3:putObject`,
    );
  }
  const storage = where.storage;
  if (!storage) {
    throw new ConfigurationError(
      `state '${where.stateName}' has an S3 ResultWriter, and this run was given no storage for it`,
    );
  }
  const parameters = (await templates.resolve(writer.Parameters ?? {}, input, context)) as {
    Bucket?: string;
    Prefix?: string;
  };
  const bucket = parameters.Bucket;
  if (!bucket)
    throw new ConfigurationError(`state '${where.stateName}': ResultWriter Parameters.Bucket is required`);
  const prefix = parameters.Prefix ? `${parameters.Prefix.replace(/\/+$/, '')}/` : '';
  const base = `${prefix}${where.mapRunId}/`;
  const files: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', Array<{ Key: string; Size: number }>> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  try {
    for (const status of ['SUCCEEDED', 'FAILED'] as const) {
      const entries = ran.flatMap((report, i) => (report.status === status ? output(report, i) : []));
      if (entries.length === 0) continue;
      const body = JSON.stringify(entries);
      const key = `${base}${status}_0.json`;
      await storage.put(bucket, key, body);
      files[status].push({ Key: key, Size: Buffer.byteLength(body, 'utf8') });
    }
    const manifestKey = `${base}manifest.json`;
    await storage.put(
      bucket,
      manifestKey,
      JSON.stringify({ DestinationBucket: bucket, MapRunArn: where.mapRunArn, ResultFiles: files }),
    );
    return { MapRunArn: where.mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new StatesError(
      'States.ResultWriterFailed',
      `the result writer could not write to s3://${bucket}/${base}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
