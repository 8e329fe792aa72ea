import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type LifecycleRule,
  type ObjectLockRetention,
  ObjectOwnership,
  PartitionDateSource,
  StorageClass,
  TargetObjectKeyFormat,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Zone } from '../../lambdas/shared/object-store.js';
import { SPILL_TAG } from '../../lambdas/shared/run-spill.js';

export interface LakeProps {
  /**
   * What happens to the buckets and the key when the stack is deleted.
   * DESTROY only succeeds for empty buckets, and the raw bucket refuses deletes to everyone.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long an upload stays in the landing bucket. Ingest copies it into raw, so landing is a buffer.
   * @default Duration.days(30)
   */
  readonly landingExpiration?: Duration;
  /**
   * How long an overwritten or deleted version is kept in the validated, curated, quarantine and
   * reports zones. Raw keeps every version: it is write-once.
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * When raw objects move to S3 Intelligent-Tiering. Raw objects never expire.
   * @default Duration.days(30)
   */
  readonly rawTieringAfter?: Duration;
  /**
   * Object Lock default retention for the raw bucket, on top of the write-once bucket policy.
   * Object Lock can only be chosen when the bucket is created; in COMPLIANCE mode nobody, root
   * included, can delete a locked version before its retention ends.
   * @default - no Object Lock
   */
  readonly rawObjectLockRetention?: ObjectLockRetention;
  /**
   * How long server access logs are kept.
   * @default Duration.days(365)
   */
  readonly accessLogsExpiration?: Duration;
}

/**
 * The zoned S3 lake: one bucket per zone, encrypted with a customer-managed key, TLS-only,
 * private, versioned, logged to an access-logs bucket, with lifecycle rules per zone.
 * The raw bucket is write-once: its policy refuses unconditional writes and every delete.
 */
export class Lake extends Construct {
  /** Encrypts every zone bucket (and whatever else the stack chooses to encrypt with it). */
  public readonly key: Key;
  /** Receives the server access logs of the zone buckets, one prefix per zone. */
  public readonly accessLogsBucket: Bucket;
  public readonly landingBucket: Bucket;
  public readonly rawBucket: Bucket;
  public readonly validatedBucket: Bucket;
  public readonly curatedBucket: Bucket;
  public readonly quarantineBucket: Bucket;
  public readonly reportsBucket: Bucket;
  /** The zone buckets by zone name. */
  public readonly buckets: Readonly<Record<Zone, Bucket>>;

  constructor(scope: Construct, id: string, props: LakeProps = {}) {
    super(scope, id);
    // S3 delivers access logs under a bucket policy rather than the legacy LogDelivery ACL,
    // which Object Ownership "bucket owner enforced" (ACLs off) does not allow.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new Key(this, 'Key', {
      description: `Sluice lake (${Stack.of(this).stackName}): zone buckets, log groups, alarm topic`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // Log delivery cannot write to SSE-KMS buckets, so the access-logs bucket alone uses SSE-S3.
    this.accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
      ...PRIVATE_VERSIONED_TLS_ONLY,
      encryption: BucketEncryption.S3_MANAGED,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: props.accessLogsExpiration ?? Duration.days(365),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
        },
      ],
    });

    const rules = zoneLifecycleRules(props);
    const zoneBucket = (zone: Zone, extra: Partial<ZoneBucketExtras> = {}) =>
      new Bucket(this, `${capitalise(zone)}Bucket`, {
        ...PRIVATE_VERSIONED_TLS_ONLY,
        encryption: BucketEncryption.KMS,
        encryptionKey: this.key,
        bucketKeyEnabled: true,
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: `${zone}/`,
        targetObjectKeyFormat: TargetObjectKeyFormat.partitionedPrefix(PartitionDateSource.EVENT_TIME),
        lifecycleRules: rules[zone],
        removalPolicy,
        ...extra,
      });

    this.landingBucket = zoneBucket('landing');
    // EventBridge delivery set on the bucket itself: the `eventBridgeEnabled` prop would add a
    // custom-resource Lambda to do the same thing through the S3 API.
    (this.landingBucket.node.defaultChild as CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    this.rawBucket = zoneBucket(
      'raw',
      props.rawObjectLockRetention
        ? { objectLockEnabled: true, objectLockDefaultRetention: props.rawObjectLockRetention }
        : {},
    );
    this.makeWriteOnce(this.rawBucket);
    this.validatedBucket = zoneBucket('validated');
    this.curatedBucket = zoneBucket('curated');
    this.quarantineBucket = zoneBucket('quarantine');
    this.reportsBucket = zoneBucket('reports');

    this.buckets = {
      landing: this.landingBucket,
      raw: this.rawBucket,
      validated: this.validatedBucket,
      curated: this.curatedBucket,
      quarantine: this.quarantineBucket,
      reports: this.reportsBucket,
    };
  }

  /**
   * Lets a delivery service write new objects under one prefix of raw without If-None-Match, which
   * it cannot send: Kinesis Data Firehose, which names each object it writes uniquely and never
   * replaces one. The role may write nowhere else in raw, and deletes stay denied to everyone.
   */
  public allowDelivery(role: IRole, prefix: string): void {
    if (this.deliveryRoleArns.length === 0) {
      this.writeOnceStatement!.addCondition('ArnNotEquals', {
        'aws:PrincipalArn': Lazy.list({ produce: () => this.deliveryRoleArns }),
      });
    }
    this.deliveryRoleArns.push(role.roleArn);
    this.rawBucket.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:PutObject'],
        notResources: [this.rawBucket.arnForObjects(`${prefix}*`)],
        conditions: { ArnEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
    );
  }

  private writeOnceStatement?: PolicyStatement;
  private readonly deliveryRoleArns: string[] = [];

  /**
   * Raw is write-once for every principal, the account's administrators included: a new object
   * must be written with `If-None-Match: *` (so an existing key is never overwritten), and no
   * object or version can be deleted. Lifecycle transitions still apply; S3 lifecycle is not
   * subject to bucket policies, which is why the raw lifecycle never expires anything.
   */
  private makeWriteOnce(bucket: Bucket): void {
    this.writeOnceStatement = new PolicyStatement({
      sid: 'DenyWritesWithoutIfNoneMatch',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: {
        Null: { 's3:if-none-match': 'true' },
        // CreateMultipartUpload and UploadPart are s3:PutObject too but cannot carry the header;
        // the condition applies to the operations that create the object (PutObject,
        // CompleteMultipartUpload, CopyObject).
        Bool: { 's3:ObjectCreationOperation': 'true' },
      },
    });
    bucket.addToResourcePolicy(this.writeOnceStatement);
    bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyDeletes',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
  }
}

