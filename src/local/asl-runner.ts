import { readFileSync } from 'node:fs';
import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { ConfigurationError } from '../../lambdas/shared/errors.js';

/** A Lambda-backed Task's implementation: receives the Payload, returns the function's result. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

/** One line of execution history, named as the Step Functions console names events. */
export interface HistoryEvent {
  id: number;
  type: string;
  step?: string;
  stateType?: string;
  resource?: string;
  timestamp: number;
  error?: string;
  cause?: string;
  retryAttempt?: number;
  /** More lines to show under the event, e.g. a build command and its output. */
  detail?: string;
  /** Size in bytes of the JSON the event carries in (a state's input, a task's parameters), as Step Functions counts it. */
  inputBytes?: number;
  /** Size in bytes of the JSON the event carries out (a state's output, a task's result). */
  outputBytes?: number;
}

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

/**
 * Step Functions' quota on the input and output of a state, the parameters and result of a task,
 * and an execution's input and output: 256 KiB of UTF-8 JSON.
 */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** The size of a payload as Step Functions counts it: its JSON in UTF-8. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * `States.DataLimitExceeded`, as Step Functions raises it: terminal, so that no Retry and no Catch
 * (not even `States.ALL`) handles it, and the execution fails at once. The interpreter reads
 * `isRetryable` and `isCatchable`.
 */
class DataLimitExceeded extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'States.DataLimitExceeded';
  }
}

function tooLarge(what: string, bytes: number): DataLimitExceeded {
  return new DataLimitExceeded(
    `${what} is ${bytes.toLocaleString('en-US')} bytes, over the ${PAYLOAD_LIMIT_BYTES.toLocaleString('en-US')}-byte payload quota of Step Functions; pass S3 keys (a manifest), not lists that grow with the data`,
  );
}
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
}

/**
 * Runs a state machine definition locally, every Task mapped from its Resource to code in this
 * process: `lambda:invoke` Tasks to the function named by their FunctionName, others by state name.
 */
