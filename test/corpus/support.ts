/** Helpers for the bad-input corpus: the CLI as a user runs it, a folder of contracts, files found in a lake. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Runs `node bin/sluice.mjs …` from the checkout, as a user would. */
export function sluice(args: string[]) {
  return spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** A fresh temporary folder. */
export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `sluice-corpus-${name}-`));
}

/**
 * A folder holding one contract, `<name>.yaml`, for a dataset uploaded under landing/<name>/:
 * `format` and `properties` are YAML flow mappings.
 */
export function datasetsWith(
  name: string,
  format: string,
  properties: string,
): { dir: string; contract: string } {
  const dir = tempDir('datasets');
  const contract = join(dir, `${name}.yaml`);
  writeFileSync(
    contract,
    [
      `name: ${name}`,
      `source: { type: s3-upload, prefix: landing/${name}/ }`,
      `format: ${format}`,
      `schema: { type: object, properties: ${properties} }`,
      'expectations: []',
    ].join('\n'),
  );
  return { dir, contract };
}

/** Every file under `dir`, as paths relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** The records of the one JSON Lines file of `zone` in a local lake whose path ends in `suffix`. */
export function linesIn(lake: string, zone: string, suffix: string): unknown[] {
  const dir = join(lake, 'lake', zone);
  const found = filesUnder(dir).filter((file) => file.endsWith(suffix));
  if (found.length !== 1)
    throw new Error(`expected one ${suffix} in ${dir}, found ${found.join(', ') || 'none'}`);
  return readFileSync(join(dir, found[0]!), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}
