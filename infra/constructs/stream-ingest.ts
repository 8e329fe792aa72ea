import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, LogStream, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { StreamSourceConfig } from '../../lambdas/shared/contract.js';
import { acknowledgeFindings, acknowledgeRule, bucketObjectsFinding } from '../nag.js';

export interface StreamIngestProps {
  /** The dataset the stream feeds; its records land under `<dataset>/` in raw. */
  readonly dataset: string;
  /** The contract's stream source: time field, shards, retention, Firehose buffering. */
  readonly source: StreamSourceConfig;
  /** The raw zone bucket Firehose delivers into. */
  readonly rawBucket: IBucket;
  /** The lake key: encrypts the stream, the delivered objects and the delivery log group. */
  readonly encryptionKey: IKey;
  /**
   * How long Firehose's delivery error logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the stream and log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A stream dataset's way into the lake: a Kinesis data stream that producers put JSON records on,
 * and a Firehose delivery stream that writes them into the raw zone, partitioned by the hour of
 * the record's `time_field` (dynamic partitioning with a JQ query):
 * `raw/<dataset>/dt=YYYY-MM-DD/hour=HH/<delivery stream>-<n>-<time>-<uuid>`, one record per line.
 * Records whose time cannot be read go to `<dataset>/_errors/…`. Firehose names every object
 * uniquely and never overwrites one; the contract's schedule then validates each closed hour once
 * (lambdas/ingest/stream.ts). Raw stays write-once for everyone else: `Lake.allowDelivery`
 * exempts only this delivery role, only under `<dataset>/`, from the If-None-Match rule.
 */
export class StreamIngest extends Construct {
  /** Producers put records here (`PutRecord`/`PutRecords`, or the Kinesis agent). */
  public readonly stream: Stream;
  public readonly deliveryStream: CfnDeliveryStream;
  /** The role Firehose assumes to read the stream and write raw. */
  public readonly deliveryRole: Role;
  /** Where Firehose logs records it could not deliver. */
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: StreamIngestProps) {
    super(scope, id);
    const { dataset, source } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.stream = new Stream(this, 'Stream', {
      encryption: StreamEncryption.KMS,
      encryptionKey: props.encryptionKey,
      ...(source.shards
        ? { shardCount: source.shards, streamMode: StreamMode.PROVISIONED }
        : { streamMode: StreamMode.ON_DEMAND }),
      retentionPeriod: Duration.hours(source.retention_hours),
      removalPolicy,
    });

    this.logGroup = new LogGroup(this, 'DeliveryLogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
    const logStream = new LogStream(this, 'DeliveryLogStream', { logGroup: this.logGroup, removalPolicy });

    this.deliveryRole = new Role(this, 'DeliveryRole', {
      assumedBy: new ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Sluice: Firehose delivery of stream dataset ${dataset} into the raw zone`,
    });
    this.stream.grantRead(this.deliveryRole);
    allowS3Delivery(this.deliveryRole, props.rawBucket, `${dataset}/`, props.encryptionKey);
    this.logGroup.grantWrite(this.deliveryRole);

    this.deliveryStream = new CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: {
        kinesisStreamArn: this.stream.streamArn,
        roleArn: this.deliveryRole.roleArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: props.rawBucket.bucketArn,
        roleArn: this.deliveryRole.roleArn,
        prefix: `${dataset}/dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/`,
        errorOutputPrefix: `${dataset}/_errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
        bufferingHints: { intervalInSeconds: source.buffer_seconds, sizeInMBs: source.buffer_mb },
        compressionFormat: 'UNCOMPRESSED',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: props.encryptionKey.keyArn } },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: partitionByRecordTime(source.time_field),
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: this.logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
      },
    });
    this.deliveryStream.node.addDependency(this.deliveryRole);

    acknowledgeFindings(
      this.deliveryRole,
      'AwsSolutions-IAM5',
      [bucketObjectsFinding(props.rawBucket, `${dataset}/*`)],
      'Firehose writes, reads back and cleans up the multipart uploads of objects it names itself (partition prefix, then delivery stream, time and a UUID), only under this one dataset prefix of the raw bucket.',
    );
    acknowledgeRule(
      this.stream,
      'AwsSolutions-KDS3',
      'The stream is encrypted with the lake key on purpose rather than the aws/kinesis key: the records are the raw zone before they land, so one customer-managed key, rotated and with one key policy, guards the stream, the delivered objects and the delivery logs.',
    );
    acknowledgeRule(
      this.deliveryStream,
      'AwsSolutions-KDF1',
      'The delivery stream reads from a Kinesis stream encrypted with the lake key and writes objects encrypted with that key; Firehose server-side encryption cannot be set on a delivery stream whose source is a Kinesis stream.',
    );
  }
}

/**
 * The S3 and KMS permissions of AWS's documented policy for a Firehose S3 destination ("Grant
 * Firehose access to an Amazon S3 destination" in the Firehose developer guide): the bucket-level
 * actions on the bucket, the object-level ones only under `prefix`, and the data key for objects
 * encrypted with `key` only through S3. No action groups: exactly the documented actions, among
 * them the bucket-level and read actions that CDK's `grantPut` does not give.
 *
 * The documented policy also limits the key to an encryption context of the object's ARN; the lake
 * buckets use S3 Bucket Keys, whose encryption context is the bucket's ARN, so that condition
 * would refuse every delivery and is left out.
 */
function allowS3Delivery(role: Role, bucket: IBucket, prefix: string, key: IKey): void {
  role.addToPolicy(
    new PolicyStatement({
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [bucket.bucketArn],
    }),
  );
  role.addToPolicy(
    new PolicyStatement({
      actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      resources: [bucket.arnForObjects(`${prefix}*`)],
    }),
  );
  role.addToPolicy(
    new PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(role).region}.amazonaws.com` } },
    }),
  );
}

/**
 * Firehose processing that gives each record the partition keys `dt` and `hour` from its time field,
 * and writes one record per line.
 */
function partitionByRecordTime(timeField: string): CfnDeliveryStream.ProcessingConfigurationProperty {
  const time = `.${timeField}`;
  return {
    enabled: true,
    processors: [
      {
        type: 'MetadataExtraction',
        parameters: [
          // The date and the hour of an ISO 8601 time: "2026-11-25T13:04:05Z" → 2026-11-25, 13.
          {
            parameterName: 'MetadataExtractionQuery',
            parameterValue: `{dt: ${time}[0:10], hour: ${time}[11:13]}`,
          },
          { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
        ],
      },
      // One record per line: the raw objects are JSON Lines.
      {
        type: 'AppendDelimiterToRecord',
        parameters: [{ parameterName: 'Delimiter', parameterValue: '\\n' }],
      },
    ],
  };
}
