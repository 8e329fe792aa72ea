/**
 * `sluice import gx <suite.json>` and `sluice export gx <dataset|contract>`: the commands around
 * gx-suite.ts, reading and writing files and reporting as the other contract commands do.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import contractSchema from '../../datasets/contract.schema.json' with { type: 'json' };
import { contractNamed, loadContracts, loadStandaloneContractFile } from '../../lambdas/shared/contract.js';
import { ConfigurationError, SluiceError, SuiteUnsupported } from '../../lambdas/shared/errors.js';
import { EXIT } from './exit-codes.js';
import { exportGxSuite, importGxSuite, type SampleShape } from './gx-suite.js';
import { nameFrom, suggest } from './suggest.js';

const NAME_PATTERN = new RegExp(contractSchema.properties.name.pattern);

export interface ImportGxOptions {
  name: string;
  sample?: string;
  out?: string;
}

export async function importGxCommand(file: string, options: ImportGxOptions): Promise<number> {
  return reporting(async () => {
    if (!NAME_PATTERN.test(options.name)) {
      throw new ConfigurationError(
        `--name '${options.name}' is not a dataset name: lower-case letters, digits, '-' and '_', ` +
          `starting with a letter, at most 63 characters; e.g. --name ${nameFrom(options.name)}`,
      );
    }
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
