import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// Every table the CLI prints fits the terminal, as a user sees it through a pipe: stdout is not a
// terminal, so the width is $COLUMNS, or 100 without it. --json gives the whole values instead.

const root = join(import.meta.dirname, '..', '..');

function sluice(args: string[], columns?: number) {
  const env = { ...process.env };
  delete env.COLUMNS;
  if (columns !== undefined) env.COLUMNS = String(columns);
  return spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env,
  });
}

const widest = (text: string) => Math.max(...text.split('\n').map((line) => [...line].length));

/** A 14-column file with long names and values, and a contract that fails on several of them. */
function wideFile(): { datasets: string; contract: string; csv: string } {
  const datasets = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
  const names = Array.from({ length: 14 }, (_, i) => `a_rather_descriptive_column_name_${i}`);
  const contract = join(datasets, 'wide.yaml');
  writeFileSync(
    contract,
    `name: wide
source: { type: s3-upload, prefix: wide/ }
format: { type: csv }
schema:
  type: object
  properties:
${names.map((n) => `    ${n}: { type: string }`).join('\n')}
expectations:
  - type: expect_table_columns_to_match_set
    kwargs: { column_set: ${JSON.stringify(names)} }
${names.map((n) => `  - type: expect_column_values_to_be_in_set\n    kwargs: { column: ${n}, value_set: [expected-value] }`).join('\n')}
`,
  );
  const csv = join(datasets, 'wide.csv');
  const row = names.map((_, i) => `an-unexpected-and-quite-long-value-in-column-${i}`).join(',');
  writeFileSync(csv, `${names.join(',')}\n${row}\n${row}\n`);
  return { datasets, contract, csv };
}

describe('sluice validate on a 14-column file', () => {
  it('prints no line wider than $COLUMNS', () => {
    // Prepare
    const { contract, csv } = wideFile();
    // Act
    const result = sluice(['validate', contract, csv], 80);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/expect_column_v/);
    expect(result.stdout).toContain('…');
    expect(widest(result.stdout)).toBeLessThanOrEqual(80);
  });

  it('prints no line wider than 100 when stdout is not a terminal and COLUMNS is not set', () => {
    // Prepare
    const { contract, csv } = wideFile();
    // Act
    const result = sluice(['validate', contract, csv]);
    // Assess
    expect(result.stdout).toMatch(/Would NOT be promoted/);
    expect(widest(result.stdout)).toBeLessThanOrEqual(100);
  });

  it('prints the whole result as JSON with --json and no file, and no table', () => {
    // Prepare
    const { contract, csv } = wideFile();
    // Act
    const result = sluice(['validate', contract, csv, '--json'], 40);
    // Assess
    const report = JSON.parse(result.stdout) as {
      results: Array<{
        expectation_config: { type: string };
        result: { partial_unexpected_list?: string[] };
      }>;
      meta: { decision: { promote: boolean } };
    };
    expect(result.status).toBe(1);
    expect(report.meta.decision.promote).toBe(false);
    const inSet = report.results.find(
      (r) => r.expectation_config.type === 'expect_column_values_to_be_in_set',
    );
    expect(inSet?.result.partial_unexpected_list).toContain('an-unexpected-and-quite-long-value-in-column-0');
  });
});

describe('sluice check', () => {
  it('prints its table of datasets within $COLUMNS', () => {
    // Prepare
    const { datasets } = wideFile();
    // Act
    const result = sluice(['--datasets', datasets, 'check'], 30);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Da/);
    expect(result.stdout).toContain('1 contract OK');
    expect(widest(result.stdout)).toBeLessThanOrEqual(30);
  });

  it('prints the datasets as JSON with --json', () => {
    // Prepare
    const { datasets } = wideFile();
    // Act
    const result = sluice(['--datasets', datasets, 'check', '--json']);
    // Assess
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      datasets: [
        {
          dataset: 'wide',
          source: 's3-upload',
          format: 'csv',
          schedule: null,
          expectations: 15,
          on_failure: 'quarantine',
        },
      ],
      broken: [],
    });
  });
});

describe('sluice run, runs and history', () => {
  it('print their tables within $COLUMNS', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const width = 64;
    // Act
    const run = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv'], width);
    const name = /Execution (\S+):/.exec(run.stdout)?.[1] ?? '';
    const runs = sluice(['--lake', lake, 'runs', 'orders'], width);
    const events = sluice(['--lake', lake, 'history', name, '--events', '--local'], width);
    // Assess
    expect(run.status).toBe(0);
    const steps = run.stdout.slice(
      run.stdout.indexOf('Step'),
      run.stdout.indexOf('\n\n', run.stdout.indexOf('Step')),
    );
    expect(steps).toMatch(/PromoteToCurated/);
    expect(widest(steps)).toBeLessThanOrEqual(width);
    expect(runs.status).toBe(0);
    expect(runs.stdout).toMatch(/^Run/);
    expect(widest(runs.stdout)).toBeLessThanOrEqual(width);
    expect(events.status).toBe(0);
    expect(events.stdout).toMatch(/^ID {2}/m);
    expect(events.stdout.split('\n').length).toBeGreaterThan(20);
    expect(widest(events.stdout)).toBeLessThanOrEqual(width);
  });
});
