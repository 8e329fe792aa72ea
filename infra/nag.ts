import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { CfnProject, Project } from 'aws-cdk-lib/aws-codebuild';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';

/**
 * The cdk-nag acknowledgements of Sluice in one place. Each names the exact finding it accepts
 * (IAM5 reports one finding per wildcard, so a new wildcard that nobody explained still fails the
 * checks) and says in plain words why the finding is right for Sluice.
 */

/** Acknowledges a whole cdk-nag rule on a construct and its children. */
export function acknowledgeRule(scope: IConstruct, ruleId: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: ruleId, reason });
}

/**
 * Acknowledges findings of a granular cdk-nag rule (IAM5 reports one finding per wildcard) on a
 * construct and its children, all for the same reason.
 */
export function acknowledgeFindings(
  scope: IConstruct,
  ruleId: string,
  findings: readonly string[],
  reason: string,
): void {
  Validations.of(scope).acknowledge(...findings.map((finding) => ({ id: `${ruleId}[${finding}]`, reason })));
}

/** How cdk-nag names the objects `<pattern>` of a bucket of this stack: `Resource::<Id.Arn>/<pattern>`. */
export function bucketObjectsFinding(bucket: IBucket, pattern: string): string {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket);
  return `Resource::<${logicalId}.Arn>/${pattern}`;
}

