import type { RemovalPolicy } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { FUNCTION_MEMORY_MB } from '../../lambdas/shared/function-sizes.js';
import { acknowledgeFindings, bucketObjectsFinding } from '../nag.js';
import { DatabaseNetwork, databaseNetworks } from './database-network.js';
import type { Lake } from './lake.js';
import { SluiceFunction, type SluiceFunctionProps } from './sluice-function.js';
import { zoneAccessOf } from './zone-access.js';

export interface PipelineFunctionsProps {
  /** The lake whose buckets the functions read and write. */
  readonly lake: Lake;
  /** The dataset contracts, already validated; they are compiled into every bundle. */
  readonly contracts: ReadonlyMap<string, Contract>;
  /**
   * How long function logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Key that encrypts the function log groups. Its policy must let CloudWatch Logs use it.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: IKey;
  /**
   * What happens to the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Lambda runtime of every function.
   * @default Runtime.NODEJS_22_X, the Node version the handlers are tested on
   */
  readonly runtime?: Runtime;
  /**
   * Directory holding `<function>/handler.ts`.
   * @default the repository's `lambdas/`
   */
  readonly handlersDir?: string;
  /**
   * The most shards of one batch validated at once (SLUICE_SHARD_CONCURRENCY of the validate
   * function, which PlanShards hands to the Distributed Map as its MaxConcurrency).
   * @default 100 (DEFAULT_SHARD_CONCURRENCY)
   */
  readonly shardConcurrency?: number;
  /**
   * Where the record-run function sends each run's OpenLineage events, besides the reports zone.
   * @default - the reports zone only
   */
  readonly openLineage?: OpenLineageTarget;
}

/** A lineage server that takes OpenLineage events over HTTP(S). */
export interface OpenLineageTarget {
  /** The endpoint events are POSTed to (Marquez: `https://marquez.example.com/api/v1/lineage`). */
  readonly url: string;
  /**
   * A Secrets Manager secret (name or ARN) whose value is the API key sent as `Authorization: Bearer`.
   * @default - no API key
   */
  readonly apiKeySecret?: string;
  /**
   * The namespace of the deployment's jobs on the lineage server.
   * @default 'sluice'
   */
  readonly namespace?: string;
}

/** An ingest function inside the VPC of a database, and the datasets it ingests. */
export interface NetworkIngest {
  /** `networkId` of the database network: the VPC id and a short hash of subnets, groups and port. */
  readonly id: string;
  readonly datasets: readonly string[];
  readonly network: DatabaseNetwork;
  readonly fn: NodejsFunction;
  readonly logGroup: LogGroup;
}

/**
 * The four Lambda functions of the state machine, each bundled with esbuild from
 * `lambdas/<name>/handler.ts`, with its own role, log group, X-Ray tracing and only the
 * bucket access its step needs; and for each database network the postgres contracts name
 * (`source.network`), one more ingest function attached to that VPC.
 */
export class PipelineFunctions extends Construct {
  /** Copies a source batch into the raw zone with its manifest (every dataset not ingested in a VPC). */
  public readonly ingest: NodejsFunction;
  /** The ingest functions inside databases' VPCs, one per distinct network. */
  public readonly networkIngests: readonly NetworkIngest[];
  /** Checks a raw batch against its contract; writes validated, quarantine and reports. */
  public readonly validate: NodejsFunction;
  /** Copies validated records into the curated zone. */
  public readonly promote: NodejsFunction;
  /** Writes the run record of every run, success or failure. */
  public readonly recordRun: NodejsFunction;
  /** Every function, the ingest functions in VPCs included, for wiring that applies to all of them. */
  public readonly all: readonly NodejsFunction[];
  /** The log group of each function, keyed like the functions. */
  public readonly logGroups: Readonly<Record<'ingest' | 'validate' | 'promote' | 'recordRun', LogGroup>>;

  constructor(scope: Construct, id: string, props: PipelineFunctionsProps) {
    super(scope, id);
    const { lake, contracts } = props;
    const common = {
      lake,
      contracts,
      runtime: props.runtime,
      handlersDir: props.handlersDir,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy,
    };
    const ingest = new SluiceFunction(this, 'Ingest', {
      ...common,
      handler: 'ingest',
      description: 'Sluice: copies a source batch into the write-once raw zone with its manifest',
      memorySize: FUNCTION_MEMORY_MB.ingest,
      timeout: Duration.minutes(15),
      zoneAccess: zoneAccessOf('ingest', lake, contracts, sharedIngestDatasets(contracts)),
    });
    const validate = new SluiceFunction(this, 'Validate', {
      ...common,
      handler: 'validate',
      description: "Sluice: checks a raw batch against its dataset's contract",
      memorySize: FUNCTION_MEMORY_MB.validate,
      timeout: Duration.minutes(15),
      zoneAccess: zoneAccessOf('validate', lake, contracts),
    });
    if (props.shardConcurrency !== undefined) {
      if (
        !Number.isInteger(props.shardConcurrency) ||
        props.shardConcurrency < 1 ||
        props.shardConcurrency > 10_000
      ) {
        throw new Error(
          `shardConcurrency ${props.shardConcurrency}: expected a whole number of shards from 1 to 10000, the most child executions a Distributed Map runs at once`,
        );
      }
      validate.addEnvironment('SLUICE_SHARD_CONCURRENCY', String(props.shardConcurrency));
    }
    const promote = new SluiceFunction(this, 'Promote', {
      ...common,
      handler: 'promote',
      description: 'Sluice: copies the validated records of a run into the curated zone',
      memorySize: FUNCTION_MEMORY_MB.promote,
      timeout: Duration.minutes(15),
      zoneAccess: zoneAccessOf('promote', lake, contracts),
    });
    const recordRun = new SluiceFunction(this, 'RecordRun', {
      ...common,
      handler: 'record-run',
      description: 'Sluice: writes the run record of a run to the reports zone',
      memorySize: FUNCTION_MEMORY_MB.recordRun,
      timeout: Duration.minutes(1),
      zoneAccess: zoneAccessOf('recordRun', lake, contracts),
    });
    grantManifestReads(recordRun, lake, [...contracts.keys()]);
    if (props.openLineage) sendLineage(recordRun, props.openLineage);
    this.networkIngests = this.ingestsInVpcs(common);

    this.ingest = ingest;
    this.validate = validate;
    this.promote = promote;
    this.recordRun = recordRun;
    this.all = [ingest, validate, promote, recordRun, ...this.networkIngests.map((n) => n.fn)];
    this.logGroups = {
      ingest: ingest.functionLogGroup,
      validate: validate.functionLogGroup,
      promote: promote.functionLogGroup,
      recordRun: recordRun.functionLogGroup,
    };
  }

