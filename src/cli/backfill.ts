import { setTimeout as sleep } from 'node:timers/promises';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import { type Interval, intervalsBetween, parseSchedule } from '../../lambdas/shared/schedule.js';
import { duration } from '../local/history.js';
import { contractsFor } from './contracts.js';
import {
  type DeployedOptions,
  describe,
  sfnClientFor,
  startInterval,
  stateMachineArnFrom,
} from './deployed.js';

export interface BackfillCommandOptions extends DeployedOptions {
  datasets: string;
  from: string;
  to: string;
  maxConcurrency?: string | number;
  pollSeconds?: string | number;
}

export interface BackfillSummary {
  intervals: number;
  started: number;
  alreadyStarted: number;
  succeeded: number;
  failed: number;
}

interface Running {
  index: number;
  name: string;
  executionArn: string;
  since: number;
}

/**
 * Runs every interval of a dataset's schedule in `[from, to)` on the deployed pipeline, as
 * Airflow's catchup does: one execution per interval, named after it, at most `maxConcurrency`
 * running at a time, oldest first. An interval whose execution exists already is not started
 * again (it is waited for when it still runs), so a backfill that was interrupted can be repeated.
 */
export async function backfill(options: {
  sfn: SFNClient;
  stateMachineArn: string;
  dataset: string;
  intervals: Interval[];
  maxConcurrency: number;
  pollMs: number;
  out: (line: string) => void;
  clock?: () => number;
}): Promise<BackfillSummary> {
  const { sfn, intervals, out } = options;
  const clock = options.clock ?? Date.now;
  const summary: BackfillSummary = {
    intervals: intervals.length,
    started: 0,
    alreadyStarted: 0,
    succeeded: 0,
    failed: 0,
  };
  const width = String(intervals.length).length;
  const tag = (index: number) => `[${String(index + 1).padStart(width)}/${intervals.length}]`;
  const running: Running[] = [];
  let next = 0;

  const finished = (run: Running, status: string, error?: string) => {
    if (status === 'SUCCEEDED') summary.succeeded += 1;
    else summary.failed += 1;
    out(
      `${tag(run.index)} ${run.name}  ${status}${error ? ` (${error})` : ''}  after ${duration(clock() - run.since)}`,
    );
  };

  while (next < intervals.length || running.length > 0) {
    while (running.length < options.maxConcurrency && next < intervals.length) {
      const index = next++;
      const interval = intervals[index]!;
      const result = await startInterval(sfn, options.stateMachineArn, options.dataset, interval);
      const run = { index, name: result.name, executionArn: result.executionArn, since: clock() };
      if (result.started) {
        summary.started += 1;
        out(`${tag(index)} ${result.name}  started  ${interval.start} – ${interval.end}`);
        running.push(run);
        continue;
      }
      summary.alreadyStarted += 1;
      out(`${tag(index)} ${result.name}  already started (${result.status ?? 'status unknown'})`);
      if (result.status === 'RUNNING') running.push(run);
      else if (result.status === 'SUCCEEDED') summary.succeeded += 1;
      else if (result.status) summary.failed += 1;
    }
    if (running.length === 0) continue;
    await sleep(options.pollMs);
    for (const run of [...running]) {
      const execution = await describe(sfn, run.executionArn);
      if (!execution || execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') continue;
      running.splice(running.indexOf(run), 1);
      finished(run, execution.status ?? 'UNKNOWN', execution.error);
    }
  }
  return summary;
}

/** `sluice backfill <dataset> --from … --to …` */
export async function backfillCommand(
  dataset: string,
  options: BackfillCommandOptions,
  io: { sfn?: SFNClient; out?: (line: string) => void; now?: Date } = {},
): Promise<number> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { contract } = contractsFor(dataset, options.datasets);
  if (!contract.schedule) {
    throw new ConfigurationError(
      `dataset '${contract.name}' has no schedule; a backfill runs the intervals of a schedule (sluice start runs one given interval)`,
    );
  }
  const maxConcurrency = Number(options.maxConcurrency ?? 4);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
    throw new ConfigurationError(
      `--max-concurrency must be a whole number of at least 1, not '${options.maxConcurrency}'`,
    );
  }
  const from = timestamp(options.from, '--from');
  const to = timestamp(options.to, '--to');
  // Only intervals that have ended: ingest refuses the others (IntervalNotClosed), each pulled once.
  const now = io.now ?? new Date();
  const until = to.getTime() > now.getTime() ? now : to;
  if (until !== to) {
    out(
      `--to ${to.toISOString()} is in the future: only the intervals that have ended by now (${now.toISOString()}) are run`,
    );
  }
  const intervals =
    until === to || until > from ? intervalsBetween(parseSchedule(contract.schedule), from, until) : [];
  if (intervals.length === 0) {
    out(
      `no whole interval of ${contract.schedule} lies between ${from.toISOString()} and ${until.toISOString()}`,
    );
    return 0;
  }
  const stateMachineArn = stateMachineArnFrom(options);
  const sfn = io.sfn ?? (await sfnClientFor(stateMachineArn));
  out(
    `backfilling ${contract.name}: ${intervals.length} interval${intervals.length === 1 ? '' : 's'} of ${contract.schedule} ` +
      `from ${intervals[0]!.start} to ${intervals.at(-1)!.end}, at most ${maxConcurrency} at a time`,
  );
  const summary = await backfill({
    sfn,
    stateMachineArn,
    dataset: contract.name,
    intervals,
    maxConcurrency,
    pollMs: Number(options.pollSeconds ?? 5) * 1000,
    out,
  });
  out(
    `done: ${summary.succeeded} succeeded, ${summary.failed} failed; ${summary.started} started now, ${summary.alreadyStarted} started before`,
  );
  return summary.failed > 0 ? 1 : 0;
}

function timestamp(text: string, option: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new ConfigurationError(
      `${option} '${text}' is not an ISO 8601 date or timestamp (e.g. 2026-11-01 or 2026-11-01T00:00:00Z)`,
    );
  }
  return date;
}