/** cdk-nag names a function of this stack by its GetAtt (`<Id.Arn>`) and an imported one by its ARN. */
export function functionArnInFindings(scope: IConstruct, fn: IFunction): string {
  const arn: unknown = Stack.of(scope).resolve(fn.functionArn);
  if (typeof arn === 'string') return arn;
  const [logicalId] = (arn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
  return `<${logicalId}.Arn>`;
}

/** Where in a zone bucket a function reads or writes: its key prefixes, each ending in '/'. */
interface PrefixGrant {
  readonly zone: string;
  readonly bucket: IBucket;
  readonly prefixes: readonly string[];
}

/**
 * A function role's object access inside the zone buckets its step reads or writes: one finding
 * per prefix wildcard (`<bucket>/<dataset>/*`, `<landing prefix>*`), each with its own reason.
 */
export function acknowledgeZonePrefixAccess(
  role: IRole,
  access: { readonly read: readonly PrefixGrant[]; readonly put: readonly PrefixGrant[] },
): void {
  const uses = new Map<string, { grant: PrefixGrant; prefix: string; verbs: Set<string> }>();
  const note = (grants: readonly PrefixGrant[], verb: string) => {
    for (const grant of grants) {
      for (const prefix of grant.prefixes) {
        const finding = bucketObjectsFinding(grant.bucket, `${prefix}*`);
        const use = uses.get(finding) ?? { grant, prefix, verbs: new Set<string>() };
        use.verbs.add(verb);
        uses.set(finding, use);
      }
    }
  };
  note(access.read, 'reads');
  note(access.put, 'writes');
  for (const [finding, { grant, prefix, verbs }] of uses) {
    const what =
      grant.zone === 'landing'
        ? `the landing prefix ${prefix} of a contract's source, where uploads and partner files arrive under names only known at run time`
        : `the prefix ${prefix} of one dataset, whose keys (${prefix}dt=…/run=…/…, ${prefix}runs/…) are only known at run time`;
    acknowledgeFindings(
      role,
      'AwsSolutions-IAM5',
      [finding],
      `Objects under ${prefix}* of the ${grant.zone} zone, which this step ${[...verbs].join(' and ')}: the grant names ${what}, and no other key of the bucket.`,
    );
  }
}

/** Promote's deletes of replaced curated batches, one finding per dataset prefix. */
export function acknowledgeReplacedBatchDeletes(
  role: IRole,
  curatedBucket: IBucket,
  prefixes: readonly string[],
): void {
  acknowledgeFindings(
    role,
    'AwsSolutions-IAM5',
    prefixes.map((prefix) => bucketObjectsFinding(curatedBucket, prefix)),
    'Removing the curated batches that a newer batch from the same source replaces: their keys (<dataset>/dt=/run=) are only known at run time, so the grant names the prefix of each dataset whose contract asks for it.',
  );
}

/** Validate's tagging of sharded runs' spills in the reports zone, one finding per dataset's pattern. */
export function acknowledgeSpillTagging(
  role: IRole,
  reportsBucket: IBucket,
  patterns: readonly string[],
): void {
  acknowledgeFindings(
    role,
    'AwsSolutions-IAM5',
    patterns.map((pattern) => bucketObjectsFinding(reportsBucket, pattern)),
    "Tagging the spill a sharded run's shards write (<dataset>/dt=/run=/spill/), so that the reports zone's lifecycle rule expires it after the run: the run's date and id are only known at run time, so the grant names each dataset's spill folders and nothing else of the reports zone.",
  );
}

/** The "*" resources of X-Ray tracing, and for a function in a VPC those of its network interfaces. */
export function acknowledgeFunctionWildcards(role: IRole, inVpc: boolean): void {
  if (!inVpc) {
    acknowledgeFindings(
      role,
      'AwsSolutions-IAM5',
      ['Resource::*'],
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so their resource is "*".',
    );
    return;
  }
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
}

/** Node.js 22 is not the newest Lambda runtime, which AwsSolutions-L1 asks for. */
export function acknowledgeTestedRuntime(fn: IConstruct): void {
  acknowledgeRule(
    fn,
    'AwsSolutions-L1',
    'Node.js 22 on purpose: the handlers and their tests run on the project-local Node 22, so the deployed runtime is the one the code was tested on. The runtime is a prop; move it together with the toolchain.',
  );
}

/** The state machine role: invoking its functions, execution logging and tracing. */
export function acknowledgeStateMachineRole(role: IRole, invoked: readonly IFunction[]): void {
  acknowledgeFindings(
    role,
    'AwsSolutions-IAM5',
    invoked.map((fn) => `Resource::${functionArnInFindings(role, fn)}:*`),
    'lambda:InvokeFunction on each pipeline function and its versions and aliases ("<function ARN>:*"), as grantInvoke writes it; only the functions of this stack the definition invokes.',
  );
  acknowledgeFindings(
    role,
    'AwsSolutions-IAM5',
    ['Resource::*'],
    'Execution logging and X-Ray tracing: the CloudWatch Logs delivery actions (logs:CreateLogDelivery, logs:PutResourcePolicy, ...) and xray:PutTraceSegments/PutTelemetryRecords/GetSampling* do not support resource-level permissions, so their resource is "*".',
  );
}

/** The Distributed Map's grants on the state machine role: its child executions, shard lists and results. */
export function acknowledgeMapRunPolicy(
  policy: IConstruct,
  grants: {
    readonly children: readonly string[];
    readonly reportsBucket: IBucket;
    readonly objects: readonly string[];
  },
): void {
  const stack = Stack.of(policy);
  acknowledgeFindings(
    policy,
    'AwsSolutions-IAM5',
    grants.children.map((arn) => `Resource::${arnInFindings(stack, arn)}`),
    'states:DescribeExecution and states:StopExecution on the child executions of the Distributed Maps ValidateShards and CheckKeyPartitions of this state machine only ("execution:<state machine>/<Label>:*"): Step Functions names each child at run time.',
  );
  acknowledgeFindings(
    policy,
    'AwsSolutions-IAM5',
    grants.objects.map(
      (pattern) => `Resource::${arnInFindings(stack, grants.reportsBucket.bucketArn)}/${pattern}`,
    ),
    'The Distributed Maps\' item readers get each run\'s shard and key partition lists (s3:GetObject on "<reports>/<dataset>/runs/*/shards/shards.jsonl" and ".../key-partitions.jsonl") and their result writers write each map run\'s results (s3:PutObject, s3:GetObject and the multipart actions on "<reports>/<dataset>/runs/*/shards/results/*" and ".../key-results/*"), for each dataset of the stack: the run id is only known at run time.',
  );
}

/** How cdk-nag shows an ARN: pseudo parameters and references as <Name>, attributes as <Id.Attribute>. */
function arnInFindings(stack: Stack, arn: string): string {
  const shown = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const {
      Ref: ref,
      'Fn::GetAtt': getAtt,
      'Fn::Join': join,
    } = value as {
      Ref?: string;
      'Fn::GetAtt'?: [string, string];
      'Fn::Join'?: [string, unknown[]];
    };
    if (ref !== undefined) return `<${ref}>`;
    if (getAtt !== undefined) return `<${getAtt[0]}.${getAtt[1]}>`;
    if (join !== undefined) return join[1].map(shown).join(join[0]);
    throw new Error(`cannot name ${JSON.stringify(value)} as cdk-nag does`);
  };
  return shown(stack.resolve(arn));
}

