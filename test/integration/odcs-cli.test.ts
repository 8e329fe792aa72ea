import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { odcsFixtures, odcsSchemaProblems } from '../support/odcs.js';

// `sluice import odcs` and `sluice export odcs` as a user runs them, on the ODCS spec's own
// examples (test/fixtures/odcs/), and an imported contract validating files as its rules say.

const root = join(import.meta.dirname, '..', '..');
const example = (name: string) => join(odcsFixtures, 'examples', name);
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

function workdir(): { dir: string; datasets: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-odcs-cli-'));
  const datasets = join(dir, 'datasets');
  mkdirSync(datasets);
  return { dir, datasets };
}

describe('sluice import odcs and export odcs', () => {
  it("imports an object of the spec's full example, exports it as valid ODCS v3.1.0 and imports that to the same contract", () => {
    // Prepare
    const { dir, datasets } = workdir();
    const contract = join(datasets, 'receivers.yaml');
    const exported = join(dir, 'receivers.odcs.yaml');
    // Act
    const imported = sluice([
      'import',
      'odcs',
      example('all--full-example.odcs.yaml'),
      '--object',
      'receivers',
      '--out',
      contract,
    ]);
    const checked = sluice(['--datasets', datasets, 'check']);
    const exporting = sluice(['--datasets', datasets, 'export', 'odcs', 'receivers', '--out', exported]);
    const again = sluice(['import', 'odcs', exported]);
    // Assess
    expect([imported.status, imported.stdout]).toEqual([0, '']);
    expect(imported.stderr).toMatch(/^sluice: source: the contract does not say where batches arrive/m);
    expect(checked.status).toBe(0);
    expect(checked.stdout).toMatch(/^receivers\s+s3-upload\s+csv\s/m);
    expect([exporting.status, exporting.stderr]).toEqual([0, '']);
    expect(odcsSchemaProblems(parse(readFileSync(exported, 'utf8')))).toEqual([]);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(readFileSync(contract, 'utf8'));
  });

  it('adds the curated zone as an s3 server with --bucket, and prints the contract without --out', () => {
    // Prepare
    const { datasets } = workdir();
    writeFileSync(join(datasets, 'orders.yaml'), readFileSync(join(root, 'datasets', 'orders.yaml'), 'utf8'));
    // Act
    const result = sluice([
      '--datasets',
      datasets,
      'export',
      'odcs',
      'orders',
      '--bucket',
      'sluice-curated-0a1b',
    ]);
    // Assess
    expect(result.status).toBe(0);
    const document = parse(result.stdout) as { servers: unknown[]; apiVersion: string; kind: string };
    expect(odcsSchemaProblems(document)).toEqual([]);
    expect([document.apiVersion, document.kind]).toEqual(['v3.1.0', 'DataContract']);
    expect(document.servers).toEqual([
      expect.objectContaining({
        server: 'sluice-curated',
        type: 's3',
        location: 's3://sluice-curated-0a1b/orders/',
        format: 'json',
        delimiter: 'new_line',
      }),
    ]);
  });

  it('validates files with an imported contract as its rules say: under 5 percent nulls passes, more fails', () => {
    // Prepare
    const { dir } = workdir();
    const odcs = join(dir, 'payments.odcs.yaml');
    writeFileSync(
      odcs,
      stringify({
        apiVersion: 'v3.1.0',
        kind: 'DataContract',
        id: 'payments-1',
        version: '1.0.0',
        status: 'active',
        servers: [{ server: 'drop', type: 's3', location: 's3://partner/payments/', format: 'csv' }],
        schema: [
          {
            name: 'payments',
            properties: [
              { name: 'payment_id', logicalType: 'string', required: true, unique: true },
              {
                name: 'method',
                logicalType: 'string',
                quality: [{ metric: 'nullValues', mustBeLessThan: 5, unit: 'percent' }],
              },
            ],
            quality: [{ metric: 'rowCount', mustBeGreaterOrEqualTo: 1 }],
          },
        ],
      }),
    );
    const contract = join(dir, 'payments.yaml');
    const rows = (nulls: number) =>
      `payment_id,method\n${Array.from({ length: 40 }, (_, i) => `P${i},${i < nulls ? '' : 'card'}`).join('\n')}\n`;
    writeFileSync(join(dir, 'few-nulls.csv'), rows(1));
    writeFileSync(join(dir, 'many-nulls.csv'), rows(4));
    // Act
    const imported = sluice(['import', 'odcs', odcs, '--out', contract]);
    const few = sluice(['validate', contract, join(dir, 'few-nulls.csv')]);
    const many = sluice(['validate', contract, join(dir, 'many-nulls.csv')]);
    // Assess
    expect(imported.status).toBe(0);
    expect(readFileSync(contract, 'utf8')).toMatch(/mostly: 0\.95/);
    expect(few.status).toBe(0);
    expect(many.status).toBe(1);
    expect(many.stdout + many.stderr).toMatch(/expect_column_values_to_not_be_null/);
  });

  it('refuses a contract with a rule Sluice cannot run with OdcsUnsupported, by position, exit 2', () => {
    // Act
    const result = sluice(['import', 'odcs', example('quality--column-accuracy.odcs.yaml')]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^sluice: OdcsUnsupported: .*column-accuracy\.odcs\.yaml: 1 problem with the contract:$/m,
    );
    expect(result.stderr).toMatch(
      /^ {2}schema\[0\]\.properties\[0\]\.quality\[0\]: sql rules are not run: /m,
    );
  });

  it('asks which object to import when the contract describes several, exit 2', () => {
    // Act
    const result = sluice(['import', 'odcs', example('schema--all-schema-types.odcs.yaml')]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /^sluice: ConfigurationError: .* describes 3 schema objects \(tbl, AnObject, AnotherObject\); .*name one with --object$/m,
    );
  });
});
