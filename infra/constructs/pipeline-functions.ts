import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { bucketVariable } from '../../lambdas/shared/lake.js';
import { ZONES } from '../../lambdas/shared/object-store.js';
import { acknowledgeFindings } from '../nag.js';
import { DatabaseNetwork, databaseNetworks } from './database-network.js';
import type { Lake } from './lake.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
}

interface FunctionSpec {
  readonly id: string;
  readonly dir: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Attaches the function to a database's VPC. */
  readonly network?: DatabaseNetwork;
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
    const { lake } = props;
    const handlersDir = props.handlersDir ?? join(REPO_ROOT, 'lambdas');
    const runtime = props.runtime ?? Runtime.NODEJS_22_X;
    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: 'sluice',
      POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    for (const zone of ZONES) environment[bucketVariable(zone)] = lake.buckets[zone].bucketName;
    // The handlers read the contracts from this constant; validating them happened at synth.
    const contractsJson = JSON.stringify([...props.contracts.values()]);

    const build = (spec: FunctionSpec): { fn: NodejsFunction; logGroup: LogGroup } => {
      const logGroup = new LogGroup(this, `${spec.id}LogGroup`, {
        retention: props.logRetention ?? RetentionDays.ONE_MONTH,
        encryptionKey: props.logEncryptionKey,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      // An explicit role instead of the default one, which carries the AWS managed
      // AWSLambdaBasicExecutionRole policy (log writes to any log group in the account).
      const role = new Role(this, `${spec.id}Role`, {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: `Sluice ${spec.dir} function`,
      });
      logGroup.grantWrite(role);
      const fn = new NodejsFunction(this, spec.id, {
        entry: join(handlersDir, spec.dir, 'handler.ts'),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        description: spec.description,
        runtime,
        architecture: Architecture.ARM_64,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        role,
        logGroup,
        tracing: Tracing.ACTIVE,
        ...(spec.network
          ? {
              vpc: spec.network.vpc,
              vpcSubnets: { subnets: [...spec.network.subnets] },
              securityGroups: [spec.network.securityGroup],
            }
          : {}),
        environment,
        bundling: {
          minify: true,
          // Error names are what the Lambda runtime reports as errorType and what the state
          // machine's Retry and Catch match: a minified class name (`Hn`) would match none of them.
          keepNames: true,
          sourceMap: true,
          // Stack traces need the mappings, not a copy of every source file: a third of the size.
          sourcesContent: false,
          format: OutputFormat.ESM,
          mainFields: ['module', 'main'],
          // Some dependencies still call require(); an ES module has none of its own.
          banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
          // The deployed code uses the AWS SDK version the handlers were tested with,
          // not whichever one the Lambda runtime happens to carry.
          bundleAwsSDK: true,
          define: { 'process.env.SLUICE_CONTRACTS_JSON': JSON.stringify(contractsJson) },
        },
      });
      return { fn, logGroup };
    };

    const ingest = build({
      id: 'Ingest',
      dir: 'ingest',
      description: 'Sluice: copies a source batch into the write-once raw zone with its manifest',
      memorySize: 512,
      timeout: Duration.minutes(15),
    });
    const validate = build({
      id: 'Validate',
      dir: 'validate',
      description: "Sluice: checks a raw batch against its dataset's contract",
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });
    const promote = build({
      id: 'Promote',
      dir: 'promote',
      description: 'Sluice: copies the validated records of a run into the curated zone',
      memorySize: 512,
      timeout: Duration.minutes(15),
    });
    const recordRun = build({
      id: 'RecordRun',
      dir: 'record-run',
      description: 'Sluice: writes the run record of a run to the reports zone',
      memorySize: 256,
      timeout: Duration.minutes(1),
    });
    const networkIngests: NetworkIngest[] = [];
    for (const [id, { network: config, datasets }] of databaseNetworks(props.contracts)) {
      const network = new DatabaseNetwork(this, `Network-${id}`, { network: config, datasets });
      const built = build({
        id: `Ingest-${id}`,
        dir: 'ingest',
        description:
          `Sluice: copies batches of ${datasets.length === 1 ? 'dataset' : 'datasets'} ${datasets.join(', ')} from PostgreSQL in ${config.vpc_id} into the raw zone`.slice(
            0,
            256,
          ),
        memorySize: 512,
        timeout: Duration.minutes(15),
        network,
      });
      networkIngests.push({ id, datasets, network, ...built });
    }
    for (const a of networkIngests) {
      for (const b of networkIngests) {
        if (a.network.vpc.vpcId === b.network.vpc.vpcId) a.network.shareEndpointsWith(b.network);
      }
    }

    this.ingest = ingest.fn;
    this.networkIngests = networkIngests;
    this.validate = validate.fn;
    this.promote = promote.fn;
    this.recordRun = recordRun.fn;
    this.all = [this.ingest, this.validate, this.promote, this.recordRun, ...networkIngests.map((n) => n.fn)];
    this.logGroups = {
      ingest: ingest.logGroup,
      validate: validate.logGroup,
      promote: promote.logGroup,
      recordRun: recordRun.logGroup,
    };

    const contracts = [...props.contracts.values()];
    const snapshotChecked = contracts.some((c) => c.expectations.some((e) => e.scope === 'snapshot'));
    const replacing = contracts.filter((c) => c.batches.same_source === 'replace').map((c) => c.name);
    // Ingest reads landing, writes raw (never deletes) and reads it back to spot a batch already
    // ingested, and reads and writes run records to know whether a run already happened.
    const access: ReadonlyArray<{ fn: NodejsFunction; read: Bucket[]; put: Bucket[] }> = [
      {
        fn: this.ingest,
        read: [lake.landingBucket, lake.rawBucket, lake.reportsBucket],
        put: [lake.rawBucket, lake.reportsBucket],
      },
      {
        fn: this.validate,
        // Curated only where a contract has `scope: snapshot` expectations: they are evaluated over it.
        read: [lake.rawBucket, ...(snapshotChecked ? [lake.curatedBucket] : [])],
        put: [lake.validatedBucket, lake.quarantineBucket, lake.reportsBucket],
      },
      {
        fn: this.promote,
        // With `same_source: replace`, promote finds the earlier batches' sources in their raw manifests.
        read: [lake.validatedBucket, ...(replacing.length > 0 ? [lake.curatedBucket, lake.rawBucket] : [])],
        put: [lake.curatedBucket],
      },
      { fn: this.recordRun, read: [lake.reportsBucket], put: [lake.reportsBucket] },
      ...networkIngests.map(({ fn }) => ({
        fn,
        read: [lake.landingBucket, lake.rawBucket, lake.reportsBucket],
        put: [lake.rawBucket, lake.reportsBucket],
      })),
    ];
    const inVpc = new Set<NodejsFunction>(networkIngests.map((n) => n.fn));
    const stack = Stack.of(this);
    for (const { fn, read, put } of access) {
      for (const bucket of read) bucket.grantRead(fn);
      for (const bucket of put) bucket.grantPut(fn);

      const buckets = [...new Set([...read, ...put])];
      const role = fn.role!;
      acknowledgeFindings(
        role,
        'AwsSolutions-IAM5',
        buckets.map(
          (bucket) => `Resource::<${stack.getLogicalId(bucket.node.defaultChild as CfnBucket)}.Arn>/*`,
        ),
        'Object-level access inside the zone buckets this step uses: each grant names one bucket and allows its objects ("<bucket>/*"), because object keys (<dataset>/dt=/run=) are only known at run time.',
      );
      acknowledgeFindings(
        role,
        'AwsSolutions-IAM5',
        GRANT_ACTION_WILDCARDS,
        'Action groups of the CDK bucket grants (read: s3:GetObject*, s3:GetBucket*, s3:List*; put: s3:Abort* to clean up its own multipart uploads) and the data-key actions on the one lake key (kms:GenerateDataKey*, kms:ReEncrypt*); all limited to the buckets and key above.',
      );
      if (inVpc.has(fn)) {
        allowNetworkInterfaces(fn);
        acknowledgeFindings(
          role,
          'AwsSolutions-IAM5',
          ['Resource::*'],
          'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and the network interfaces of a function in a VPC (ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets, ec2:CreateNetworkInterface, which Lambda checks on every resource before the interface exists) do not support narrower resources, so their resource is "*".',
        );
        acknowledgeFindings(
          role,
          'AwsSolutions-IAM5',
          ['Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*'],
          'Deleting and re-addressing the network interfaces Lambda creates for this function in the VPC: their ids are only known once Lambda has created them, so the grant names every network interface of this account and region.',
        );
      } else {
        acknowledgeFindings(
          role,
          'AwsSolutions-IAM5',
          ['Resource::*'],
          'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so their resource is "*".',
        );
      }
      if (runtime === Runtime.NODEJS_22_X) {
        Validations.of(fn).acknowledge({
          id: 'AwsSolutions-L1',
          reason:
            'Node.js 22 on purpose: the handlers and their tests run on the project-local Node 22, so the deployed runtime is the one the code was tested on. The runtime is a prop; move it together with the toolchain.',
        });
      }
    }
    if (replacing.length > 0) this.allowReplacing(lake, replacing);
  }

  /**
   * Promote removes the curated batches a newer batch from the same source replaces: s3:DeleteObject
   * alone (not the grant's s3:DeleteObject*, which would include deleting versions), on the curated
   * prefixes of the datasets whose contracts say `same_source: replace`. The bucket keeps the
   * removed batch as a noncurrent version, and the DVC versions that held it keep their copy.
   */
  private allowReplacing(lake: Lake, datasets: readonly string[]): void {
    const prefixes = datasets.map((name) => `${name}/*`);
    this.promote.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:DeleteObject'],
        resources: prefixes.map((prefix) => lake.curatedBucket.arnForObjects(prefix)),
      }),
    );
    const bucket = Stack.of(this).getLogicalId(lake.curatedBucket.node.defaultChild as CfnBucket);
    acknowledgeFindings(
      this.promote.role!,
      'AwsSolutions-IAM5',
      prefixes.map((prefix) => `Resource::<${bucket}.Arn>/${prefix}`),
      'Removing the curated batches that a newer batch from the same source replaces: their keys (<dataset>/dt=/run=) are only known at run time, so the grant names the prefix of each dataset whose contract asks for it.',
    );
  }
}

/**
 * What Lambda needs to manage the network interfaces of a function in a VPC: the actions of the AWS
 * managed AWSLambdaVPCAccessExecutionRole, without its log permissions (the function's own log group
 * grant has those) and as an inline policy, so that the role carries no AWS managed policy. The
 * function depends on its role, so the policy is there when Lambda checks it at creation and is
 * still there while Lambda removes the interfaces at deletion.
 */
function allowNetworkInterfaces(fn: NodejsFunction): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      resources: ['*'],
    }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: [
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      // Pseudo parameters rather than the stack's environment, so the cdk-nag finding reads the same in every account.
      resources: [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:network-interface/*`],
    }),
  );
}

/** The wildcard actions that `grantRead` and `grantPut` on a KMS-encrypted bucket produce. */
const GRANT_ACTION_WILDCARDS = [
  'Action::s3:GetObject*',
  'Action::s3:GetBucket*',
  'Action::s3:List*',
  'Action::s3:Abort*',
  'Action::kms:GenerateDataKey*',
  'Action::kms:ReEncrypt*',
];
