import { CfnOutput, type Duration, RemovalPolicy, type Size, Stack, type StackProps } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { Catalog } from '../constructs/catalog.js';
import type { DatasetRepository } from '../constructs/dataset-repository.js';
import { Lake } from '../constructs/lake.js';
import { Pipeline } from '../constructs/pipeline.js';
import { type OpenLineageTarget, PipelineFunctions } from '../constructs/pipeline-functions.js';
import { Sources } from '../constructs/sources.js';
import { Triggers } from '../constructs/triggers.js';
import { DatasetVersioning } from '../constructs/versioning.js';

export interface PipelineStackProps extends StackProps {
  /** The dataset contracts, validated by `loadContracts`. */
  readonly contracts: ReadonlyMap<string, Contract>;
  /**
   * An address subscribed to the alarm topic (it must confirm the subscription).
   * @default - no subscription; subscribe to the AlarmTopicArn output yourself
   */
  readonly alarmEmail?: string;
  /**
   * What happens to buckets, key and log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Object Lock default retention on the raw bucket; see `LakeProps.rawObjectLockRetention`.
   * @default - no Object Lock; the bucket policy alone keeps raw write-once
   */
  readonly rawObjectLockRetention?: ObjectLockRetention;
  /**
   * How long uploads stay in the landing bucket.
   * @default Duration.days(30)
   */
  readonly landingExpiration?: Duration;
  /**
   * The git repository the Version step commits and tags each dataset version in. No default:
   * CodeCommit, which the stack can create, is not open to every account.
   */
  readonly datasetRepository: DatasetRepository;
  /**
   * How large the largest versioned dataset's snapshot is expected to grow: sizes the Version build.
   * @default Size.gibibytes(16)
   */
  readonly versionDatasetSize?: Size;
  /**
   * The most shards of one batch validated at once by the Distributed Map (its MaxConcurrency):
   * each is one invocation of the validate function, so this bounds that function's concurrency.
   * @default 100
   */
  readonly shardConcurrency?: number;
  /**
   * The first day the catalog's tables project as a `dt` partition (YYYY-MM-DD).
   * @default '2020-01-01'
   */
  readonly catalogFirstDate?: string;
  /**
   * A lineage server that takes each run's OpenLineage events (docs/lineage.md).
   * @default - events are written to the reports zone only
   */
  readonly openLineage?: OpenLineageTarget;
}

/**
 * One Sluice deployment: the lake, the pipeline functions, the DVC versioning build, the state
 * machine and its triggers.
 */
