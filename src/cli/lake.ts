import { statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { type ObjectStore, ZONES } from '../../lambdas/shared/object-store.js';
import { type LakeBuckets, S3ObjectStore } from '../../lambdas/shared/s3-object-store.js';
import type { LakeSpec } from '../local/pipeline-threads.js';
import type { LocalVersioning } from '../local/version-step.js';

const projectRoot = join(import.meta.dirname, '..', '..');

export interface LakeOptions {
  lake: string;
  s3Endpoint?: string;
  bucketPrefix?: string;
}

export interface LocalLake {
  store: ObjectStore;
  where: string;
  /** The Version step's git repository and DVC remote for this lake. */
  versioning: LocalVersioning;
  /** The lake as a worker thread opens it again (the shards of a large batch). */
  spec: LakeSpec;
}

/**
 * The local lake: a directory by default, or zone buckets on an S3 API when an endpoint is given.
 * The dataset git repository is a bare repository beside it (`<lake>/datasets.git`) with a DVC
 * cache (`<lake>/dvc-cache`); DVC keeps its data under the curated zone's `_dvc/` prefix, as the
 * deployed stack does.
 */
export async function openLake(options: LakeOptions): Promise<LocalLake> {
  const lakeDir = resolve(options.lake);
  assertUsableLakeDir(options.lake);
  const toolsBin = join(projectRoot, '.venv', 'bin');
  const gitRemote = join(lakeDir, 'datasets.git');
  // One DVC cache kept beside the repository, as a DVC user's repository keeps its own: a build
  // copies in only the files no earlier version had. SLUICE_DVC_CACHE puts it elsewhere.
  const dvcCache = process.env.SLUICE_DVC_CACHE || join(lakeDir, 'dvc-cache');
  // The Version step's clone, kept between builds with the snapshot's hard links in it.
  const workspace = join(lakeDir, 'version-workspace');
  if (!options.s3Endpoint) {
    const root = join(lakeDir, 'lake');
    const shown = relative(process.cwd(), root);
    return {
      store: new FsObjectStore(root),
      spec: { type: 'directory', root },
      where: shown && !shown.startsWith('..') ? shown : root,
      versioning: {
        gitRemote,
        dvcRemote: join(root, 'curated', '_dvc'),
        curatedRoot: join(root, 'curated'),
        toolsBin,
        dvcCache,
        workspace,
      },
    };
  }
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const s3 = new S3Client({
    endpoint: options.s3Endpoint,
    forcePathStyle: true,
    region,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'sluice-local',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'sluice-local',
    },
  });
  const buckets = bucketsFor(options.bucketPrefix ?? 'sluice');
  await ensureBuckets(s3, buckets);
  return {
    store: new S3ObjectStore(s3, buckets),
    spec: { type: 's3', endpoint: options.s3Endpoint, region, buckets },
    where: `${options.s3Endpoint} (buckets ${options.bucketPrefix}-*)`,
    versioning: {
      gitRemote,
      dvcRemote: `s3://${buckets.curated}/_dvc`,
      curatedRoot: `s3://${buckets.curated}`,
      s3Endpoint: options.s3Endpoint,
      toolsBin,
      dvcCache,
      workspace,
    },
  };
}

/** The lake directory is made on first use; a path that exists and is not a directory cannot be one. */
function assertUsableLakeDir(lake: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(lake).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') isDirectory = false;
    else throw error;
  }
  if (!isDirectory) {
    throw new ConfigurationError(
      `--lake ${lake} is not a directory; it names the local lake's directory (default: .sluice), which is created on first use`,
    );
  }
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
