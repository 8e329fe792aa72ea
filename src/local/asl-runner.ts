import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import {
  DISTRIBUTED_MAP_RESOURCE,
  type DistributedMapState,
  distributedMapTask,
  type MapRunReport,
  withDistributedMapsAsTasks,
} from './distributed-map.js';
import type { MapRunStorage } from './distributed-map-items.js';
import { ChildThreadPool, type ThreadedChildren } from './distributed-map-threads.js';
import { type Execution, type HistoryEvent, HistoryRecorder, recordEventLogs } from './execution-history.js';
import { PayloadQuota, payloadBytes } from './payload-quota.js';

export type { MapRunReport } from './distributed-map.js';
export { lakeStorage, type MapRunStorage } from './distributed-map-items.js';
export type { LocalTasks, ThreadedChildren } from './distributed-map-threads.js';
export type { HistoryEvent } from './execution-history.js';
export { PAYLOAD_LIMIT_BYTES, payloadBytes } from './payload-quota.js';

/** A Lambda-backed Task's implementation: receives the Payload, returns the function's result. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

/** What a local Task implementation may do besides returning its result. */
export interface TaskContext {
  /** Adds an event to the execution history under this state. */
  emit(event: Pick<HistoryEvent, 'type' | 'detail' | 'error' | 'cause'>): void;
}

export interface ExecutionReport {
  name: string;
  executionArn: string;
  /** ABORTED: stopped by `signal` (Ctrl-C), as Step Functions' StopExecution leaves an execution. */
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startedAt: number;
  stoppedAt: number;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
  /** The map runs of the execution's Distributed Map states, each with its child executions. */
  mapRuns?: MapRunReport[];
}

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'us-east-1';

