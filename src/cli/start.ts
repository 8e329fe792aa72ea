import type { SFNClient } from '@aws-sdk/client-sfn';
import { contractsFor } from './contracts.js';
import {
  type DeployedOptions,
  intervalToRun,
  sfnClientFor,
  startInterval,
  stateMachineArnFrom,
} from './deployed.js';

export interface StartCommandOptions extends DeployedOptions {
  datasets: string;
  intervalStart?: string;
  intervalEnd?: string;
  /** Start an interval that is off the schedule's grid or has not ended; ingest is told too. */
  force?: boolean;
}

/** `sluice start <dataset>`: starts the deployed pipeline for one interval of a dataset now. */
export async function startCommand(
  dataset: string,
  options: StartCommandOptions,
  io: { sfn?: SFNClient; now?: Date; out?: (line: string) => void } = {},
): Promise<number> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { contract } = contractsFor(dataset, options.datasets);
  const interval = intervalToRun(contract, options, io.now);
  const stateMachineArn = stateMachineArnFrom(options);
  const sfn = io.sfn ?? (await sfnClientFor(stateMachineArn));
  const result = await startInterval(sfn, stateMachineArn, contract.name, interval, options.force);
  out(
    result.started
      ? `started ${result.name} for ${interval.start} – ${interval.end}`
      : `already started: ${result.name} (${result.status ?? 'status unknown'}); nothing new was started`,
  );
  out(`  ${result.executionArn}`);
  out(`  history: sluice history ${result.executionArn}`);
  return 0;
}
