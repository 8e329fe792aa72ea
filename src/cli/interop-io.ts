/**
 * What the commands that take contracts in from other formats and give them back (`sluice import
 * gx|odcs`, `sluice export gx|odcs`) share: the dataset name check, the contract an export names,
 * where the output goes, and how a refusal is reported.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import contractSchema from '../../datasets/contract.schema.json' with { type: 'json' };
import {
  type Contract,
  contractNamed,
  loadContracts,
  loadStandaloneContractFile,
  parseContract,
} from '../../lambdas/shared/contract.js';
import { ConfigurationError, ContractInvalid, SluiceError } from '../../lambdas/shared/errors.js';
import { EXIT } from './exit-codes.js';
import { nameFrom } from './suggest.js';

const NAME_PATTERN = new RegExp(contractSchema.properties.name.pattern);

/** Refuses a `--name` that is not a dataset name, suggesting one that is. */
export function checkDatasetName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new ConfigurationError(
      `--name '${name}' is not a dataset name: lower-case letters, digits, '-' and '_', ` +
        `starting with a letter, at most 63 characters; e.g. --name ${nameFrom(name)}`,
    );
  }
}

/**
 * The contract an export names: a contract file (a `.yaml`/`.json` path, or any path that exists),
 * else a dataset of the contracts directory. `where` names it in messages.
 */
export function exportedContract(target: string, datasets: string): { contract: Contract; where: string } {
  const fromFile = /\.(ya?ml|json)$/.test(target) || existsSync(target);
  const contract = fromFile
    ? loadStandaloneContractFile(target, (message) => process.stderr.write(`sluice: ${message}\n`))
    : contractNamed(loadContracts(datasets), target);
  return { contract, where: fromFile ? target : `dataset '${target}'` };
}

/** Writes a command's output to `out`, or to stdout when none is given. */
export function writeOutput(text: string, out: string | undefined): void {
  if (out === undefined) process.stdout.write(text);
  else writeFileSync(out, text);
}

/** Runs a command, reporting a refused input, contract, file or option as a usage error (exit 2). */
export async function reporting(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    process.stderr.write(`sluice: ${error.name}: ${error.message}\n`);
    return EXIT.usage;
  }
}

/**
 * An imported contract written as YAML and read back by the contract loader, as synth and the
 * Lambdas read it. Refused (`refuse`) with the importer's own `problems`, or, when the loader
 * refuses the contract, with `withLoaderProblems(its message)`: the importer's problems and the
 * loader's together, so that one attempt names everything to change.
 */
export function loadImported(
  contract: object,
  problems: readonly string[],
  refuse: (problems: string[], options?: ErrorOptions) => Error,
  withLoaderProblems: (message: string) => string[],
): { yaml: string; contract: Contract } {
  const text = stringify(contract, { lineWidth: 120 });
  const yaml = text.endsWith('\n') ? text : `${text}\n`;
  let parsed: Contract;
  try {
    parsed = parseContract(yaml, '<inline>');
  } catch (error) {
    if (!(error instanceof ContractInvalid)) throw error;
    throw refuse(withLoaderProblems(error.message), { cause: error });
  }
  if (problems.length > 0) throw refuse([...problems]);
  return { yaml, contract: parsed };
}