export function localFunctionArn(functionId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:sluice-${functionId}`;
}

/**
 * Reads an ASL file and fills its `${Placeholders}` the way CDK's `definitionSubstitutions` does.
 * A placeholder left without a value is an error, as it would be at deploy time.
 */
export function loadDefinition(file: string, substitutions: Record<string, string>): StateMachineDefinition {
  const text = readFileSync(file, 'utf8').replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, name: string) => {
    const value = substitutions[name];
    return value === undefined ? match : value;
  });
  const left = text.match(/\$\{[A-Za-z0-9_]+\}/g);
  if (left) throw new ConfigurationError(`${file}: no value for ${[...new Set(left)].join(', ')}`);
  return JSON.parse(text) as StateMachineDefinition;
}

interface TaskStateShape {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; 'FunctionName.$'?: string };
}

export interface RunOptions {
  definition: StateMachineDefinition;
  /**
   * Implementations keyed by function ARN: the value of `Parameters.FunctionName`, or of the path in
   * `Parameters.FunctionName.$` when the state data names the function.
   */
  functions: ReadonlyMap<string, LocalFunction>;
  /** Implementations keyed by state name, for Tasks that are not Lambda invocations. */
  tasks?: Readonly<Record<string, (input: unknown, context: TaskContext) => Promise<unknown>>>;
  input: unknown;
  name: string;
  stateMachineName?: string;
  /** Milliseconds to wait before each retry instead of the ASL's backoff (0 in tests). */
  retryIntervalMs?: number;
  /** Called for each history event as it happens, for live progress. */
  onEvent?: (event: HistoryEvent) => void;
  /** Aborts the execution (Ctrl-C): it stops where it is and its status is ABORTED. */
  signal?: AbortSignal;
  /** The S3 a Distributed Map's ItemReader reads and its ResultWriter writes (see `lakeStorage`). */
  storage?: MapRunStorage;
  /**
   * The most child executions of a Distributed Map that run at once (the state's MaxConcurrency
   * may lower it); by default the number of cores.
   */
  workers?: number;
  /**
   * Runs a Distributed Map's children in worker threads (as many as `workers`), each thread with
   * the task implementations the named module builds; without it, children run in this thread.
   */
  threads?: ThreadedChildren;
}

/** What `prepareExecution` needs: everything but one execution's input, name and observers. */
export type MachineOptions = Omit<RunOptions, 'input' | 'name' | 'onEvent' | 'signal'>;

/** One execution of a prepared state machine. */
export type ExecutionRun = Pick<RunOptions, 'input' | 'name' | 'onEvent' | 'signal'>;

/**
 * Runs a state machine definition locally, every Task mapped from its Resource to code in this
 * process: `lambda:invoke` Tasks to the function named by their FunctionName, others by state name.
 * A Distributed Map state runs its map run here too (see distributed-map.ts).
 */
export async function runExecution(options: RunOptions): Promise<ExecutionReport> {
  return prepareExecution(options)(options);
}

/**
 * Checks and compiles a definition once, for many executions: a Distributed Map runs each of its
 * children as an execution of its ItemProcessor, and compiling a definition costs far more than
 * running it.
 */
export function prepareExecution(options: MachineOptions): (run: ExecutionRun) => Promise<ExecutionReport> {
  const { definition, maps } = withDistributedMapsAsTasks(options.definition);
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const machineName = options.stateMachineName ?? 'sluice-pipeline';
  const children = new Map(
    [...maps].map(([stateName, state]) => {
      const { StartAt, States } = state.ItemProcessor;
      const childDefinition = { StartAt, States } as StateMachineDefinition;
      const childName = `${machineName}/${state.Label ?? stateName}`;
      // Children in threads are compiled in each thread; here only when they run in this one.
      const child = options.threads
        ? undefined
        : prepareExecution({ ...options, definition: childDefinition, stateMachineName: childName });
      return [stateName, { state, child, definition: childDefinition, stateMachineName: childName }] as const;
    }),
  );
  const prepared = { ...options, definition, machine, machineName, maps: children };
  // A Task without a local implementation is a mistake in the setup: said before anything runs.
  bindHandlers(prepared, new HistoryRecorder(), new PayloadQuota());
  return (run) => execute(prepared, run);
}

interface PreparedMachine extends MachineOptions {
  machine: StateMachine;
  machineName: string;
  maps: ReadonlyMap<
    string,
    {
      state: DistributedMapState;
      child: ((run: ExecutionRun) => Promise<ExecutionReport>) | undefined;
      definition: StateMachineDefinition;
      stateMachineName: string;
    }
  >;
}

async function execute(prepared: PreparedMachine, run: ExecutionRun): Promise<ExecutionReport> {
  const options = { ...prepared, ...run };
  const history = new HistoryRecorder(options.onEvent);
  const quota = new PayloadQuota();
  const { handlers, resources } = bindHandlers(options, history, quota);
  const mapRuns: MapRunReport[] = [];
  const workers = options.workers ?? availableParallelism();
  const pool =
    options.threads && prepared.maps.size > 0 ? new ChildThreadPool(workers, options.threads) : undefined;
  for (const [stateName, { state, child, definition, stateMachineName }] of prepared.maps) {
    const runChild =
      child ?? pool!.runner(definition, { stateMachineName, retryIntervalMs: options.retryIntervalMs });
    const mapRun = distributedMapTask(stateName, state, {
      storage: options.storage,
      runChild,
      workers,
      record: (event) => history.record({ ...event, step: stateName }),
      machineName: prepared.machineName,
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT,
      signal: options.signal,
      onMapRun: (report) => mapRuns.push(report),
    });
    handlers[stateName] = async (input) => {
      quota.throwIfExceeded();
      const result = await mapRun(input);
      quota.check(`the result of state '${stateName}'`, result);
      return result;
    };
  }

  // The tasks under way: an aborted execution returns only once they have settled, so that what
  // they hold (the Version step's lock, its build) is released before the caller exits.
  const inFlight = new Set<Promise<unknown>>();
  for (const [stateName, handler] of Object.entries(handlers)) {
    handlers[stateName] = (input) => {
      const running = handler(input);
      inFlight.add(running);
      running.then(
        () => inFlight.delete(running),
        () => inFlight.delete(running),
      );
      return running;
    };
  }

  const { machineName } = prepared;
  const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machineName}:${options.name}`;
  const startedAt = Date.now();
  const execution = startExecution(prepared.machine, options, handlers, {
    machineName,
    executionArn,
    startedAt,
  });
  const abort = () => execution.abort();
  if (options.signal?.aborted) abort();
  else options.signal?.addEventListener('abort', abort, { once: true });
  const stateTypes = Object.fromEntries([...prepared.maps.keys()].map((name) => [name, 'Map']));
  const collecting = recordEventLogs(execution, history, resources, quota, stateTypes);

  let output: unknown;
  let failure: { error: string; cause: string } | undefined;
  let aborted = false;
  try {
    output = await execution.result;
  } catch (error) {
    if (quota.exceeded && error instanceof ExecutionAbortedError) {
      failure = { error: 'States.Runtime', cause: error.message };
    } else if (error instanceof ExecutionAbortedError) aborted = true;
    else if (!(error instanceof ExecutionError)) {
      await pool?.close();
      throw error;
    } else failure = { error: 'States.Runtime', cause: error.message };
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
  await collecting;
  if (aborted) await Promise.allSettled([...inFlight]);
  await pool?.close();
  const { events } = history;
  if (quota.exceeded && !events.some((event) => event.type === 'ExecutionFailed')) {
    history.emit({ type: 'ExecutionFailed', error: quota.exceeded.name, cause: quota.exceeded.message });
  }
  const failed = events.findLast((event) => event.type === 'ExecutionFailed');
  if (failure && failed)
    failure = { error: failed.error ?? failure.error, cause: failed.cause ?? failure.cause };

  return {
    name: options.name,
    executionArn,
    status: aborted ? 'ABORTED' : failure ? 'FAILED' : 'SUCCEEDED',
    startedAt,
    stoppedAt: Date.now(),
    input: options.input,
    output,
    error: failure?.error,
    cause: failure?.cause,
    events,
    ...(mapRuns.length > 0 ? { mapRuns } : {}),
  };
}

type Handler = (input: unknown) => Promise<unknown>;

/**
 * The local implementation of every Task state, keyed by state name, and the resource each Task
 * names (for the history; a Task whose FunctionName comes from the state data gets it when it runs).
 */
function bindHandlers(
  options: MachineOptions,
  history: HistoryRecorder,
  quota: PayloadQuota,
): { handlers: Record<string, Handler>; resources: Record<string, string> } {
  const states = options.definition.States as Record<string, TaskStateShape>;
  const handlers: Record<string, Handler> = {};
  const resources: Record<string, string> = {};
  for (const [stateName, state] of Object.entries(states)) {
    if (state.Type !== 'Task' || state.Resource === DISTRIBUTED_MAP_RESOURCE) continue;
    const override = options.tasks?.[stateName];
    if (override) {
      const resource = state.Resource ?? '';
      resources[stateName] = resource;
      handlers[stateName] = async (input) => {
        quota.throwIfExceeded();
        quota.check(`the parameters of state '${stateName}'`, input);
        const result = await override(input, {
          emit: (event) => history.record({ ...event, step: stateName, resource }),
        });
        quota.check(`the result of state '${stateName}'`, result);
        return result;
      };
      continue;
    }
    if (state.Resource !== LAMBDA_INVOKE) {
      throw new ConfigurationError(
        `state '${stateName}': no local implementation for resource ${state.Resource}`,
      );
    }
    const dynamic = state.Parameters?.['FunctionName.$'] !== undefined;
    const named = state.Parameters?.FunctionName ?? '';
    if (!dynamic && !options.functions.has(named)) {
      throw new ConfigurationError(`state '${stateName}': no local function for ${named}`);
    }
    if (!dynamic) resources[stateName] = named;
    handlers[stateName] = lambdaInvoke(stateName, options.functions, resources, history, quota);
  }
  return { handlers, resources };
}

/** A `lambda:invoke` Task: the function's result wrapped as the Lambda integration returns it. */
function lambdaInvoke(
  stateName: string,
  functions: ReadonlyMap<string, LocalFunction>,
  resources: Record<string, string>,
  history: HistoryRecorder,
  quota: PayloadQuota,
): Handler {
  return async (input) => {
    // The interpreter hands over the Parameters resolved, a FunctionName.$ path included.
    const { Payload: payload, FunctionName: arn = '' } = input as {
      Payload?: unknown;
      FunctionName?: string;
    };
    const fn = functions.get(arn);
    if (!fn) throw new ConfigurationError(`state '${stateName}': no local function for ${arn}`);
    resources[stateName] = arn;
    quota.throwIfExceeded();
    const inputBytes = quota.check(`the parameters of state '${stateName}'`, input);
    history.record({ type: 'LambdaFunctionScheduled', step: stateName, resource: arn, inputBytes });
    history.record({ type: 'LambdaFunctionStarted', step: stateName, resource: arn });
    let response: { Payload: unknown; StatusCode: number; ExecutedVersion: string };
    try {
      response = { Payload: (await fn(payload)) ?? null, StatusCode: 200, ExecutedVersion: '$LATEST' };
    } catch (error) {
      const { name, message } = error as Error;
      history.record({
        type: 'LambdaFunctionFailed',
        step: stateName,
        resource: arn,
        error: name,
        cause: message,
      });
      throw error;
    }
    const outputBytes = payloadBytes(response);
    history.record({ type: 'LambdaFunctionSucceeded', step: stateName, resource: arn, outputBytes });
    quota.check(`the result of state '${stateName}'`, response);
    return response;
  };
}

function startExecution(
  machine: StateMachine,
  options: RunOptions,
  handlers: Record<string, Handler>,
  ids: { machineName: string; executionArn: string; startedAt: number },
): Execution {
  const retryIntervalOverrides =
    options.retryIntervalMs === undefined
      ? undefined
      : Object.fromEntries(
          Object.keys(options.definition.States).map((name) => [name, options.retryIntervalMs!]),
        );
  return machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
    context: {
      Execution: {
        Id: ids.executionArn,
        Name: options.name,
        Input: options.input as never,
        StartTime: new Date(ids.startedAt).toISOString(),
        RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/sluice-local`,
      },
      StateMachine: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${ids.machineName}`,
        Name: ids.machineName,
      },
    },
  });
}
