import {
  type BrokenContract,
  type Contract,
  isJsonDocuments,
  loadContractFile,
  loadContractsLeniently,
} from '../../lambdas/shared/contract.js';
import { ConfigurationError, ContractInvalid } from '../../lambdas/shared/errors.js';
import { reportSchemaChanges, schemaChangesSince } from './schema-evolution.js';
import { table } from './table.js';

/**
 * Checks contracts the way synth and the Lambdas do: a line per usable dataset, then every broken
 * contract with its problems (file:line and reason) and a count. Exits 1 when any is broken, or,
 * with `against`, when a change since that baseline is not backward compatible for the curated tables.
 */
export async function checkCommand(
  files: string[],
  options: { datasets: string; against?: string; json?: boolean },
): Promise<number> {
  const { contracts, broken } = files.length > 0 ? loadFiles(files) : loadDirectory(options.datasets);
  const changeOptions = {
    datasets: options.datasets,
    onlyNamed: files.length > 0,
    broken: broken.map((b) => b.dataset),
  };
  if (options.json) {
    const evolution =
      options.against === undefined
        ? undefined
        : schemaChangesSince(contracts, options.against, changeOptions);
    const report = { ...checkReport(contracts, broken), ...(evolution && { against: evolution }) };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const compatible = evolution?.changes.every((c) => c.compatible) ?? true;
    return broken.length === 0 && compatible ? 0 : 1;
  }
  if (contracts.length > 0) {
    const rows = contracts.map((c) => [
      c.name,
      c.source.type,
      isJsonDocuments(c.format) ? 'json' : c.format.type,
      c.schedule ?? 'on upload',
      String(c.expectations.length),
      c.on_failure,
    ]);
    process.stdout.write(
      `${table(['Dataset', 'Source', 'Format', 'Schedule', 'Expectations', 'On failure'], rows)}\n\n`,
    );
  }
  for (const { error } of broken) process.stderr.write(`sluice: ${error.name}: ${error.message}\n`);
  const ok = `${contracts.length} contract${contracts.length === 1 ? '' : 's'} OK`;
  const compatible =
    options.against === undefined || reportSchemaChanges(contracts, options.against, changeOptions);
  if (broken.length === 0) {
    process.stdout.write(`${ok}\n`);
    return compatible ? 0 : 1;
  }
  process.stderr.write(`\n${ok}, ${broken.length} broken: ${broken.map((b) => b.file).join(', ')}\n`);
  return 1;
}

/** What `check --json` prints: the usable datasets as the table lists them, and the broken contracts. */
function checkReport(contracts: readonly Contract[], broken: readonly BrokenContract[]) {
  return {
    datasets: contracts.map((c) => ({
      dataset: c.name,
      source: c.source.type,
      format: isJsonDocuments(c.format) ? 'json' : c.format.type,
      schedule: c.schedule ?? null,
      expectations: c.expectations.length,
      on_failure: c.on_failure,
    })),
    broken: broken.map((b) => ({ file: b.file, error: b.error.name, message: b.error.message })),
  };
}

function loadDirectory(dir: string): { contracts: Contract[]; broken: BrokenContract[] } {
  const { contracts, broken } = loadContractsLeniently(dir);
  if (contracts.size === 0 && broken.length === 0) {
    throw new ConfigurationError(
      `no dataset contracts in ${dir} (*.yaml, *.yml or *.json); --datasets names the directory that holds them`,
    );
  }
  return { contracts: [...contracts.values()], broken };
}

function loadFiles(files: string[]): { contracts: Contract[]; broken: BrokenContract[] } {
  const contracts: Contract[] = [];
  const broken: BrokenContract[] = [];
  for (const file of files) {
    try {
      contracts.push(loadContractFile(file));
    } catch (error) {
      if (!(error instanceof ContractInvalid)) throw error;
      broken.push({ file, dataset: file, error });
    }
  }
  return { contracts, broken };
}
