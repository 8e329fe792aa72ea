import type { Contract } from './contract.js';
import { loadContracts } from './contract.js';
import { ConfigurationError } from './errors.js';

/**
 * The dataset contracts a Lambda serves. CDK validates `datasets/` at synth and inlines the
 * result into the bundle as SLUICE_CONTRACTS_JSON (esbuild `define`), so a deployed function
 * runs exactly the contracts it was built with. SLUICE_DATASETS_DIR reads a directory instead.
 */
export function contractsFromEnv(env: NodeJS.ProcessEnv = process.env): Map<string, Contract> {
  const inlined = process.env.SLUICE_CONTRACTS_JSON ?? env.SLUICE_CONTRACTS_JSON;
  if (inlined) {
    const list = JSON.parse(inlined) as Contract[];
    return new Map(list.map((contract) => [contract.name, contract]));
  }
  if (env.SLUICE_DATASETS_DIR) return loadContracts(env.SLUICE_DATASETS_DIR);
  throw new ConfigurationError(
    'no dataset contracts: set SLUICE_CONTRACTS_JSON (inlined by CDK) or SLUICE_DATASETS_DIR',
  );
}
