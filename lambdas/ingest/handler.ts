import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lakeStoreFromEnv } from '../shared/clients.js';
import { contractsFromEnv } from '../shared/contracts-source.js';
import { logger, metrics, sluiceHandler, tracer } from '../shared/powertools.js';
import { ingest } from './core.js';
import { secretsManagerReader } from './sources/credentials.js';
import type { IngestInput } from './types.js';

const store = lakeStoreFromEnv();
const contracts = contractsFromEnv();
// Credentials of pulled sources (postgres, http) named by `connection_secret` / `auth.secret`.
const secretsManager = tracer.captureAWSv3Client(new SecretsManagerClient({}));
const secrets = secretsManagerReader((SecretId) =>
  secretsManager.send(new GetSecretValueCommand({ SecretId })),
);

export const handler = sluiceHandler(async (event: IngestInput) => {
  const result = await ingest(event, { store, contracts, secrets });
  logger.info('ingested', { dataset: event.dataset, ...result });
  metrics.addDimension('dataset', event.dataset);
  metrics.addMetric('IngestedBytes', MetricUnit.Bytes, result.duplicate ? 0 : result.size);
  if (result.records !== undefined && !result.duplicate) {
    metrics.addMetric('IngestedRecords', MetricUnit.Count, result.records);
  }
  if (result.duplicate) metrics.addMetric('DuplicateTriggers', MetricUnit.Count, 1);
  return result;
});