export async function runExecution(options: RunOptions): Promise<ExecutionReport> {
  const events: HistoryEvent[] = [];
  const emit = (event: Omit<HistoryEvent, 'id' | 'timestamp'> & { timestamp?: number }) => {
    const full: HistoryEvent = { id: events.length + 1, timestamp: Date.now(), ...event };
    events.push(full);
    options.onEvent?.(full);
  };

  // A function's own events are held until the interpreter reports the state's next event, so that
  // they appear between the state's Entered and Exited lines as in the console.
  const pending = new Map<string, Array<Omit<HistoryEvent, 'id'>>>();
  const record = (event: Omit<HistoryEvent, 'id' | 'timestamp'>) => {
    const step = event.step ?? '';
    pending.set(step, [...(pending.get(step) ?? []), { ...event, timestamp: Date.now() }]);
  };
  const flush = (step: string) => {
    for (const event of pending.get(step) ?? []) emit(event);
    pending.delete(step);
  };

  // The first payload found over the quota: it fails the execution, as in Step Functions, where
  // the task or state that produced it fails with an error no Retry or Catch handles.
  let overLimit: DataLimitExceeded | undefined;
  const withinLimit = (what: string, value: unknown): number => {
    const bytes = payloadBytes(value);
    if (bytes > PAYLOAD_LIMIT_BYTES) {
      overLimit ??= tooLarge(what, bytes);
      throw overLimit;
    }
    return bytes;
  };

  const states = options.definition.States as Record<string, TaskStateShape>;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const resources: Record<string, string> = {};
  for (const [stateName, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    const override = options.tasks?.[stateName];
    if (override) {
      const resource = state.Resource ?? '';
      resources[stateName] = resource;
      handlers[stateName] = async (input) => {
        if (overLimit) throw overLimit;
        withinLimit(`the parameters of state '${stateName}'`, input);
        const result = await override(input, {
          emit: (event) => record({ ...event, step: stateName, resource }),
        });
        withinLimit(`the result of state '${stateName}'`, result);
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
    handlers[stateName] = async (input: unknown) => {
      // The interpreter hands over the Parameters resolved, a FunctionName.$ path included.
      const { Payload: payload, FunctionName: arn = '' } = input as {
        Payload?: unknown;
        FunctionName?: string;
      };
      const fn = options.functions.get(arn);
      if (!fn) throw new ConfigurationError(`state '${stateName}': no local function for ${arn}`);
      resources[stateName] = arn;
      if (overLimit) throw overLimit;
      const inputBytes = withinLimit(`the parameters of state '${stateName}'`, input);
      record({ type: 'LambdaFunctionScheduled', step: stateName, resource: arn, inputBytes });
      record({ type: 'LambdaFunctionStarted', step: stateName, resource: arn });
      let response: { Payload: unknown; StatusCode: number; ExecutedVersion: string };
      try {
        response = { Payload: (await fn(payload)) ?? null, StatusCode: 200, ExecutedVersion: '$LATEST' };
      } catch (error) {
        const { name, message } = error as Error;
        record({ type: 'LambdaFunctionFailed', step: stateName, resource: arn, error: name, cause: message });
        throw error;
      }
      const outputBytes = payloadBytes(response);
      record({ type: 'LambdaFunctionSucceeded', step: stateName, resource: arn, outputBytes });
      withinLimit(`the result of state '${stateName}'`, response);
      return response;
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

  const machineName = options.stateMachineName ?? 'sluice-pipeline';
  const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machineName}:${options.name}`;
  const startedAt = Date.now();
  const machine = new StateMachine(options.definition, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const retryIntervalOverrides =
    options.retryIntervalMs === undefined
      ? undefined
      : Object.fromEntries(Object.keys(states).map((name) => [name, options.retryIntervalMs!]));
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
    context: {
      Execution: {
        Id: executionArn,
        Name: options.name,
        Input: options.input as never,
        StartTime: new Date(startedAt).toISOString(),
        RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/sluice-local`,
      },
      StateMachine: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${machineName}`,
        Name: machineName,
      },
    },
  });

  const abort = () => execution.abort();
  if (options.signal?.aborted) abort();
  else options.signal?.addEventListener('abort', abort, { once: true });

  const collecting = (async () => {
    for await (const log of execution.eventLogs) {
      const base = { timestamp: log.timestamp };
      if ('state' in log && log.type !== 'StateEntered') flush(log.state.name);
      switch (log.type) {
        case 'ExecutionStarted':
          emit({ ...base, type: 'ExecutionStarted' });
          break;
        case 'ExecutionSucceeded':
          emit({ ...base, type: 'ExecutionSucceeded' });
          break;
        case 'ExecutionFailed':
          emit({ ...base, type: 'ExecutionFailed', error: log.Error, cause: String(log.Cause ?? '') });
          break;
        case 'ExecutionAborted':
          emit({ ...base, type: 'ExecutionAborted' });
          break;
        case 'StateEntered':
        case 'StateExited': {
          const entered = log.type === 'StateEntered';
          const bytes = payloadBytes(entered ? log.state.input : log.state.output);
          emit({
            ...base,
            type: `${log.state.type}State${entered ? 'Entered' : 'Exited'}`,
            step: log.state.name,
            stateType: log.state.type,
            resource: resources[log.state.name],
            ...(entered ? { inputBytes: bytes } : { outputBytes: bytes }),
          });
          // A state's whole input or output (not only a task's parameters and result) is bounded
          // too; seen here, after the state ran, so the execution is stopped before the next one.
          if (bytes > PAYLOAD_LIMIT_BYTES && !overLimit) {
            overLimit = tooLarge(`the ${entered ? 'input' : 'output'} of state '${log.state.name}'`, bytes);
            execution.abort();
          }
          break;
        }
        case 'StateFailed':
          emit({
            ...base,
            type: log.state.type === 'Task' ? 'TaskFailed' : `${log.state.type}StateFailed`,
            step: log.state.name,
            stateType: log.state.type,
            error: log.Error,
            cause: String(log.Cause ?? ''),
          });
          break;
        case 'StateRetried':
          emit({
            ...base,
            type: 'TaskStateRetried',
            step: log.state.name,
            stateType: log.state.type,
            retryAttempt: log.retry.attempt,
          });
          break;
        case 'StateCaught':
          emit({ ...base, type: 'TaskStateCaught', step: log.state.name, stateType: log.state.type });
          break;
        default:
          break;
      }
    }
  })();

  let output: unknown;
  let failure: { error: string; cause: string } | undefined;
  let aborted = false;
  try {
    output = await execution.result;
  } catch (error) {
    if (overLimit && error instanceof ExecutionAbortedError) {
      failure = { error: 'States.Runtime', cause: error.message };
    } else if (error instanceof ExecutionAbortedError) aborted = true;
    else if (!(error instanceof ExecutionError)) throw error;
    else failure = { error: 'States.Runtime', cause: error.message };
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
  await collecting;
  if (aborted) await Promise.allSettled([...inFlight]);
  if (overLimit && !events.some((event) => event.type === 'ExecutionFailed')) {
    emit({ type: 'ExecutionFailed', error: overLimit.name, cause: overLimit.message });
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
  };
}
