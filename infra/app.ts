import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type AppProps, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadContracts } from '../lambdas/shared/contract.js';
import { PipelineStack } from './stacks/pipeline-stack.js';

export interface BuildAppOptions {
  /**
   * Directory of dataset contracts.
   * @default the repository's `datasets/`
   */
  readonly datasetsDir?: string;
  /**
   * Props of the CDK app (outdir, context, ...). Context given here is read like `-c key=value`.
   * @default - the CLI's settings
   */
  readonly appProps?: AppProps;
  /**
   * Run cdk-nag's AWS Solutions checks at synth; an unacknowledged finding fails synth.
   * Tests turn this off to run the checks themselves and see the findings as a test result.
   * @default true
   */
  readonly nagChecks?: boolean;
}

/**
 * Builds the Sluice CDK app: loads and validates the contracts (a bad contract stops synth with
 * its file, path and line), builds the pipeline stack and runs cdk-nag's AWS Solutions checks on it.
 *
 * Context (`cdk deploy -c key=value`):
 * - `stackName`: default `Sluice`
 * - `alarmEmail`: subscribe this address to the alarm topic
 * - `removalPolicy`: `retain` (default) or `destroy`
 * - `rawObjectLockDays`: turn on Object Lock (governance mode) for raw with this default retention
 * - `landingExpirationDays`: how long uploads stay in landing, default 30
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: PipelineStack } {
  const app = new App(options.appProps);
  const contracts = loadContracts(
    options.datasetsDir ?? fileURLToPath(new URL('../datasets', import.meta.url)),
  );
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };

  const stackName = context('stackName') ?? 'Sluice';
  const removalPolicy = parseRemovalPolicy(context('removalPolicy'));
  const lockDays = parseDays('rawObjectLockDays', context('rawObjectLockDays'));
  const landingDays = parseDays('landingExpirationDays', context('landingExpirationDays'));

  const stack = new PipelineStack(app, stackName, {
    stackName,
    contracts,
    alarmEmail: context('alarmEmail'),
    removalPolicy,
    rawObjectLockRetention: lockDays ? ObjectLockRetention.governance(Duration.days(lockDays)) : undefined,
    landingExpiration: landingDays ? Duration.days(landingDays) : undefined,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  if (options.nagChecks ?? true) {
    // cdk-nag 3 is a synth-time validation plugin: any unacknowledged finding fails synth.
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  }
  return { app, stack };
}

function parseRemovalPolicy(value: string | undefined): RemovalPolicy | undefined {
  switch (value) {
    case undefined:
      return undefined;
    case 'retain':
      return RemovalPolicy.RETAIN;
    case 'destroy':
      return RemovalPolicy.DESTROY;
    default:
      throw new Error(`context removalPolicy: expected 'retain' or 'destroy', got '${value}'`);
  }
}

function parseDays(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(`context ${name}: expected a whole number of days (1 or more), got '${value}'`);
  }
  return days;
}

// Run by the CDK CLI (`cdk.json`: npx tsx infra/app.ts); tests import buildApp instead.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildApp().app.synth();
}
