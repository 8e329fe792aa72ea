import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { RunRecord } from '../../lambdas/shared/run-record.js';

// `sluice history` and `sluice runs` on the local lake, as a user runs them.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 100_000,
  });

describe('sluice history of a local run', () => {
  it('resolves a dataset to its newest execution, as for a deployed stack', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders-wrong.csv');
    writeFileSync(input, 'id,price\nX,1\n');
    sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    const newest = sluice(['--lake', lake, 'run', 'orders', '--input', input]);
    const newestName = /Execution (orders-\S+): FAILED/.exec(newest.stdout)?.[1];
    // Act
    const result = sluice(['--lake', lake, 'history', 'orders']);
    // Assess
    expect(newestName).toBeDefined();
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Execution ${newestName}: FAILED`);
  });

  it('prints the execution as JSON with --json', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const run = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    const name = /Execution (orders-\S+): SUCCEEDED/.exec(run.stdout)?.[1];
    // Act
    const result = sluice(['--lake', lake, 'history', name ?? 'orders', '--json']);
    // Assess
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { name: string; status: string; events: unknown[] };
    expect(report).toMatchObject({ name, status: 'SUCCEEDED' });
    expect(report.events.length).toBeGreaterThan(0);
  });

  it('says there is no such execution or dataset, and exits 2', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    // Act
    const result = sluice(['--lake', lake, 'history', 'nope']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("no local execution 'nope' and no execution of a dataset 'nope'");
  });
});

describe('sluice runs after a partner batch fails its checksums', () => {
  it('lists the failed run once, under its content run id', () => {
    // Prepare
    const datasets = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    writeFileSync(
      join(datasets, 'acme-shipments.yaml'),
      [
        'name: acme-shipments',
        'source: { type: partner-drop, prefix: landing/partners/acme/, complete_when: { manifest: manifest.json } }',
        'format: { type: csv }',
        'schema: { type: object, properties: { shipment_id: { type: string } } }',
      ].join('\n'),
    );
    const batch = join(mkdtempSync(join(tmpdir(), 'sluice-drop-')), '2026-11-26');
    mkdirSync(batch);
    writeFileSync(join(batch, 'part-1.csv'), 'shipment_id\nS1\nS9\n');
    const promised = createHash('sha256').update('shipment_id\nS1\n').digest('hex');
    writeFileSync(
      join(batch, 'manifest.json'),
      JSON.stringify({ files: [{ name: 'part-1.csv', sha256: promised }] }),
    );
    const run = sluice(['--datasets', datasets, '--lake', lake, 'run', 'acme-shipments', '--input', batch]);
    // Act
    const result = sluice(['--datasets', datasets, '--lake', lake, 'runs', 'acme-shipments', '--json']);
    // Assess
    expect(run.stdout).toMatch(/Run failed: ChecksumMismatch/);
    const records = JSON.parse(result.stdout) as RunRecord[];
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'FAILED', error: { name: 'ChecksumMismatch' } });
    expect(records[0]!.runId).not.toMatch(/^trigger-/);
    expect(records[0]!.raw?.files).toBe(1);
  });
});
