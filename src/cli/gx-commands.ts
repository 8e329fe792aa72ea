/**
 * `sluice import gx <suite.json>` and `sluice export gx <dataset|contract>`: the commands around
 * gx-suite.ts, reading and writing files and reporting as the other contract commands do.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { contractNamed, loadContracts, loadStandaloneContractFile } from '../../lambdas/shared/contract.js';
import { SluiceError, SuiteUnsupported } from '../../lambdas/shared/errors.js';
import { EXIT } from './exit-codes.js';
import { exportGxSuite, importGxSuite, type SampleShape } from './gx-suite.js';
import { suggest } from './suggest.js';

export interface ImportGxOptions {
  name: string;
  sample?: string;
  out?: string;
}

export async function importGxCommand(file: string, options: ImportGxOptions): Promise<number> {
  return reporting(async () => {
    let suite: unknown;
    try {
      suite = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new SuiteUnsupported(`${file}: cannot read the suite as JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    let sample: SampleShape | undefined;
    if (options.sample) {
      const suggested = parse((await suggest(options.sample, { name: options.name })).yaml) as SampleShape;
      sample = { format: suggested.format, schema: suggested.schema };
    }
    const { yaml, notes } = importGxSuite(suite, { name: options.name, where: file, sample });
    for (const note of notes) process.stderr.write(`sluice: ${note}\n`);
    write(yaml, options.out);
    return EXIT.ok;
  });
}

export async function exportGxCommand(
  target: string,
  options: { out?: string; datasets: string },
): Promise<number> {
  return reporting(async () => {
    const fromFile = /\.(ya?ml|json)$/.test(target) || existsSync(target);
    const contract = fromFile
      ? loadStandaloneContractFile(target, (message) => process.stderr.write(`sluice: ${message}\n`))
      : contractNamed(loadContracts(options.datasets), target);
    const suite = exportGxSuite(contract, fromFile ? target : `dataset '${target}'`);
    write(`${JSON.stringify(suite, null, 2)}\n`, options.out);
    return EXIT.ok;
  });
}

function write(text: string, out: string | undefined): void {
  if (out === undefined) process.stdout.write(text);
  else writeFileSync(out, text);
}

/** Runs a command, reporting a refused suite, contract, file or option as a usage error (exit 2). */
async function reporting(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    process.stderr.write(`sluice: ${error.name}: ${error.message}\n`);
    return EXIT.usage;
  }
}
