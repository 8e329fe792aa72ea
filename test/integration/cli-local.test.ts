import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// `sluice run` as a user runs it: the real CLI, the real ASL, the lake in a directory.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[], cwd = root) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

describe('sluice run on the local lake', () => {
  it('runs the example dataset, quarantines its bad rows and prints the history and a summary', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    // Act
    const result = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    // Assess
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Execution orders-\S+: SUCCEEDED/);
    expect(result.stdout).toMatch(/Step\s+Type\s+Status\s+Started\s+Duration/);
    expect(result.stdout).toMatch(/PromoteToCurated\s+Task\s+Succeeded/);
    expect(result.stdout).toMatch(/rows read\s+300/);
    expect(result.stdout).toMatch(/quarantined\s+[1-9]\d*/);
  });

  it('treats a second run of the same file as a no-op and keeps raw write-once and read-only', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const first = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    const rawFiles = filesUnder(join(lake, 'lake', 'raw'));
    // Act
    const again = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    // Assess
    expect(first.status).toBe(0);
    expect(rawFiles.map((file) => file.split('/').at(-1))).toEqual(['_manifest.json', 'orders.csv']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/Already processed/);
    expect(filesUnder(join(lake, 'lake', 'raw'))).toEqual(rawFiles);
    for (const file of rawFiles) expect(statSync(file).mode & 0o222).toBe(0);
  });

  it('exits 1 and names ValidationFailed when a batch cannot be promoted', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders-wrong.csv');
    writeFileSync(input, 'id,price\nX,1\n');
    // Act
    const result = sluice(['--lake', lake, 'run', 'orders', '--input', input]);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/FAILED/);
    expect(result.stdout).toMatch(/Run failed: ValidationFailed/);
    expect(result.stdout).toMatch(/RecordFailedRun\s+Task\s+Succeeded/);
  });

  it('refuses a malformed contract naming the file, the line and what was expected', () => {
    // Prepare
    const datasets = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
    writeFileSync(
      join(datasets, 'orders.yaml'),
      [
        'name: orders',
        'source: { type: s3-upload, prefix: landing/orders/ }',
        'format: { type: csv }',
        'schema: { type: object, properties: { id: { type: string } } }',
        'expectations:',
        '  - type: expect_column_values_to_be_uniq',
        '    kwargs: { column: id }',
        '',
      ].join('\n'),
    );
    // Act
    const result = sluice(['--datasets', datasets, 'check']);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ContractInvalid');
    expect(result.stderr).toContain(`${join(datasets, 'orders.yaml')}:6 at /expectations/0/type`);
    expect(result.stderr).toContain("did you mean 'expect_column_values_to_be_unique'");
  });
});
