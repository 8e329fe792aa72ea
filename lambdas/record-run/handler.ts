import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lakeStoreFromEnv } from '../shared/clients.js';
import { contractsFromEnv } from '../shared/contracts-source.js';
import { lineageFromEnv } from '../shared/lineage-transport.js';
import { logger, metrics, sluiceHandler, tracer } from '../shared/powertools.js';
import { type RecordRunInput, recordRun } from './core.js';

const store = lakeStoreFromEnv();
const contracts = contractsFromEnv();
const secretsManager = tracer.captureAWSv3Client(new SecretsManagerClient({}));
const lineage = lineageFromEnv(process.env, {
  secret: async (SecretId) =>
    (await secretsManager.send(new GetSecretValueCommand({ SecretId }))).SecretString ?? '',
});
const warn = (message: string, details: Record<string, unknown>) => logger.warn(message, details);

export const handler = sluiceHandler(async (event: RecordRunInput) => {
  const result = await recordRun(event, { store, contracts, lineage, warn });
  metrics.addDimension('dataset', event.state.dataset);
  if (event.status === 'RUNNING') {
    logger.info('run started', { dataset: event.state.dataset, ...result });
    return result;
  }
  logger.info('run recorded', { dataset: event.state.dataset, status: event.status, ...result });
  metrics.addMetric(event.status === 'SUCCEEDED' ? 'RunsSucceeded' : 'RunsFailed', MetricUnit.Count, 1);
  if (result.lineage?.undelivered) {
    metrics.addMetric('LineageEventsUndelivered', MetricUnit.Count, result.lineage.undelivered.length);
  }
  return result;
});
