import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lakeStoreFromEnv } from '../shared/clients.js';
import { logger, metrics, sluiceHandler } from '../shared/powertools.js';
import { type RecordRunInput, recordRun } from './core.js';

const store = lakeStoreFromEnv();

export const handler = sluiceHandler(async (event: RecordRunInput) => {
  const result = await recordRun(event, { store });
  logger.info('run recorded', { dataset: event.state.dataset, status: event.status, ...result });
  metrics.addDimension('dataset', event.state.dataset);
  metrics.addMetric(event.status === 'SUCCEEDED' ? 'RunsSucceeded' : 'RunsFailed', MetricUnit.Count, 1);
  return result;
});
