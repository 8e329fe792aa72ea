import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lakeStoreFromEnv } from '../shared/clients.js';
import { contractsFromEnv } from '../shared/contracts-source.js';
import { logger, metrics, sluiceHandler } from '../shared/powertools.js';
import { type IngestInput, ingest } from './core.js';

const store = lakeStoreFromEnv();
const contracts = contractsFromEnv();

export const handler = sluiceHandler(async (event: IngestInput) => {
  const result = await ingest(event, { store, contracts });
  logger.info('ingested', { dataset: event.dataset, ...result });
  metrics.addDimension('dataset', event.dataset);
  metrics.addMetric('IngestedBytes', MetricUnit.Bytes, result.duplicate ? 0 : result.size);
  if (result.duplicate) metrics.addMetric('DuplicateTriggers', MetricUnit.Count, 1);
  return result;
});
