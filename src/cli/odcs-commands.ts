/**
 * `sluice import odcs <contract.odcs.yaml>` and `sluice export odcs <dataset|contract>`: the
 * commands around odcs-import.ts and odcs-export.ts, reading and writing files and reporting as
 * the GX commands do.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import contractSchema from '../../datasets/contract.schema.json' with { type: 'json' };
import { contractNamed, loadContracts, loadStandaloneContractFile } from '../../lambdas/shared/contract.js';
import { ConfigurationError, OdcsUnsupported, SluiceError } from '../../lambdas/shared/errors.js';
import { EXIT } from './exit-codes.js';
import { exportOdcs } from './odcs-export.js';
import { importOdcs } from './odcs-import.js';
import { nameFrom } from './suggest.js';

const NAME_PATTERN = new RegExp(contractSchema.properties.name.pattern);

export interface ImportOdcsOptions {
  object?: string;
  name?: string;
  out?: string;
}

export async function importOdcsCommand(file: string, options: ImportOdcsOptions): Promise<number> {
  return reporting(async () => {
    if (options.name !== undefined && !NAME_PATTERN.test(options.name)) {
      throw new ConfigurationError(
        `--name '${options.name}' is not a dataset name: lower-case letters, digits, '-' and '_', ` +
          `starting with a letter, at most 63 characters; e.g. --name ${nameFrom(options.name)}`,
      );
    }
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
    write(yaml, options.out);
    return EXIT.ok;
  });
}

export async function exportOdcsCommand(
  target: string,
  options: { out?: string; bucket?: string; datasets: string },
): Promise<number> {
  return reporting(async () => {
    const fromFile = /\.(ya?ml|json)$/.test(target) || existsSync(target);
    const contract = fromFile
      ? loadStandaloneContractFile(target, (message) => process.stderr.write(`sluice: ${message}\n`))
      : contractNamed(loadContracts(options.datasets), target);
    const document = exportOdcs(contract, {
      where: fromFile ? target : `dataset '${target}'`,
      bucket: options.bucket,
    });
    write(stringify(document, { lineWidth: 120 }), options.out);
    return EXIT.ok;
  });
}

function write(text: string, out: string | undefined): void {
  if (out === undefined) process.stdout.write(text);
  else writeFileSync(out, text);
}

/** Runs a command, reporting a refused contract, file or option as a usage error (exit 2). */
async function reporting(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    process.stderr.write(`sluice: ${error.name}: ${error.message}\n`);
    return EXIT.usage;
  }
}