export class PipelineStack extends Stack {
  public readonly lake: Lake;
  public readonly functions: PipelineFunctions;
  public readonly versioning: DatasetVersioning;
  public readonly pipeline: Pipeline;
  public readonly triggers: Triggers;
  /** Partner-drop rules, source secrets and streams. */
  public readonly sources: Sources;
  /** The Glue tables, Athena workgroup and named queries over the lake, and the lake reader policy. */
  public readonly catalog: Catalog;
  public readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, {
      description:
        'Sluice: serverless dataset pipeline (lake zones, validation state machine, DVC versioning, triggers)',
      ...props,
    });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.lake = new Lake(this, 'Lake', {
      removalPolicy,
      rawObjectLockRetention: props.rawObjectLockRetention,
      landingExpiration: props.landingExpiration,
    });
    const key = this.lake.key;
    allowLogsAndAlarmsToUseKey(key);

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Sluice alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    this.functions = new PipelineFunctions(this, 'Functions', {
      lake: this.lake,
      contracts: props.contracts,
      logEncryptionKey: key,
      removalPolicy,
      shardConcurrency: props.shardConcurrency,
      openLineage: props.openLineage,
    });
    this.versioning = new DatasetVersioning(this, 'Versioning', {
      curatedBucket: this.lake.curatedBucket,
      encryptionKey: key,
      datasets: [...props.contracts.values()].filter((c) => c.version.dvc).map((c) => c.name),
      repository: props.datasetRepository,
      datasetSize: props.versionDatasetSize,
      removalPolicy,
    });
    this.pipeline = new Pipeline(this, 'Pipeline', {
      functions: this.functions,
      reportsBucket: this.lake.reportsBucket,
      datasets: [...props.contracts.keys()].sort(),
      ingestRoutes: this.functions.networkIngests.map((n) => ({
        name: n.id,
        datasets: n.datasets,
        function: n.fn,
      })),
      additionalSubstitutions: { VersionProjectName: this.versioning.project.projectName },
      logEncryptionKey: key,
      removalPolicy,
      alarmTopic: this.alarmTopic,
    });
    this.versioning.grantStartBuildSync(this.pipeline.stateMachine);
    this.triggers = new Triggers(this, 'Triggers', {
      contracts: props.contracts,
      landingBucket: this.lake.landingBucket,
      stateMachine: this.pipeline.stateMachine,
      alarmTopic: this.alarmTopic,
    });
    this.sources = new Sources(this, 'Sources', {
      contracts: props.contracts,
      lake: this.lake,
      ingestFunction: this.functions.ingest,
      ingestFunctionsByDataset: new Map(
        this.functions.networkIngests.flatMap((n) => n.datasets.map((dataset) => [dataset, n.fn] as const)),
      ),
      stateMachine: this.pipeline.stateMachine,
      deadLetterQueue: this.triggers.deadLetterQueue,
      removalPolicy,
    });
    this.catalog = new Catalog(this, 'Catalog', {
      lake: this.lake,
      contracts: props.contracts,
      firstPartitionDate: props.catalogFirstDate,
    });

    this.addOutputs();
  }

  /** The `sluice` CLI reads these by key from the stack's outputs. */
  private addOutputs(): void {
    new CfnOutput(this, 'StateMachineArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description: 'The pipeline state machine; `sluice start` runs it',
    });
    const zones = [
      ['Landing', this.lake.landingBucket, 'uploads for s3-upload datasets go here, under their prefix'],
      ['Raw', this.lake.rawBucket, 'write-once raw zone'],
      ['Validated', this.lake.validatedBucket, 'validated zone'],
      ['Curated', this.lake.curatedBucket, 'curated zone (what gets versioned)'],
      ['Quarantine', this.lake.quarantineBucket, 'rejected rows with their reasons'],
      ['Reports', this.lake.reportsBucket, 'validation results and run records'],
    ] as const;
    for (const [zone, bucket, description] of zones) {
      new CfnOutput(this, `${zone}BucketName`, { value: bucket.bucketName, description });
    }
    new CfnOutput(this, 'AccessLogsBucketName', { value: this.lake.accessLogsBucket.bucketName });
    new CfnOutput(this, 'KeyArn', {
      value: this.lake.key.keyArn,
      description: 'KMS key of the lake; uploaders need kms:GenerateDataKey on it',
    });
    new CfnOutput(this, 'VersionProjectName', {
      value: this.versioning.project.projectName,
      description: 'CodeBuild project of the Version step (dvc add, dvc push, git commit and tag)',
    });
    new CfnOutput(this, 'DatasetRepositoryCloneUrl', {
      value: this.versioning.repositoryCloneUrl,
      description: 'git clone this, check out a tag and `dvc pull` to get a dataset version back',
    });
    new CfnOutput(this, 'GlueDatabaseName', {
      value: this.catalog.databaseName,
      description: 'Glue database of the lake: a table per dataset, <dataset>_quarantine and <dataset>_runs',
    });
    new CfnOutput(this, 'AthenaWorkGroupName', {
      value: this.catalog.workGroup.ref,
      description: 'Athena workgroup for queries of the lake (results encrypted with the lake key)',
    });
    new CfnOutput(this, 'LakeReaderPolicyArn', {
      value: this.catalog.readerPolicy.managedPolicyArn,
      description: 'Attach to a role, group or permission set to query the lake with Athena (docs/deploy.md)',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'TriggerDeadLetterQueueUrl', { value: this.triggers.deadLetterQueue.queueUrl });
  }
}

/**
 * The lake key also encrypts the log groups (CloudWatch Logs needs it in the key policy,
 * limited to this account's log groups) and the alarm topic (CloudWatch must be able to
 * publish to it; the AWS managed SNS key would not let it).
 */
function allowLogsAndAlarmsToUseKey(key: Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowCloudWatchLogsForThisAccount',
      effect: Effect.ALLOW,
      principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      effect: Effect.ALLOW,
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
}
