import { lakeStoreFromEnv } from '../shared/clients.js';
import { contractsFromEnv } from '../shared/contracts-source.js';
import { logger, sluiceHandler } from '../shared/powertools.js';
import { type PromoteInput, promote } from './core.js';

const store = lakeStoreFromEnv();
const contracts = contractsFromEnv();

export const handler = sluiceHandler(async (event: PromoteInput) => {
  const result = await promote(event, { store, contracts });
  logger.info('promoted', { dataset: event.dataset, runId: event.runId, ...result });
  return result;
});
