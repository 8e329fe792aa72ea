import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { bucketVariable } from '../../lambdas/shared/lake.js';
import { ZONES } from '../../lambdas/shared/object-store.js';
import { acknowledgeFunctionWildcards, acknowledgeTestedRuntime } from '../nag.js';
import type { DatabaseNetwork } from './database-network.js';
import type { Lake } from './lake.js';
import { grantZoneAccess, type ZoneAccess } from './zone-access.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SluiceFunctionProps {
  /** The handler's directory: the function runs `<handlersDir>/<handler>/handler.ts`. */
  readonly handler: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** The lake: every zone's bucket name goes into the environment. */
  readonly lake: Lake;
  /** The zones the function may read and write; nothing else of the lake. */
  readonly zoneAccess: ZoneAccess;
  /** The dataset contracts, already validated; they are compiled into the bundle. */
  readonly contracts: ReadonlyMap<string, Contract>;
  /**
   * Attaches the function to a database's VPC.
   * @default - not in a VPC
   */
  readonly network?: DatabaseNetwork;
  /**
   * Lambda runtime.
   * @default Runtime.NODEJS_22_X, the Node version the handlers are tested on
   */
  readonly runtime?: Runtime;
  /**
   * Directory holding `<handler>/handler.ts`.
   * @default the repository's `lambdas/`
   */
  readonly handlersDir?: string;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Key that encrypts the log group. Its policy must let CloudWatch Logs use it.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: IKey;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Sluice Lambda function: a handler of `lambdas/` bundled with esbuild (error names kept, the
 * contracts compiled in), on arm64 with X-Ray tracing, with a role and a log group of its own and
 * only the zone access its step needs.
 *
 * The log group and the role are siblings of the function named `<id>LogGroup` and `<id>Role`
 * rather than its children, so that their logical ids stay those of deployed stacks (a new
 * logical id would make CloudFormation replace the log group).
 */
export class SluiceFunction extends NodejsFunction {
  /** The function's own log group (`logGroup` is the same one, typed as `ILogGroup`). */
  public readonly functionLogGroup: LogGroup;
  /** The function's own role, with no AWS managed policy. */
  public readonly executionRole: Role;

  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An explicit role instead of the default one, which carries the AWS managed
    // AWSLambdaBasicExecutionRole policy (log writes to any log group in the account).
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Sluice ${props.handler} function`,
    });
    logGroup.grantWrite(role);
    const runtime = props.runtime ?? Runtime.NODEJS_22_X;
    const { network } = props;
    super(scope, id, {
      entry: join(props.handlersDir ?? join(REPO_ROOT, 'lambdas'), props.handler, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      ...(network
        ? {
            vpc: network.vpc,
            vpcSubnets: { subnets: [...network.subnets] },
            securityGroups: [network.securityGroup],
          }
        : {}),
      environment: environmentOf(props.lake),
      bundling: bundlingOf(props.contracts),
    });
    this.functionLogGroup = logGroup;
    this.executionRole = role;

    grantZoneAccess(role, props.zoneAccess);
    if (network) allowNetworkInterfaces(role);
    acknowledgeFunctionWildcards(role, network !== undefined);
    if (runtime === Runtime.NODEJS_22_X) acknowledgeTestedRuntime(this);
  }
}

/** Powertools settings and the bucket of every zone, as `lakeFromEnv` reads them. */
function environmentOf(lake: Lake): Record<string, string> {
  const environment: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: 'sluice',
    POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
  };
  for (const zone of ZONES) environment[bucketVariable(zone)] = lake.buckets[zone].bucketName;
  return environment;
}

function bundlingOf(contracts: ReadonlyMap<string, Contract>): BundlingOptions {
  // The handlers read the contracts from this constant; validating them happened at synth.
  const contractsJson = JSON.stringify([...contracts.values()]);
  return {
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
  };
}

/**
 * What Lambda needs to manage the network interfaces of a function in a VPC: the actions of the AWS
 * managed AWSLambdaVPCAccessExecutionRole, without its log permissions (the function's own log group
 * grant has those) and as an inline policy, so that the role carries no AWS managed policy. The
 * function depends on its role, so the policy is there when Lambda checks it at creation and is
 * still there while Lambda removes the interfaces at deletion.
 */
function allowNetworkInterfaces(role: Role): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
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
