import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadContracts } from '../../lambdas/shared/contract.js';
import type { LocalFunction } from '../../src/local/asl-runner.js';
import { type FunctionId, handlerFunctions, runUpload } from '../../src/local/pipeline.js';
import { type MotoLake, motoLake } from '../support/moto-lake.js';
import { readWithPyarrow } from '../support/pyarrow.js';

// Batches from the same source through the deployed handlers, against moto's S3 API: the curated
// batch a corrected upload replaces is deleted from the bucket, and snapshot checks stream S3 objects.

const datasetsDir = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
writeFileSync(
  join(datasetsDir, 'orders.yaml'),
  [
    'name: orders',
    'source: { type: s3-upload, prefix: landing/orders/ }',
    'format: { type: csv }',
    'schema: { type: object, properties: { order_id: { type: string }, amount: { type: number } } }',
    'expectations:',
    '  - type: expect_column_values_to_be_unique',
    '    kwargs: { column: order_id }',
    '    scope: snapshot',
    'batches: { same_source: replace }',
    '',
  ].join('\n'),
);
const contracts = loadContracts(datasetsDir);
const files = mkdtempSync(join(tmpdir(), 'sluice-files-'));
const csv = (name: string, text: string) => {
  const path = join(files, name);
  writeFileSync(path, text);
  return path;
};

let lake: MotoLake;
let functions: Record<FunctionId, LocalFunction>;

beforeAll(async () => {
  lake = await motoLake(datasetsDir);
  functions = await handlerFunctions();
});

const run = (inputFile: string, landingKey: string) =>
  runUpload({
    dataset: 'orders',
    inputFile,
    landingKey,
    store: lake.store,
    contracts,
    functions,
    retryIntervalMs: 0,
  });

describe('batches from the same source on moto S3, through the deployed handlers', () => {
  it('deletes the replaced curated batch, keeps both in raw, and refuses a duplicate id from another upload', async () => {
    // Prepare
    const first = await run(csv('v1.csv', 'order_id,amount\nA,1\nB,2\n'), 'landing/orders/orders.csv');
    expect(first.report.status).toBe('SUCCEEDED');
    // Act
    const corrected = await run(
      csv('v2.csv', 'order_id,amount\nA,1.5\nB,2.5\n'),
      'landing/orders/orders.csv',
    );
    const other = await run(csv('v3.csv', 'order_id,amount\nC,3\nA,9\n'), 'landing/orders/more.csv');
    // Assess
    expect(corrected.report.status).toBe('SUCCEEDED');
    const curated = await lake.store.list('curated', 'orders/');
    expect(curated).toHaveLength(1);
    const parquet = join(files, 'curated.parquet');
    writeFileSync(parquet, Buffer.concat(await (await lake.store.read('curated', curated[0]!)).toArray()));
    expect(readWithPyarrow(parquet)[0]!.rows).toEqual([
      { order_id: 'A', amount: 1.5 },
      { order_id: 'B', amount: 2.5 },
    ]);
    expect((await lake.store.list('raw', 'orders/')).filter((k) => k.endsWith('/orders.csv'))).toHaveLength(
      2,
    );
    expect(other.report.status).toBe('FAILED');
    expect(other.report.error).toBe('ValidationFailed');
    expect(other.report.cause).toContain('order_id "A" must be unique');
    expect(await lake.store.list('curated', 'orders/')).toEqual(curated);
  });
});
