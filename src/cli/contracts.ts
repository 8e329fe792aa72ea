import { type Contract, contractNamed, loadContractsLeniently } from '../../lambdas/shared/contract.js';
import { ConfigurationError, ContractInvalid } from '../../lambdas/shared/errors.js';

/**
 * The contracts a command on one dataset works with: every usable contract in the directory, and
 * that dataset's. A broken contract of another dataset does not stop it (it is named on `warn`, and
 * `sluice check` lists its problems); the dataset's own broken contract is the error.
 */
export function contractsFor(
  dataset: string,
  dir: string,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): { contracts: Map<string, Contract>; contract: Contract } {
  const { contracts, broken } = loadContractsLeniently(dir);
  const own = broken.find((b) => b.dataset === dataset && !contracts.has(dataset));
  if (own) throw own.error;
  if (contracts.size === 0 && broken.length === 0) {
    throw new ConfigurationError(
      `no dataset contracts in ${dir} (*.yaml, *.yml or *.json); --datasets names the directory that holds them`,
    );
  }
  if (!contracts.has(dataset) && broken.length > 0) {
    // The contract asked for may be one of the broken files (its name not matching its file, say).
    throw new ContractInvalid(
      `no usable contract for dataset '${dataset}' (usable: ${[...contracts.keys()].join(', ') || 'none'}); ` +
        `${broken.length} contract${broken.length === 1 ? ' is' : 's are'} broken:\n` +
        broken.map((b) => `  ${b.error.message.split('\n').join('\n  ')}`).join('\n'),
    );
  }
  const contract = contractNamed(contracts, dataset);
  if (broken.length > 0) {
    warn(
      `sluice: ${broken.length} other contract${broken.length === 1 ? ' is' : 's are'} broken and skipped ` +
        `(${broken.map((b) => b.file).join(', ')}); 'sluice check' lists the problems`,
    );
  }
  return { contracts, contract };
}