  /**
   * For each database network the postgres contracts name, one ingest function attached to it.
   * Networks in the same VPC share its endpoints.
   */
  private ingestsInVpcs(
    common: Omit<SluiceFunctionProps, 'handler' | 'description' | 'memorySize' | 'timeout' | 'zoneAccess'>,
  ): NetworkIngest[] {
    const networkIngests: NetworkIngest[] = [];
    for (const [id, { network: config, datasets }] of databaseNetworks(common.contracts)) {
      const network = new DatabaseNetwork(this, `Network-${id}`, { network: config, datasets });
      const fn = new SluiceFunction(this, `Ingest-${id}`, {
        ...common,
        handler: 'ingest',
        description:
          `Sluice: copies batches of ${datasets.length === 1 ? 'dataset' : 'datasets'} ${datasets.join(', ')} from PostgreSQL in ${config.vpc_id} into the raw zone`.slice(
            0,
            256,
          ),
        memorySize: FUNCTION_MEMORY_MB.ingest,
        timeout: Duration.minutes(15),
        zoneAccess: zoneAccessOf('ingest', common.lake, common.contracts, datasets),
        network,
      });
      networkIngests.push({ id, datasets, network, fn, logGroup: fn.functionLogGroup });
    }
    for (const a of networkIngests) {
      for (const b of networkIngests) {
        if (a.network.vpc.vpcId === b.network.vpc.vpcId) a.network.shareEndpointsWith(b.network);
      }
    }
    return networkIngests;
  }
}

/** The datasets the shared ingest function ingests: all but those read inside a database's VPC. */
/**
 * Lets the record-run function read the raw manifests of its datasets, and nothing else of raw:
 * a run's OpenLineage events name each raw object of its batch, which the manifest lists (the
 * execution state carries only the first, as a batch can have any number of files).
 */
function grantManifestReads(fn: NodejsFunction, lake: Lake, datasets: readonly string[]): void {
  const patterns = [...datasets].sort().map((dataset) => `${dataset}/*/_manifest.json`);
  const raw = lake.buckets.raw;
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['s3:GetObject'],
      resources: patterns.map((pattern) => raw.arnForObjects(pattern)),
    }),
  );
  acknowledgeFindings(
    fn.role!,
    'AwsSolutions-IAM5',
    patterns.map((pattern) => bucketObjectsFinding(raw, pattern)),
    "The raw manifests of one dataset's runs (<dataset>/dt=…/run=…/_manifest.json), whose keys are only known at run time: the record-run function reads them to name a batch's raw objects in its lineage events, and no other raw object.",
  );
}

/**
 * Points the record-run function at a lineage server: the URL and namespace in its environment
 * and, with an API key, read access to that one secret. The function runs outside any VPC, so its
 * HTTPS request leaves through Lambda's own network; no other function sends lineage.
 */
function sendLineage(fn: NodejsFunction, target: OpenLineageTarget): void {
  if (!/^https?:\/\//.test(target.url)) {
    throw new Error(
      `openLineage.url '${target.url}': expected an http(s) URL such as https://marquez.example.com/api/v1/lineage`,
    );
  }
  fn.addEnvironment('SLUICE_OPENLINEAGE_URL', target.url);
  if (target.namespace) fn.addEnvironment('SLUICE_OPENLINEAGE_NAMESPACE', target.namespace);
  if (!target.apiKeySecret) return;
  const secret = target.apiKeySecret.startsWith('arn:')
    ? Secret.fromSecretCompleteArn(fn, 'OpenLineageApiKey', target.apiKeySecret)
    : Secret.fromSecretNameV2(fn, 'OpenLineageApiKey', target.apiKeySecret);
  secret.grantRead(fn);
  fn.addEnvironment('SLUICE_OPENLINEAGE_API_KEY_SECRET', target.apiKeySecret);
}

function sharedIngestDatasets(contracts: ReadonlyMap<string, Contract>): string[] {
  const inVpcs = new Set([...databaseNetworks(contracts).values()].flatMap((n) => n.datasets));
  return [...contracts.keys()].filter((name) => !inVpcs.has(name));
}
