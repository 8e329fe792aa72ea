import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { runIdOf } from '../../lambdas/ingest/s3-upload.js';
import { loadContracts } from '../../lambdas/shared/contract.js';
import { rawKey, runRecordKey } from '../../lambdas/shared/keys.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import type { LocalFunction } from '../../src/local/asl-runner.js';
import { type FunctionId, handlerFunctions, runUpload } from '../../src/local/pipeline.js';
import { type MotoLake, motoLake } from '../support/moto-lake.js';
import { readWithPyarrow } from '../support/pyarrow.js';

// The real state machine definition, run locally, each Task mapped to the deployed Lambda
// handler (middy, Powertools, S3 client), against moto's S3 API on loopback.

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const datasetsDir = join(fixtures, 'datasets');
const file = (name: string) => join(fixtures, 'files', name);
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

// One lake for the file: the handlers bind their buckets when first imported, as a deployed Lambda
// does at cold start. Each test lands under its own landing key, so no test sees another's run.
let lake: MotoLake;
let functions: Record<FunctionId, LocalFunction>;
const contracts = loadContracts(datasetsDir);

beforeAll(async () => {
  lake = await motoLake(datasetsDir);
  functions = await handlerFunctions();
});

async function run(dataset: string, inputFile: string, landingKey?: string, clock?: () => Date) {
  return runUpload({
    dataset,
    inputFile,
    landingKey,
    clock,
    store: lake.store,
    contracts,
    functions,
    retryIntervalMs: 0,
  });
}

async function text(zone: keyof MotoLake['buckets'], key: string): Promise<string> {
  const out = await lake.s3.send(new GetObjectCommand({ Bucket: lake.buckets[zone], Key: key }));
  return out.Body!.transformToString('utf-8');
}

async function record(dataset: string, runId: string): Promise<RunRecord> {
  return JSON.parse(await text('reports', runRecordKey(dataset, runId))) as RunRecord;
}

