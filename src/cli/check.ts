import { isJsonDocuments, loadContractFile, loadContracts } from '../../lambdas/shared/contract.js';
import { table } from '../local/history.js';

/** Checks contracts the way synth and the Lambdas do; prints a line per dataset or every problem. */
export async function checkCommand(files: string[], options: { datasets: string }): Promise<number> {
  try {
    const contracts =
      files.length > 0 ? files.map(loadContractFile) : [...loadContracts(options.datasets).values()];
    const rows = contracts.map((c) => [
      c.name,
      c.source.type,
      isJsonDocuments(c.format) ? 'json' : c.format.type,
      c.schedule ?? 'on upload',
      String(c.expectations.length),
      c.on_failure,
    ]);
    process.stdout.write(
      `${table(['Dataset', 'Source', 'Format', 'Schedule', 'Expectations', 'On failure'], rows)}\n`,
    );
    process.stdout.write(`\n${contracts.length} contract${contracts.length === 1 ? '' : 's'} OK\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`sluice: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  }
}
