import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// `sluice import gx` and `sluice export gx` as a user runs them, and the exported suite loaded and
// run by the real Great Expectations (test/support/gx_run_suite.py, the .venv's great_expectations).

const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'gx');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

function workdir(): { dir: string; datasets: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gx-cli-'));
  const datasets = join(dir, 'datasets');
  mkdirSync(datasets);
  return { dir, datasets };
}

interface GxRun {
  success: boolean;
  results: Array<{ type: string; column: string | null; severity: string; success: boolean }>;
}

function runInGx(suite: string, data: string): GxRun {
  const result = spawnSync(
    join(root, '.venv', 'bin', 'python'),
    [join(root, 'test', 'support', 'gx_run_suite.py'), suite, data],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, GX_ANALYTICS_ENABLED: 'false' } },
  );
  if (result.status !== 0) throw new Error(`gx_run_suite.py failed: ${result.stderr || result.error}`);
  return JSON.parse(result.stdout) as GxRun;
}

describe('sluice import gx, then export gx into real Great Expectations', () => {
  it('imports a GX 1.x suite with a sample, validates with it, and exports a suite GX loads and judges alike', () => {
    // Prepare
    const { dir, datasets } = workdir();
    const data = join(dir, 'orders.csv');
    copyFileSync(join(fixtures, 'orders.csv'), data);
    const contract = join(datasets, 'orders.yaml');
    const suite = join(dir, 'orders.suite.json');
    // Act
    const imported = sluice([
      'import',
      'gx',
      join(fixtures, 'orders.gx1.json'),
      '--name',
      'orders',
      '--sample',
      data,
      '--out',
      contract,
    ]);
    const validated = sluice(['validate', contract, data, '--json', join(dir, 'result.json')]);
    const exported = sluice(['--datasets', datasets, 'export', 'gx', 'orders', '--out', suite]);
    const gx = runInGx(suite, data);
    // Assess
    expect(imported.status).toBe(0);
    expect(validated.status).toBe(0);
    expect(exported.status).toBe(0);
    const sluiceResults = (
      JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as {
        results: Array<{ success: boolean; expectation_config: { type: string } }>;
      }
    ).results.filter((r) => r.expectation_config.type !== 'expect_rows_to_match_contract_schema');
    expect(gx.results.map((r) => [r.type, r.severity, r.success])).toEqual([
      ['expect_table_columns_to_match_ordered_list', 'critical', true],
      ['expect_column_values_to_not_be_null', 'critical', true],
      ['expect_column_values_to_be_between', 'warning', false],
      ['expect_column_values_to_be_in_set', 'info', false],
    ]);
    expect(sluiceResults.map((r) => [r.expectation_config.type, r.success])).toEqual(
      gx.results.map((r) => [r.type, r.success]),
    );
  });

  it('imports a GX 0.x suite without a sample into a contract sluice check accepts', () => {
    // Prepare
    const { datasets } = workdir();
    const contract = join(datasets, 'orders.yaml');
    // Act
    const imported = sluice([
      'import',
      'gx',
      join(fixtures, 'orders.gx0.json'),
      '--name',
      'orders',
      '--out',
      contract,
    ]);
    const checked = sluice(['--datasets', datasets, 'check']);
    // Assess
    expect(imported.status).toBe(0);
    expect(imported.stderr).toMatch(/record schema is built from the columns the expectations name \(3\)/);
    expect(checked.status).toBe(0);
    expect(readFileSync(contract, 'utf8')).toMatch(/expect_column_values_to_match_regex/);
  });

  it('refuses a suite Sluice cannot run with SuiteUnsupported, each expectation by position, exit 2', () => {
    // Act
    const result = sluice(['import', 'gx', join(fixtures, 'unsupported.gx0.json'), '--name', 'legacy']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^sluice: SuiteUnsupported: .*unsupported\.gx0\.json: 3 problems/);
    expect(result.stderr).toMatch(
      /expectations\[1\]: expect_column_values_to_match_like_pattern is not an expectation Sluice runs/,
    );
    expect(result.stderr).toMatch(/expectations\[2\]: .*row_condition/);
    expect(result.stderr).toMatch(/expectations\[3\]\/kwargs\/allow_cross_type_comparisons/);
  });

  it('refuses to export a contract GX 1.x cannot load, naming the expectation, exit 2', () => {
    // Prepare
    const { datasets } = workdir();
    const contract = join(datasets, 'events.yaml');
    copyFileSync(join(fixtures, 'events.yaml'), contract);
    // Act
    const result = sluice(['export', 'gx', contract]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/SuiteUnsupported: .*events\.yaml: 1 problem/);
    expect(result.stderr).toMatch(
      /expectations\[1\]: expect_column_min_to_be_between has parse_strings_as_datetimes/,
    );
  });

  it('names the known datasets when the dataset to export has no contract', () => {
    // Prepare
    const { datasets } = workdir();
    copyFileSync(join(fixtures, 'events.yaml'), join(datasets, 'events.yaml'));
    // Act
    const result = sluice(['--datasets', datasets, 'export', 'gx', 'orders']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no contract for dataset 'orders'; known datasets: events/);
  });
});