describe('the pipeline on moto S3, through the deployed handlers', () => {
  it('lands a clean file byte for byte, validates every row and promotes it', async () => {
    // Act
    const { report } = await run('orders', file('clean.csv'), 'landing/orders/clean.csv');
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const out = report.output as {
      ingest: { rawKey: string; runId: string };
      promotion: { curatedKey: string };
    };
    expect(sha256(await text('raw', out.ingest.rawKey))).toBe(sha256(readFileSync(file('clean.csv'))));
    const object = await lake.s3.send(
      new GetObjectCommand({ Bucket: lake.buckets.curated, Key: out.promotion.curatedKey }),
    );
    const parquet = join(mkdtempSync(join(tmpdir(), 'sluice-moto-curated-')), 'part-00000.parquet');
    writeFileSync(parquet, await object.Body!.transformToByteArray());
    const [curated] = readWithPyarrow(parquet);
    expect(curated!.rows).toEqual([
      { order_id: 'A1', amount: 10.5, status: 'paid' },
      { order_id: 'A2', amount: 20, status: 'shipped' },
      { order_id: 'A3', amount: 0, status: 'paid' },
    ]);
    expect((await record('orders', out.ingest.runId)).status).toBe('SUCCEEDED');
  });

  it('quarantines the rows that break the contract with row, column and reason, and promotes the rest', async () => {
    // Act
    const { report } = await run('orders', file('bad-rows.csv'));
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const out = report.output as {
      validation: { rows: unknown; quarantineKey: string; validatedKey: string; reportKey: string };
    };
    expect(out.validation.rows).toEqual({ read: 6, valid: 2, quarantined: 4 });
    const quarantined = (await text('quarantine', out.validation.quarantineKey))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; failures: Array<{ column: string }> });
    expect(quarantined.map((q) => [q.row, q.failures.map((f) => f.column)])).toEqual([
      [3, ['amount']],
      [4, ['status']],
      [5, ['order_id']],
      [6, ['amount']],
    ]);
    const validated = (await text('validated', out.validation.validatedKey)).trim().split('\n');
    expect(validated.map((l) => (JSON.parse(l) as { order_id: string }).order_id)).toEqual(['B1', 'B6']);
    const result = JSON.parse(await text('reports', out.validation.reportKey)) as { success: boolean };
    expect(result.success).toBe(false);
  });

  it('fails a file that breaks the schema entirely with ValidationFailed, records the run and keeps raw', async () => {
    // Act
    const { report } = await run('orders', file('wrong-columns.csv'));
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('ValidationFailed');
    expect(report.cause).toMatch(/order_id/);
    const runId = runIdOf(
      'orders',
      'landing/orders/wrong-columns.csv',
      sha256(readFileSync(file('wrong-columns.csv'))),
    );
    const saved = await record('orders', runId);
    expect(saved).toMatchObject({ status: 'FAILED', error: { name: 'ValidationFailed' } });
    expect(await text('raw', saved.raw!.key)).toBe(readFileSync(file('wrong-columns.csv'), 'utf8'));
  });

  it('rejects the whole batch when the contract says on_failure: reject', async () => {
    // Act
    const { report } = await run('payments', file('bad-rows.csv'), 'landing/payments/bad-rows.csv');
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('ValidationFailed');
    const runId = runIdOf(
      'payments',
      'landing/payments/bad-rows.csv',
      sha256(readFileSync(file('bad-rows.csv'))),
    );
    expect(
      await lake.store.list('curated', `payments/dt=${(await record('payments', runId)).dt}/run=${runId}/`),
    ).toEqual([]);
  });

  it('does nothing more for a duplicate upload of bytes already processed', async () => {
    // Prepare
    const first = await run('orders', file('clean.csv'), 'landing/orders/again.csv');
    const rawBefore = await lake.store.list('raw', 'orders/');
    // Act
    const second = await run('orders', file('clean.csv'), 'landing/orders/again.csv');
    // Assess
    expect(first.report.status).toBe('SUCCEEDED');
    expect(second.report.status).toBe('SUCCEEDED');
    expect(second.report.events.map((e) => e.step)).toContain('AlreadyProcessed');
    expect(second.report.events.map((e) => e.step)).not.toContain('ValidateBatch');
    expect(await lake.store.list('raw', 'orders/')).toEqual(rawBefore);
  });

  it('refuses different bytes under an existing raw key and leaves the existing bytes intact', async () => {
    // Prepare: a raw object already sits at the key this upload maps to
    const bytes = readFileSync(file('clean.csv'));
    const landingKey = 'landing/orders/collide.csv';
    const runId = runIdOf('orders', landingKey, sha256(bytes));
    const uploadedAt = new Date('2026-11-25T23:59:59.900Z');
    const key = rawKey({ dataset: 'orders', dt: '2026-11-25', runId }, 'collide.csv');
    await lake.s3.send(
      new PutObjectCommand({ Bucket: lake.buckets.raw, Key: key, Body: 'earlier bytes', IfNoneMatch: '*' }),
    );
    // Act
    const { report } = await run('orders', file('clean.csv'), landingKey, () => uploadedAt);
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('RawObjectConflict');
    expect(report.cause).toContain(key);
    expect(await text('raw', key)).toBe('earlier bytes');
    // Ingest failed before it returned a run, so the run is recorded under its trigger's id.
    const records = await Promise.all(
      (await lake.store.list('reports', 'orders/runs/trigger-'))
        .filter((k) => k.endsWith('.json') && !k.includes('/attempts/'))
        .map(async (k) => JSON.parse(await text('reports', k)) as RunRecord),
    );
    expect(records.find((r) => r.error?.name === 'RawObjectConflict')).toMatchObject({ status: 'FAILED' });
  });

  it('has S3 itself refuse a conditional overwrite of a raw object (412)', async () => {
    // Prepare
    await lake.s3.send(
      new PutObjectCommand({ Bucket: lake.buckets.raw, Key: 'probe/x', Body: 'one', IfNoneMatch: '*' }),
    );
    // Act
    const created = await lake.store.putIfAbsent('raw', 'probe/x', 'two');
    // Assess
    expect(created).toBe(false);
    expect(await text('raw', 'probe/x')).toBe('one');
  });

  it('fails a file that is not UTF-8 with MalformedInput naming where, and keeps its raw bytes', async () => {
    // Act
    const { report } = await run('orders', file('not-utf8.csv'));
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('MalformedInput');
    expect(report.cause).toMatch(/line 3/);
    const runId = runIdOf(
      'orders',
      'landing/orders/not-utf8.csv',
      sha256(readFileSync(file('not-utf8.csv'))),
    );
    const saved = await record('orders', runId);
    expect(
      sha256(
        Buffer.from(
          await (await lake.store.read('raw', saved.raw!.key))
            .toArray()
            .then((c) => Buffer.concat(c as Buffer[])),
        ),
      ),
    ).toBe(sha256(readFileSync(file('not-utf8.csv'))));
  });
});
