/**
 * `sluice import odcs <contract.odcs.yaml>` and `sluice export odcs <dataset|contract>`: the
 * commands around odcs-import.ts and odcs-export.ts, reading and writing files and reporting as
 * the GX commands do.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { OdcsUnsupported } from '../../lambdas/shared/errors.js';
import { EXIT } from './exit-codes.js';
import { checkDatasetName, exportedContract, reporting, writeOutput } from './interop-io.js';
import { exportOdcs } from './odcs-export.js';
import { importOdcs } from './odcs-import.js';

export interface ImportOdcsOptions {
  object?: string;
  name?: string;
  out?: string;
}

export async function importOdcsCommand(file: string, options: ImportOdcsOptions): Promise<number> {
  return reporting(async () => {
    if (options.name !== undefined) checkDatasetName(options.name);
    let document: unknown;
    try {
      document = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new OdcsUnsupported(
        `${file}: cannot read the contract as YAML or JSON: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const { yaml, notes } = importOdcs(document, { where: file, object: options.object, name: options.name });
    for (const note of notes) process.stderr.write(`sluice: ${note}\n`);
    writeOutput(yaml, options.out);
    return EXIT.ok;
  });
}

export async function exportOdcsCommand(
  target: string,
  options: { out?: string; bucket?: string; datasets: string },
): Promise<number> {
  return reporting(async () => {
    const { contract, where } = exportedContract(target, options.datasets);
    const document = exportOdcs(contract, {
      where,
      bucket: options.bucket,
    });
    writeOutput(stringify(document, { lineWidth: 120 }), options.out);
    return EXIT.ok;
  });
}
