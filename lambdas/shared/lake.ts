import { ConfigurationError } from './errors.js';
import { ZONES } from './object-store.js';
import type { LakeBuckets } from './s3-object-store.js';

/** The environment variable that names a zone's bucket, e.g. SLUICE_BUCKET_RAW. */
export function bucketVariable(zone: string): string {
  return `SLUICE_BUCKET_${zone.toUpperCase()}`;
}

/** Reads every zone's bucket from the environment, once, at cold start; names all that are missing. */
export function lakeFromEnv(env: NodeJS.ProcessEnv = process.env): LakeBuckets {
  const missing = ZONES.map(bucketVariable).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigurationError(`missing environment variables for the lake buckets: ${missing.join(', ')}`);
  }
  return Object.fromEntries(ZONES.map((zone) => [zone, env[bucketVariable(zone)]!])) as LakeBuckets;
}
