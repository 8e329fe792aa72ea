import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, App, type AppProps, Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import { ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type Contract, loadContracts } from '../lambdas/shared/contract.js';
import { changesSince, loadBaseline } from '../lambdas/shared/contract-baseline.js';
import { SchemaChangeIncompatible } from '../lambdas/shared/errors.js';
import type { ConnectionProvider, DatasetRepository } from './constructs/dataset-repository.js';
import type { OpenLineageTarget } from './constructs/pipeline-functions.js';
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
 * - `rawObjectLockDays`: turn on Object Lock for raw with this default retention
 * - `rawObjectLockMode`: `governance` (default) or `compliance`, which nobody can shorten
 * - `landingExpirationDays`: how long uploads stay in landing, default 30
 * - `versionDatasetGiB`: how large the largest versioned snapshot grows, sizing the Version build (16)
 * - `shardConcurrency`: the most shards of one large batch validated at once (100)
 * - `contractBaseline`: a git ref (the tag of the last deploy, `origin/main`) or a contract
 *   directory; synth refuses a contract change since it that readers of the curated tables cannot
 *   follow. Unset: no such check (synth says so once).
 * - `catalogFirstDate`: the first day the catalog's tables project as a `dt` partition (2020-01-01)
 * - `openLineageUrl`: where each run's OpenLineage events are POSTed (Marquez: …/api/v1/lineage),
 *   with `openLineageApiKeySecret` (a Secrets Manager secret name or ARN) and `openLineageNamespace`
 * - the dataset git repository of the Version step, a required choice (see `parseDatasetRepository`):
 *   `datasetsRepository=codecommit` (+ `datasetRepositoryName`), or `datasetRepositoryUrl` with
 *   `datasetRepositoryTokenSecret` or `datasetRepositoryConnectionArn` (+ `datasetRepositoryProvider`)
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: PipelineStack } {
  const app = new App(options.appProps);
  const datasetsDir = options.datasetsDir ?? fileURLToPath(new URL('../datasets', import.meta.url));
  const contracts = loadContracts(datasetsDir);
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };

  const stackName = context('stackName') ?? 'Sluice';
  const removalPolicy = parseRemovalPolicy(context('removalPolicy'));
  const lockDays = parseWhole('rawObjectLockDays', context('rawObjectLockDays'), 'days');
  const landingDays = parseWhole('landingExpirationDays', context('landingExpirationDays'), 'days');
  const versionGiB = parseWhole('versionDatasetGiB', context('versionDatasetGiB'), 'GiB');
  const shardConcurrency = parseWhole('shardConcurrency', context('shardConcurrency'), 'shards');
  const baseline = context('contractBaseline');
  if (baseline !== undefined) refuseIncompatibleChanges(contracts, baseline, datasetsDir);

  const stack = new PipelineStack(app, stackName, {
    stackName,
    contracts,
    alarmEmail: context('alarmEmail'),
    removalPolicy,
    rawObjectLockRetention: parseObjectLock(lockDays, context('rawObjectLockMode')),
    landingExpiration: landingDays ? Duration.days(landingDays) : undefined,
    datasetRepository: parseDatasetRepository(context),
    versionDatasetSize: versionGiB ? Size.gibibytes(versionGiB) : undefined,
    shardConcurrency,
    catalogFirstDate: context('catalogFirstDate'),
    openLineage: parseOpenLineage(context),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  if (baseline === undefined) {
    Annotations.of(stack).addInfo(
      'no contractBaseline: contract changes are not checked against the deployed tables (docs/deploy.md, "Schema evolution")',
    );
  }
  if (options.nagChecks ?? true) {
    // cdk-nag 3 is a synth-time validation plugin: any unacknowledged finding fails synth.
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  }
  return { app, stack };
}

/**
 * Stops synth when a contract changed since `baseline` in a way readers of its curated table
 * cannot follow (a removed column, a changed type, a new required column), with every such change
 * and its reason: deploying it would replace the Glue table's columns under files it cannot read.
 */
export function refuseIncompatibleChanges(
  contracts: ReadonlyMap<string, Contract>,
  baseline: string,
  datasetsDir: string,
): void {
  const before = loadBaseline(baseline, datasetsDir);
  const refused = changesSince(before, contracts).filter((change) => !change.compatible);
  if (refused.length === 0) return;
  const lines = refused.map(
    (c) =>
      `  ${c.dataset}${c.column ? `.${c.column}` : ''} ${c.kind}${c.from || c.to ? ` (${[c.from, c.to].filter(Boolean).join(' -> ')})` : ''}: ${c.reason}`,
  );
  throw new SchemaChangeIncompatible(
    `context contractBaseline=${baseline}: ${refused.length} contract change${refused.length === 1 ? '' : 's'} since ${before.what} would break readers of the curated tables:\n${lines.join('\n')}\n` +
      '(`sluice check --against <baseline>` lists every change; docs/deploy.md, "Schema evolution")',
  );
}

/** Raw's Object Lock retention from `rawObjectLockDays` and `rawObjectLockMode`; none without days. */
function parseObjectLock(
  days: number | undefined,
  mode: string | undefined,
): ObjectLockRetention | undefined {
  if (mode !== undefined && mode !== 'governance' && mode !== 'compliance') {
    throw new Error(`context rawObjectLockMode: expected 'governance' or 'compliance', got '${mode}'`);
  }
  if (!days) {
    if (mode !== undefined)
      throw new Error('context rawObjectLockMode: only applies with rawObjectLockDays=<days>');
    return undefined;
  }
  return mode === 'compliance'
    ? ObjectLockRetention.compliance(Duration.days(days))
    : ObjectLockRetention.governance(Duration.days(days));
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

const PROVIDERS: readonly ConnectionProvider[] = [
  'GITHUB',
  'GITHUB_ENTERPRISE',
  'GITLAB',
  'GITLAB_SELF_MANAGED',
  'BITBUCKET',
];

const REPOSITORY_KINDS: readonly DatasetRepository['kind'][] = ['codecommit', 'https', 'connection'];

/** What synth says when no dataset repository was chosen: every choice, with the context it takes. */
const REPOSITORY_CHOICES = [
  'context datasetsRepository: choose the git repository the Version step commits and tags dataset versions in, one of',
  '  -c datasetsRepository=codecommit [-c datasetRepositoryName=<name>]   a CodeCommit repository the stack creates (accounts new to CodeCommit may be refused one)',
  '  -c datasetRepositoryUrl=https://… -c datasetRepositoryTokenSecret=<secret name or ARN>   any HTTPS git server, with a token allowed to push',
  '  -c datasetRepositoryUrl=https://… -c datasetRepositoryConnectionArn=<arn>   GitHub, GitLab or Bitbucket through an AWS CodeConnections connection',
  "(docs/deploy.md, 'Choosing the dataset repository')",
].join('\n');

/**
 * The dataset git repository from context, which has no default: a CodeCommit repository the
 * stack creates (`datasetsRepository=codecommit`, optionally named), or an HTTPS URL with either a
 * Secrets Manager secret holding a token or an AWS CodeConnections connection (the kind follows
 * from which of the two is given; `datasetsRepository`, when also given, must agree).
 */
export function parseDatasetRepository(context: (key: string) => string | undefined): DatasetRepository {
  const chosen = context('datasetsRepository');
  if (chosen !== undefined && !REPOSITORY_KINDS.includes(chosen as DatasetRepository['kind'])) {
    throw new Error(
      `context datasetsRepository: expected one of ${REPOSITORY_KINDS.join(', ')}, got '${chosen}'\n${REPOSITORY_CHOICES}`,
    );
  }
  const name = context('datasetRepositoryName');
  const url = context('datasetRepositoryUrl');
  const tokenSecret = context('datasetRepositoryTokenSecret');
  const connectionArn = context('datasetRepositoryConnectionArn');
  const provider = context('datasetRepositoryProvider');
  if (url === undefined) {
    const orphan = [
      ['datasetRepositoryTokenSecret', tokenSecret],
      ['datasetRepositoryConnectionArn', connectionArn],
      ['datasetRepositoryProvider', provider],
    ].find(([, value]) => value !== undefined);
    if (orphan) throw new Error(`context ${orphan[0]}: only applies together with datasetRepositoryUrl`);
    if (chosen === undefined) throw new Error(REPOSITORY_CHOICES);
    if (chosen !== 'codecommit') {
      throw new Error(
        `context datasetsRepository=${chosen}: give the repository's clone URL as datasetRepositoryUrl=https://…`,
      );
    }
    return name === undefined ? { kind: 'codecommit' } : { kind: 'codecommit', repositoryName: name };
  }
  if (name !== undefined) {
    throw new Error(
      'context datasetRepositoryName names a CodeCommit repository the stack creates; leave it out when datasetRepositoryUrl is given',
    );
  }
  if (!url.startsWith('https://')) {
    throw new Error(`context datasetRepositoryUrl: expected an https:// clone URL, got '${url}'`);
  }
  if ((tokenSecret === undefined) === (connectionArn === undefined)) {
    throw new Error(
      'context datasetRepositoryUrl: give exactly one of datasetRepositoryTokenSecret (a Secrets Manager secret name or ARN holding a token) or datasetRepositoryConnectionArn (an AWS CodeConnections connection)',
    );
  }
  const kind = tokenSecret !== undefined ? 'https' : 'connection';
  if (chosen !== undefined && chosen !== kind) {
    throw new Error(
      `context datasetsRepository=${chosen}: datasetRepositoryUrl with ${kind === 'https' ? 'datasetRepositoryTokenSecret' : 'datasetRepositoryConnectionArn'} is a '${kind}' repository`,
    );
  }
  if (tokenSecret !== undefined) {
    if (provider !== undefined) {
      throw new Error('context datasetRepositoryProvider: only applies to a connection');
    }
    return { kind: 'https', url, tokenSecret };
  }
  if (provider !== undefined && !PROVIDERS.includes(provider as ConnectionProvider)) {
    throw new Error(
      `context datasetRepositoryProvider: expected one of ${PROVIDERS.join(', ')}, got '${provider}'`,
    );
  }
  return {
    kind: 'connection',
    url,
    connectionArn: connectionArn!,
    ...(provider === undefined ? {} : { provider: provider as ConnectionProvider }),
  };
}

function parseWhole(name: string, value: string | undefined, unit: string): number | undefined {
  if (value === undefined) return undefined;
  const whole = Number(value);
  if (!Number.isInteger(whole) || whole < 1) {
    throw new Error(`context ${name}: expected a whole number of ${unit} (1 or more), got '${value}'`);
  }
  return whole;
}

// Run by the CDK CLI (`cdk.json`: npx tsx infra/app.ts); tests import buildApp instead.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildApp().app.synth();
}

/** The lineage server from context: `openLineageUrl`, and the two that only apply with it. */
export function parseOpenLineage(
  context: (key: string) => string | undefined,
): OpenLineageTarget | undefined {
  const url = context('openLineageUrl');
  const apiKeySecret = context('openLineageApiKeySecret');
  const namespace = context('openLineageNamespace');
  if (!url) {
    const orphan = apiKeySecret ? 'openLineageApiKeySecret' : namespace ? 'openLineageNamespace' : undefined;
    if (orphan) throw new Error(`context ${orphan}: only applies together with openLineageUrl`);
    return undefined;
  }
  if (!/^https?:\/\/[^/]/.test(url)) {
    throw new Error(
      `context openLineageUrl: expected an http(s) URL such as https://marquez.example.com/api/v1/lineage, got '${url}'`,
    );
  }
  return { url, ...(apiKeySecret ? { apiKeySecret } : {}), ...(namespace ? { namespace } : {}) };
}
