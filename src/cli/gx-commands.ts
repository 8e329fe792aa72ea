/**
 * `sluice import gx <suite.json>` and `sluice export gx <dataset|contract>`: the commands around
 * gx-suite.ts, reading and writing files and reporting as the other contract commands do.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SuiteUnsupported } from '../../lambdas/shared/errors.js';
import { EXIT } from './exit-codes.js';
import { exportGxSuite, importGxSuite, type SampleShape } from './gx-suite.js';
import { checkDatasetName, exportedContract, reporting, writeOutput } from './interop-io.js';
import { suggest } from './suggest.js';

export interface ImportGxOptions {
  name: string;
  sample?: string;
  out?: string;
}

export async function importGxCommand(file: string, options: ImportGxOptions): Promise<number> {
  return reporting(async () => {
    checkDatasetName(options.name);
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
    writeOutput(yaml, options.out);
    return EXIT.ok;
  });
}

export async function exportGxCommand(
  target: string,
  options: { out?: string; datasets: string },
): Promise<number> {
  return reporting(async () => {
    const { contract, where } = exportedContract(target, options.datasets);
    const suite = exportGxSuite(contract, where);
    writeOutput(`${JSON.stringify(suite, null, 2)}\n`, options.out);
    return EXIT.ok;
  });
}
