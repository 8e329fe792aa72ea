import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lakeStoreFromEnv } from '../shared/clients.js';
import { contractsFromEnv } from '../shared/contracts-source.js';
import { logger, metrics, sluiceHandler } from '../shared/powertools.js';
import { type ValidateInput, validateBatch } from './core.js';

const store = lakeStoreFromEnv();
const contracts = contractsFromEnv();

export const handler = sluiceHandler(async (event: ValidateInput) => {
  const result = await validateBatch(event, { store, contracts });
  logger.info('validated', { dataset: event.dataset, runId: event.runId, summary: result.summary });
  metrics.addDimension('dataset', event.dataset);
  metrics.addMetric('RowsRead', MetricUnit.Count, result.rows.read);
  metrics.addMetric('RowsValidated', MetricUnit.Count, result.rows.valid);
  metrics.addMetric('RowsQuarantined', MetricUnit.Count, result.rows.quarantined);
  return result;
});
