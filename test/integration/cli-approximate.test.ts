import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// `sluice validate` as a user runs it, on a contract that asks for an approximate median.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

function contract(type: string): string {
  return `name: latency
source: { type: s3-upload, prefix: landing/latency/ }
format: { type: csv }
schema:
  type: object
  properties:
    ms: { type: number }
expectations:
  - type: ${type}
    kwargs: { column: ms, max_value: 120 }
    approximate: { relative_error: 0.05 }
`;
}

describe('sluice validate with approximate', () => {
  it('reports the median within the relative error and says it is approximate', () => {
    // Prepare: the exact median is 101.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-approximate-'));
    writeFileSync(join(dir, 'latency.yaml'), contract('expect_column_median_to_be_between'));
    writeFileSync(join(dir, 'latency.csv'), `ms\n${[3, 50, 101, 150, 700].join('\n')}\n`);
    // Act
    const result = sluice([
      'validate',
      join(dir, 'latency.yaml'),
      join(dir, 'latency.csv'),
      '--json',
      join(dir, 'result.json'),
    ]);
    // Assess
    expect(result.status).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    const median = report.results.find(
      (r: { expectation_config: { type: string } }) =>
        r.expectation_config.type === 'expect_column_median_to_be_between',
    );
    expect(Math.abs(median.result.observed_value - 101)).toBeLessThanOrEqual(0.05 * 101);
    expect(median.result.observed_value).not.toBe(101);
    expect(median.result.details).toEqual({ approximate: { relative_error: 0.05 } });
  });

  it('refuses a contract asking for approximate on an expectation that is always exact, naming where', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-approximate-'));
    writeFileSync(join(dir, 'latency.yaml'), contract('expect_column_mean_to_be_between'));
    writeFileSync(join(dir, 'latency.csv'), 'ms\n3\n');
    // Act
    const result = sluice(['validate', join(dir, 'latency.yaml'), join(dir, 'latency.csv')]);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('/expectations/0/approximate');
    expect(result.stderr).toContain('expect_column_mean_to_be_between is computed exactly');
  });
});
