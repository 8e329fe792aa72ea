import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lakeStoreFromEnv } from '../shared/clients.js';
import { contractsFromEnv } from '../shared/contracts-source.js';
import { ConfigurationError } from '../shared/errors.js';
import { logger, metrics, sluiceHandler } from '../shared/powertools.js';
import { isBatchResult, type ValidateEvent, validateAction } from './actions.js';

const store = lakeStoreFromEnv();
const contracts = contractsFromEnv();
const maxConcurrency = shardConcurrencyFromEnv();

export const handler = sluiceHandler(async (event: ValidateEvent) => {
  const result = await validateAction(event, { store, contracts, maxConcurrency });
  if (isBatchResult(event, result)) {
    logger.info('validated', { dataset: event.dataset, runId: event.runId, summary: result.summary });
    metrics.addDimension('dataset', event.dataset);
    metrics.addMetric('RowsRead', MetricUnit.Count, result.rows.read);
    metrics.addMetric('RowsValidated', MetricUnit.Count, result.rows.valid);
    metrics.addMetric('RowsQuarantined', MetricUnit.Count, result.rows.quarantined);
  }
  return result;
});

/** SLUICE_SHARD_CONCURRENCY: the most shards of a batch validated at once; the default when unset. */
function shardConcurrencyFromEnv(): number | undefined {
  const text = process.env.SLUICE_SHARD_CONCURRENCY;
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 10_000) {
    throw new ConfigurationError(
      `SLUICE_SHARD_CONCURRENCY is '${text}'; expected a whole number of shards from 1 to 10000 (the Distributed Map's limit)`,
    );
  }
  return value;
}
