import { S3Client } from '@aws-sdk/client-s3';
import { lakeFromEnv } from './lake.js';
import type { ObjectStore } from './object-store.js';
import { tracer } from './powertools.js';
import { S3ObjectStore } from './s3-object-store.js';

/**
 * The lake as a Lambda sees it: S3, with the zone buckets from the environment.
 * Called at module scope so the client is reused across invocations and a missing
 * variable fails the cold start. AWS_ENDPOINT_URL_S3 points it at a local S3 API.
 */
export function lakeStoreFromEnv(): ObjectStore {
  const s3 = tracer.captureAWSv3Client(
    new S3Client({
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
    }),
  );
  return new S3ObjectStore(s3, lakeFromEnv());
}