/** What every bucket of the lake is: private, owner-enforced, TLS 1.2 only and versioned. */
const PRIVATE_VERSIONED_TLS_ONLY = {
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
  versioned: true,
} as const;

const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(7);

/**
 * The lifecycle of each zone: landing is a buffer that expires; raw moves to Intelligent-Tiering
 * and never expires (it is write-once); the other zones keep their current objects and expire
 * overwritten or deleted versions.
 */
function zoneLifecycleRules(props: LakeProps): Record<Zone, LifecycleRule[]> {
  const abortIncompleteMultipartUploadAfter = ABORT_INCOMPLETE_UPLOADS_AFTER;
  const keepCurrent: LifecycleRule[] = [
    {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(90),
      abortIncompleteMultipartUploadAfter,
    },
  ];
  return {
    landing: [
      {
        id: 'expire-landed-uploads',
        expiration: props.landingExpiration ?? Duration.days(30),
        noncurrentVersionExpiration: Duration.days(7),
        abortIncompleteMultipartUploadAfter,
      },
    ],
    raw: [
      {
        id: 'tier-raw-batches',
        transitions: [
          {
            storageClass: StorageClass.INTELLIGENT_TIERING,
            transitionAfter: props.rawTieringAfter ?? Duration.days(30),
          },
        ],
        abortIncompleteMultipartUploadAfter,
      },
    ],
    validated: keepCurrent,
    curated: keepCurrent,
    quarantine: keepCurrent,
    reports: [
      ...keepCurrent,
      {
        // A sharded run's spill (lambdas/shared/run-spill.ts) is read only within its run, and a
        // run lasts at most the state machine's timeout (2 hours, statemachines/pipeline.asl.json);
        // S3 expires an object at the first midnight UTC a whole day after its creation, so never
        // under 24 hours. The current version expires into a delete marker, then the noncurrent
        // one a day later, so the bytes go; no function needs s3:DeleteObject for it.
        id: 'expire-run-spill',
        tagFilters: { [SPILL_TAG.key]: SPILL_TAG.value },
        expiration: SPILL_EXPIRATION,
        noncurrentVersionExpiration: SPILL_EXPIRATION,
      },
      {
        // What the spill rule leaves: a delete marker with no version behind it. S3 takes no tag
        // filter on this action, so it covers the zone; a marker that hides a version stays.
        id: 'remove-expired-delete-markers',
        expiredObjectDeleteMarker: true,
      },
    ],
  };
}

/** How long after its run's spill was written the reports zone expires it. */
export const SPILL_EXPIRATION = Duration.days(1);

interface ZoneBucketExtras {
  objectLockEnabled: boolean;
  objectLockDefaultRetention: ObjectLockRetention;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
