import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { coreFunctions, runUpload } from '../../../src/local/pipeline.js';
import { MemoryStore } from '../../support/memory-store.js';

const contracts = new Map([
  [
    'orders',
    parseContract(
      [
        'name: orders',
        'source: { type: s3-upload, prefix: landing/orders/ }',
        'format: { type: jsonl, shard_mb: 0.002 }',
        'schema: { type: object, required: [id], properties: { id: { type: integer } } }',
        'expectations:',
        '  - type: expect_column_values_to_be_unique',
        '    kwargs: { column: id }',
        'on_failure: quarantine',
      ].join('\n'),
      '<inline>',
    ),
  ],
]);

/** About 12 KB of records, the id of the first one again at the end. */
function ordersFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sharded-'));
  const lines = Array.from({ length: 600 }, (_, i) => JSON.stringify({ id: i, note: 'x'.repeat(i % 7) }));
  lines.push(JSON.stringify({ id: 0, note: 'again' }));
  const file = join(dir, 'orders.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('a local run of a batch larger than its shard size', () => {
  it('runs ValidateShards over the lake in this thread, one child per shard, at the MaxConcurrency PlanShards gives', async () => {
    // Prepare
    const store = new MemoryStore();
    // Act
    const { report } = await runUpload({
      dataset: 'orders',
      inputFile: ordersFile(),
      store,
      contracts,
      functions: coreFunctions({ store, contracts }),
      retryIntervalMs: 0,
      workers: 1,
    });
    // Assess
    expect({ status: report.status, error: report.error, cause: report.cause }).toMatchObject({
      status: 'SUCCEEDED',
    });
    const [mapRun] = report.mapRuns ?? [];
    expect(mapRun).toMatchObject({ step: 'ValidateShards', status: 'SUCCEEDED', maxConcurrency: 100 });
    const output = report.output as {
      ingest: { shard: boolean };
      shards: { count: number };
      validation: { rows: unknown; validatedKey: string };
    };
    expect(output.ingest.shard).toBe(true);
    expect(mapRun!.executions).toHaveLength(output.shards.count);
    expect(output.shards.count).toBeGreaterThan(3);
    expect(output.validation.rows).toEqual({ read: 601, valid: 600, quarantined: 1 });
  });

  it('runs CheckKeyPartitions after the shards, one child per key partition PlanKeyPartitions lists', async () => {
    // Prepare
    const store = new MemoryStore();
    // Act
    const { report } = await runUpload({
      dataset: 'orders',
      inputFile: ordersFile(),
      store,
      contracts,
      functions: coreFunctions({ store, contracts }),
      retryIntervalMs: 0,
      workers: 1,
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const output = report.output as { keyPartitions: { spilled: boolean; count: number } };
    expect(output.keyPartitions).toMatchObject({ spilled: true, count: 1 });
    const [, check] = report.mapRuns ?? [];
    expect(check).toMatchObject({ step: 'CheckKeyPartitions', status: 'SUCCEEDED' });
    expect(check!.executions.map((child) => child.output)).toEqual([{ partition: 0, duplicates: 1 }]);
  });
});
