import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { bucketVariable } from '../../lambdas/shared/lake.js';
import { ZONES } from '../../lambdas/shared/object-store.js';
import { type LakeBuckets, S3ObjectStore } from '../../lambdas/shared/s3-object-store.js';
import { bucketsFor, ensureBuckets } from '../../src/cli/lake.js';

export interface MotoLake {
  endpoint: string;
  s3: S3Client;
  buckets: LakeBuckets;
  store: S3ObjectStore;
}

/** The moto server started by the global setup; integration tests need it. */
export function motoEndpoint(): string {
  const endpoint = process.env.SLUICE_TEST_S3_ENDPOINT;
  if (!endpoint) {
    throw new Error('no moto server: run the tests through `npm test`, which installs .venv and starts moto');
  }
  return endpoint;
}

/**
 * Fresh zone buckets in the shared moto server, and the environment a deployed Lambda would
 * have (bucket variables, S3 endpoint), so the real handlers run against them.
 */
export async function motoLake(datasetsDir: string): Promise<MotoLake> {
  const endpoint = motoEndpoint();
  const buckets = bucketsFor(`t${randomBytes(4).toString('hex')}`);
  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await ensureBuckets(s3, buckets);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SLUICE_DATASETS_DIR: datasetsDir,
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...Object.fromEntries(ZONES.map((zone) => [bucketVariable(zone), buckets[zone]])),
  });
  return { endpoint, s3, buckets, store: new S3ObjectStore(s3, buckets) };
}
