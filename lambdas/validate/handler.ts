import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lakeStoreFromEnv } from '../shared/clients.js';
import { contractsFromEnv } from '../shared/contracts-source.js';
import { ConfigurationError } from '../shared/errors.js';
import { logger, metrics, sluiceHandler } from '../shared/powertools.js';
import { type ValidateInput, type ValidateOutput, validateBatch } from './core.js';
import {
  type MergeShardsInput,
  mergeShardsOf,
  type PlanShardsInput,
  planShardsOf,
  type ValidateShardInput,
  validateShardOf,
} from './sharded-core.js';

const store = lakeStoreFromEnv();
const contracts = contractsFromEnv();
const maxConcurrency = shardConcurrencyFromEnv();

/**
 * What the state machine asks of this function: ValidateBatch (no `action`), or a step of the
 * sharded branch, which needs no other bucket access than validating does.
 */
type ValidateEvent =
  | (ValidateInput & { action?: undefined })
  | (PlanShardsInput & { action: 'plan-shards' })
  | (ValidateShardInput & { action: 'validate-shard' })
  | (MergeShardsInput & { action: 'merge-shards' });

export const handler = sluiceHandler(async (event: ValidateEvent) => {
  switch (event.action) {
    case 'plan-shards':
      return planShardsOf(event, { store, contracts, maxConcurrency });
    case 'validate-shard':
      return validateShardOf(event, { store, contracts });
    case 'merge-shards':
      return validated(event, await mergeShardsOf(event, { store, contracts }));
    default:
      return validated(event, await validateBatch(event, { store, contracts }));
  }
});

function validated(event: { dataset: string; runId: string }, result: ValidateOutput): ValidateOutput {
  logger.info('validated', { dataset: event.dataset, runId: event.runId, summary: result.summary });
  metrics.addDimension('dataset', event.dataset);
  metrics.addMetric('RowsRead', MetricUnit.Count, result.rows.read);
  metrics.addMetric('RowsValidated', MetricUnit.Count, result.rows.valid);
  metrics.addMetric('RowsQuarantined', MetricUnit.Count, result.rows.quarantined);
  return result;
}

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
