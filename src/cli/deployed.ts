import { existsSync, readFileSync } from 'node:fs';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Contract } from '../../lambdas/shared/contract.js';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import {
  checkInterval,
  compactTime,
  explicitInterval,
  type Interval,
  intervalEndingBy,
  parseSchedule,
} from '../../lambdas/shared/schedule.js';

/** How the CLI finds the deployed state machine. */
export interface DeployedOptions {
  stateMachineArn?: string;
  /** `cdk deploy --outputs-file` output to read `StateMachineArn` from. */
  outputsFile?: string;
}

export const STATE_MACHINE_ARN_VARIABLE = 'SLUICE_STATE_MACHINE_ARN';
const DEFAULT_OUTPUTS_FILE = 'cdk-outputs.json';

/**
 * The deployed state machine: `--state-machine-arn`, else SLUICE_STATE_MACHINE_ARN, else the
 * `StateMachineArn` output in the file `cdk deploy --outputs-file` wrote (cdk-outputs.json).
 */
export function stateMachineArnFrom(options: DeployedOptions, env: NodeJS.ProcessEnv = process.env): string {
  const arn =
    options.stateMachineArn ?? env[STATE_MACHINE_ARN_VARIABLE] ?? fromOutputsFile(options.outputsFile);
  if (!arn) {
    throw new ConfigurationError(
      `no deployed state machine: pass --state-machine-arn, set ${STATE_MACHINE_ARN_VARIABLE}, or deploy with ` +
        `'cdk deploy --outputs-file ${DEFAULT_OUTPUTS_FILE}'. The stack's StateMachineArn output has it: ` +
        `aws cloudformation describe-stacks --stack-name Sluice --query "Stacks[0].Outputs[?OutputKey=='StateMachineArn'].OutputValue" --output text`,
    );
  }
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/.test(arn)) {
    throw new ConfigurationError(
      `'${arn}' is not a state machine ARN (expected arn:aws:states:<region>:<account>:stateMachine:<name>)`,
    );
  }
  return arn;
}

function fromOutputsFile(file: string | undefined): string | undefined {
  const path = file ?? DEFAULT_OUTPUTS_FILE;
  if (!existsSync(path)) {
    if (file) throw new ConfigurationError(`outputs file ${file} does not exist`);
    return undefined;
  }
  const outputs = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string>>;
  const arns = Object.values(outputs).flatMap((stack) =>
    stack.StateMachineArn ? [stack.StateMachineArn] : [],
  );
  if (arns.length > 1) {
    throw new ConfigurationError(
      `${path} holds ${arns.length} stacks with a StateMachineArn; pass --state-machine-arn to choose one`,
    );
  }
  return arns[0];
}

/** The execution ARN of a named execution of a state machine. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
}

/**
 * The execution name of a dataset's run for one interval: `<dataset>-<interval start, compact>`,
 * at most 80 characters as Step Functions requires. A second start of the same interval has the
 * same name, which Step Functions refuses (or, while it runs, answers with the same execution).
 */
export function executionName(dataset: string, interval: Interval): string {
  return `${dataset}-${compactTime(interval.start)}`;
}

/**
 * The execution input of a scheduled run: the same shape the deployed schedule rule sends, with
 * the interval named. Its `time` is the interval's end, so the input of a given interval is always
 * the same and a repeated StartExecution is recognised as the same request. `force` is passed on
 * for ingest, which otherwise refuses an interval off the grid or not ended.
 */
export function scheduleInput(dataset: string, interval: Interval, force = false) {
  return {
    dataset,
    trigger: { type: 'schedule' as const, time: interval.end, interval, ...(force ? { force: true } : {}) },
  };
}

/**
 * The interval a `start` or `run` takes: the one given, or the last whole interval of the
 * dataset's schedule. A given interval that is off the schedule's grid or has not ended is refused
 * here already, with the nearest valid intervals, unless `force` (ingest checks it again).
 */
export function intervalToRun(
  contract: Contract,
  options: { intervalStart?: string; intervalEnd?: string; force?: boolean },
  now: Date = new Date(),
): Interval {
  const schedule = contract.schedule ? parseSchedule(contract.schedule) : undefined;
  if (options.intervalStart || options.intervalEnd) {
    if (!options.intervalStart || !options.intervalEnd) {
      throw new ConfigurationError('give both --interval-start and --interval-end, or neither');
    }
    const interval = explicitInterval(options.intervalStart, options.intervalEnd);
    checkInterval(schedule, interval, now, { force: options.force, dataset: contract.name });
    return interval;
  }
  if (!schedule) {
    throw new ConfigurationError(
      `dataset '${contract.name}' has no schedule, so it has no default interval; give --interval-start and --interval-end`,
    );
  }
  return intervalEndingBy(schedule, now);
}

export interface Started {
  name: string;
  executionArn: string;
  /** false: an execution of this name existed already; nothing was started. */
  started: boolean;
  /** The status of the execution that already existed. */
  status?: string;
}

/**
 * Starts the run of one interval. An execution of the same name that exists already is not an
 * error: the interval was started before, and this is a no-op that reports that execution.
 */
export async function startInterval(
  sfn: SFNClient,
  stateMachineArn: string,
  dataset: string,
  interval: Interval,
  force = false,
): Promise<Started> {
  const name = executionName(dataset, interval);
  const executionArn = executionArnOf(stateMachineArn, name);
  try {
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name,
        input: JSON.stringify(scheduleInput(dataset, interval, force)),
      }),
    );
    return { name, executionArn: out.executionArn ?? executionArn, started: true };
  } catch (error) {
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    const existing = await describe(sfn, executionArn);
    return { name, executionArn, started: false, status: existing?.status };
  }
}

/** DescribeExecution, or undefined when the execution does not exist. */
export async function describe(
  sfn: SFNClient,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

/**
 * An SFN client for the region of the state machine (the ARN names it). A call that fails for
 * want of usable credentials fails with a ConfigurationError that says how to give them.
 */
export async function sfnClientFor(stateMachineArn: string): Promise<SFNClient> {
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const region = stateMachineArn.split(':')[3];
  const client = new SFNClient({ region });
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw withCredentialsHint(error, region);
      }
    },
    { step: 'initialize', name: 'sluiceCredentialsHint' },
  );
  return client;
}

/** Errors that mean the AWS SDK found no credentials, or found ones AWS does not accept. */
const CREDENTIALS_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
]);

/** The error itself, or, for missing or refused credentials, a ConfigurationError saying what to set. */
export function withCredentialsHint(error: unknown, region: string | undefined): unknown {
  if (!(error instanceof Error) || !CREDENTIALS_ERRORS.has(error.name)) return error;
  return new ConfigurationError(
    `${error.name}: ${error.message}. The deployed commands call AWS Step Functions with the AWS SDK's ` +
      'credentials: sign in with a profile (aws sso login --profile <name>, or aws configure) and choose it with ' +
      `AWS_PROFILE=<name>, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. The region is the state machine's (${region ?? 'from its ARN'}); ` +
      `the state machine is the stack's StateMachineArn output: --state-machine-arn, ${STATE_MACHINE_ARN_VARIABLE}, ` +
      `or --outputs-file ${DEFAULT_OUTPUTS_FILE} as written by 'cdk deploy --outputs-file ${DEFAULT_OUTPUTS_FILE}'`,
    { cause: error },
  );
}
