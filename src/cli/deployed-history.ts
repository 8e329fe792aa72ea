import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
  type HistoryEvent as SfnHistoryEvent,
} from '@aws-sdk/client-sfn';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import type { HistoryEvent } from '../local/asl-runner.js';
import {
  type DeployedOptions,
  describe,
  executionArnOf,
  sfnClientFor,
  stateMachineArnFrom,
} from './deployed.js';
import { renderEvents, renderSteps } from './execution-tables.js';

/** An execution of the deployed state machine with its history, in the local runner's terms. */
export interface DeployedExecution {
  name: string;
  executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE */
  status: string;
  startedAt: number;
  stoppedAt?: number;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
}

/**
 * Maps Step Functions history events onto the local runner's `HistoryEvent`, so a deployed
 * execution renders in the same step and event tables as a local one. Event types are kept as
 * Step Functions names them; task and Lambda events, which carry no state name, are attributed
 * to the state entered last and not yet exited (the pipeline has no Parallel or Map states).
 */
export function historyEventsOf(events: readonly SfnHistoryEvent[]): HistoryEvent[] {
  const open: Array<{ name: string; type: string; resource?: string }> = [];
  const mapped: HistoryEvent[] = [];
  for (const event of events) {
    const type = event.type ?? 'Unknown';
    const entered = event.stateEnteredEventDetails?.name;
    const exited = event.stateExitedEventDetails?.name;
    const current = open.at(-1);
    const out: HistoryEvent = {
      id: event.id ?? mapped.length + 1,
      type,
      timestamp: event.timestamp?.getTime() ?? 0,
    };
    if (entered) {
      const stateType = type.replace(/StateEntered$/, '');
      open.push({ name: entered, type: stateType });
      Object.assign(out, { step: entered, stateType });
    } else if (exited) {
      const index = open.findLastIndex((state) => state.name === exited);
      const state = index >= 0 ? open.splice(index, 1)[0] : undefined;
      Object.assign(out, {
        step: exited,
        stateType: type.replace(/StateExited$/, ''),
        resource: state?.resource,
      });
    } else if (current && !type.startsWith('Execution')) {
      const resource = resourceOf(event);
      if (resource) current.resource = resource;
      Object.assign(out, { step: current.name, stateType: current.type, resource: current.resource });
    }
    const failure = failureOf(event);
    if (failure.error !== undefined) out.error = failure.error;
    if (failure.cause !== undefined) out.cause = failure.cause;
    mapped.push(out);
  }
  return mapped;
}

/** The resource a task event names: the Lambda function for lambda:invoke, else the integration. */
function resourceOf(event: SfnHistoryEvent): string | undefined {
  const scheduled = event.taskScheduledEventDetails;
  if (scheduled?.resourceType) {
    if (scheduled.resourceType === 'lambda' && scheduled.parameters) {
      try {
        const functionName = (JSON.parse(scheduled.parameters) as { FunctionName?: string }).FunctionName;
        if (functionName) return functionName;
      } catch {
        // parameters are not always JSON (they are redacted when logging hides data)
      }
    }
    return `arn:aws:states:::${scheduled.resourceType}:${scheduled.resource ?? ''}`;
  }
  return event.lambdaFunctionScheduledEventDetails?.resource ?? event.activityScheduledEventDetails?.resource;
}

function failureOf(event: SfnHistoryEvent): { error?: string; cause?: string } {
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !value || typeof value !== 'object') continue;
    const details = value as { error?: string; cause?: string };
    if (details.error !== undefined || details.cause !== undefined) return details;
  }
  return {};
}

/** GetExecutionHistory (every page) and DescribeExecution of one execution. */
export async function fetchExecution(sfn: SFNClient, executionArn: string): Promise<DeployedExecution> {
  const execution = await describe(sfn, executionArn);
  if (!execution) throw new ConfigurationError(`no execution ${executionArn}`);
  const events: SfnHistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        nextToken,
        maxResults: 1000,
        includeExecutionData: true,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const parse = (text: string | undefined) => {
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
  return {
    name: execution.name ?? executionArn.split(':').at(-1) ?? executionArn,
    executionArn,
    status: execution.status ?? 'UNKNOWN',
    startedAt: execution.startDate?.getTime() ?? 0,
    stoppedAt: execution.stopDate?.getTime(),
    input: parse(execution.input),
    output: parse(execution.output),
    error: execution.error,
    cause: execution.cause,
    events: historyEventsOf(events),
  };
}

/**
 * The execution ARN for what the user typed: an execution ARN as is; a name of an execution of
 * this state machine; or a dataset name, for the newest execution of that dataset (by the name
 * `sluice start` and `backfill` give, else by the dataset in the input of recent executions).
 */
export async function resolveExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  what: string,
): Promise<string> {
  if (what.startsWith('arn:')) return what;
  if (await describe(sfn, executionArnOf(stateMachineArn, what)))
    return executionArnOf(stateMachineArn, what);
  const recent: Array<{ executionArn: string; name: string }> = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 100, nextToken }));
    for (const e of page.executions ?? [])
      if (e.executionArn && e.name) recent.push({ executionArn: e.executionArn, name: e.name });
    nextToken = page.nextToken;
  } while (nextToken && recent.length < 300);
  const named = recent.find((e) => e.name.startsWith(`${what}-`));
  if (named) return named.executionArn;
  // Executions started by EventBridge rules have generated names: look at their input.
  for (const e of recent.slice(0, 25)) {
    const input = (await describe(sfn, e.executionArn))?.input;
    if (input && (JSON.parse(input) as { dataset?: string }).dataset === what) return e.executionArn;
  }
  throw new ConfigurationError(
    `no execution of ${stateMachineArn} is named '${what}', and none of the newest executions is of a dataset '${what}'`,
  );
}

/** `sluice history <execution-arn|name|dataset>` against the deployed state machine. */
export async function deployedHistoryCommand(
  what: string,
  options: DeployedOptions & { events?: boolean; json?: boolean },
  io: { sfn?: SFNClient; out?: (text: string) => void } = {},
): Promise<number> {
  const out = io.out ?? ((text: string) => process.stdout.write(text));
  const stateMachineArn = what.startsWith('arn:')
    ? what.replace(':execution:', ':stateMachine:').split(':').slice(0, 7).join(':')
    : stateMachineArnFrom(options);
  const sfn = io.sfn ?? (await sfnClientFor(stateMachineArn));
  const execution = await fetchExecution(sfn, await resolveExecution(sfn, stateMachineArn, what));
  if (options.json) {
    out(`${JSON.stringify(execution, null, 2)}\n`);
    return 0;
  }
  const took =
    execution.stoppedAt === undefined
      ? 'running'
      : `in ${((execution.stoppedAt - execution.startedAt) / 1000).toFixed(2)} s`;
  out(`Execution ${execution.name}: ${execution.status} ${took}\n  ${execution.executionArn}\n\n`);
  out(`${options.events ? renderEvents(execution) : renderSteps(execution)}\n`);
  if (execution.error) out(`\n${execution.error}: ${execution.cause ?? ''}\n`);
  return 0;
}