/** The Version build role: the curated snapshots, DVC's remote, the lake key, its logs and the git token. */
export function acknowledgeVersionBuildRole(
  role: IRole,
  build: {
    readonly project: Project;
    readonly curatedBucket: IBucket;
    /** The versioned datasets, whose prefixes of the curated bucket the build reads. */
    readonly datasets: readonly string[];
    /** The prefix of the curated bucket that DVC's remote writes. */
    readonly dvcRemotePrefix: string;
    /** The git token secret, for a repository reached over HTTPS with a token. */
    readonly tokenSecret?: ISecret | string;
  },
): void {
  const stack = Stack.of(build.project);
  const bucketArn = bucketArnInFindings(stack, build.curatedBucket);
  acknowledgeFindings(
    role,
    'AwsSolutions-IAM5',
    [...build.datasets, build.dvcRemotePrefix].map((prefix) => `Resource::${bucketArn}/${prefix}/*`),
    `s3:GetObject on the curated objects of each versioned dataset ("<curated>/<dataset>/*"), and s3:GetObject, s3:PutObject and s3:AbortMultipartUpload on DVC's remote ("<curated>/${build.dvcRemotePrefix}/*"), whose keys are content hashes known only at run time; no delete.`,
  );
  acknowledgeFindings(
    role,
    'AwsSolutions-IAM5',
    ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'],
    'The data-key actions CodeBuild needs on the one lake key that encrypts the build (kms:GenerateDataKey*, kms:ReEncrypt*), as the project writes them for its encryptionKey; no other key.',
  );
  acknowledgeFindings(
    role,
    'AwsSolutions-IAM5',
    [
      `Resource::arn:${pseudo(stack.partition, 'Partition')}:logs:${pseudo(stack.region, 'Region')}:${pseudo(stack.account, 'AccountId')}:log-group:/aws/codebuild/<${stack.getLogicalId(build.project.node.defaultChild as CfnProject)}>:*`,
    ],
    'logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents, which the CodeBuild project always grants on "/aws/codebuild/<project>", here the build\'s own log group; the ":*" covers its log streams, named by build id at run time.',
  );
  const { tokenSecret } = build;
  if (typeof tokenSecret === 'string' && tokenSecret.startsWith('arn:')) {
    acknowledgeFindings(
      role,
      'AwsSolutions-IAM5',
      [`Resource::${tokenSecret.split(':').slice(0, 7).join(':')}*`],
      'secretsmanager:GetSecretValue on the one git token secret, named by its complete ARN; the CodeBuild project construct writes that grant with a trailing "*", which also covers the versions of that secret.',
    );
  }
}

/** cdk-nag shows a pseudo parameter as <AWS::Name>, and a stack's region or account given at synth as itself. */
function pseudo(value: string, name: string): string {
  return Token.isUnresolved(value) ? `<AWS::${name}>` : value;
}

/** cdk-nag names a bucket of this stack by its GetAtt (<Id.Arn>) and an imported one by its ARN. */
function bucketArnInFindings(stack: Stack, bucket: IBucket): string {
  const arn: unknown = stack.resolve(bucket.bucketArn);
  if (typeof arn === 'string') return arn;
  return `<${stack.getLogicalId(bucket.node.defaultChild as CfnBucket)}.Arn>`;
}

/** The lake reader policy's object reads under the datasets' prefixes, and its query results prefix. */
export function acknowledgeLakeReaderPolicy(
  policy: IConstruct,
  grants: {
    readonly lake: {
      readonly curatedBucket: IBucket;
      readonly quarantineBucket: IBucket;
      readonly reportsBucket: IBucket;
    };
    readonly datasets: readonly string[];
    readonly resultsPrefix: string;
  },
): void {
  const { lake, datasets } = grants;
  acknowledgeFindings(
    policy,
    'AwsSolutions-IAM5',
    datasets.flatMap((name) => [
      bucketObjectsFinding(lake.curatedBucket, `${name}/*`),
      bucketObjectsFinding(lake.quarantineBucket, `${name}/*`),
      bucketObjectsFinding(lake.reportsBucket, `${name}/runs/*`),
    ]),
    "s3:GetObject for a lake reader on the objects the catalog tables lie over: the curated and quarantined rows under each dataset's prefix (<dataset>/dt=…/run=…/…) and its run records (<dataset>/runs/…), whose keys are only known at run time; nothing else of the buckets.",
  );
  acknowledgeFindings(
    policy,
    'AwsSolutions-IAM5',
    [bucketObjectsFinding(lake.reportsBucket, `${grants.resultsPrefix}*`)],
    `Athena writes and reads each query's results under ${grants.resultsPrefix} of the reports bucket, the workgroup's enforced output location, with names Athena chooses per query; no other key of the bucket.`,
  );
}
