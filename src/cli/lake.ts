import { join, relative } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { type ObjectStore, ZONES } from '../../lambdas/shared/object-store.js';
import { type LakeBuckets, S3ObjectStore } from '../../lambdas/shared/s3-object-store.js';

export interface LakeOptions {
  lake: string;
  s3Endpoint?: string;
  bucketPrefix?: string;
}

/** The local lake: a directory by default, or zone buckets on an S3 API when an endpoint is given. */
export async function openLake(options: LakeOptions): Promise<{ store: ObjectStore; where: string }> {
  if (!options.s3Endpoint) {
    const root = join(options.lake, 'lake');
    const shown = relative(process.cwd(), root);
    return { store: new FsObjectStore(root), where: shown && !shown.startsWith('..') ? shown : root };
  }
  const s3 = new S3Client({
    endpoint: options.s3Endpoint,
    forcePathStyle: true,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'sluice-local',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'sluice-local',
    },
  });
  const buckets = bucketsFor(options.bucketPrefix ?? 'sluice');
  await ensureBuckets(s3, buckets);
  return {
    store: new S3ObjectStore(s3, buckets),
    where: `${options.s3Endpoint} (buckets ${options.bucketPrefix}-*)`,
  };
}

export function bucketsFor(prefix: string): LakeBuckets {
  return Object.fromEntries(ZONES.map((zone) => [zone, `${prefix}-${zone}`])) as LakeBuckets;
}

/** Creates missing zone buckets (a local S3 API starts empty); versioning on raw, as deployed. */
export async function ensureBuckets(s3: S3Client, buckets: LakeBuckets): Promise<void> {
  const { PutBucketVersioningCommand } = await import('@aws-sdk/client-s3');
  for (const [zone, bucket] of Object.entries(buckets)) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      if (zone === 'raw') {
        await s3.send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
        );
      }
    }
  }
}
