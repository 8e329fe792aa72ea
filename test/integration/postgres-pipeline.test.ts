import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadContracts } from '../../lambdas/shared/contract.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { watermarkKey } from '../../lambdas/shared/keys.js';
import type { LocalFunction } from '../../src/local/asl-runner.js';
import { coreFunctions, type FunctionId, handlerFunctions, runInterval } from '../../src/local/pipeline.js';
import { type MotoLake, motoLake } from '../support/moto-lake.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';

// A postgres dataset through the whole pipeline: the real ASL, ingest from a real PostgreSQL,
// validation, promotion and the run record, on moto's S3 (handlers) and on the local lake (CLI).

const root = join(import.meta.dirname, '..', '..');
let db: TestDatabase;
let datasets: string;

beforeAll(async () => {
  db = await freshDatabase();
  process.env.SLUICE_TEST_PG_SHOP = db.url;
  await db.pool.query(
    `CREATE TABLE ${db.name}.orders (id bigserial PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL)`,
  );
  await db.pool.query(
    `INSERT INTO ${db.name}.orders (customer, amount) SELECT 'c' || (g % 7), g * 1.5 FROM generate_series(1, 500) g`,
  );
  datasets = mkdtempSync(join(tmpdir(), 'sluice-pg-contracts-'));
  writeFileSync(
    join(datasets, 'shop-orders.yaml'),
    [
      'name: shop-orders',
      'source:',
      '  type: postgres',
      '  connection: SLUICE_TEST_PG_SHOP',
      `  table: ${db.name}.orders`,
      '  watermark_column: id',
      'format: { type: jsonl }',
      // The curated rows are counted as lines: JSON Lines.
      'curated: { format: jsonl }',
      'schedule: rate(1 hour)',
      'schema:',
      '  type: object',
      '  required: [id, customer, amount]',
      '  properties:',
      '    id: { type: integer }',
      '    customer: { type: string }',
      '    amount: { type: number, maximum: 700 }',
      'expectations:',
      '  - type: expect_column_values_to_be_unique',
      '    kwargs: { column: id }',
    ].join('\n'),
  );
});

afterAll(async () => {
  await db?.drop();
});

const hour = (n: number) => ({
  start: new Date(Date.UTC(2026, 10, 25, n)).toISOString(),
  end: new Date(Date.UTC(2026, 10, 25, n + 1)).toISOString(),
});

describe('a postgres dataset on moto S3, through the deployed handlers', () => {
  let lake: MotoLake;
  let functions: Record<FunctionId, LocalFunction>;

  beforeAll(async () => {
    lake = await motoLake(datasets);
    functions = await handlerFunctions();
  });

  it('extracts, validates and promotes an interval, then records a later interval with nothing new', async () => {
    // Prepare
    const contracts = loadContracts(datasets);
    const run = (n: number) =>
      runInterval({
        dataset: 'shop-orders',
        interval: hour(n),
        contracts,
        store: lake.store,
        functions,
        retryIntervalMs: 0,
      });
    // Act
    const first = await run(8);
    const second = await run(9);
    const repeated = await run(8);
    // Assess
    expect(first.report.status).toBe('SUCCEEDED');
    const out = first.report.output as {
      validation: { rows: unknown };
      promotion: { curatedKey: string };
    };
    // Amounts above 700 (rows 467-500) break the schema and are quarantined.
    expect(out.validation.rows).toEqual({ read: 500, valid: 466, quarantined: 34 });
    const curated = (await lake.store.readText('curated', out.promotion.curatedKey)).trim().split('\n');
    expect(curated).toHaveLength(466);
    expect(second.report.status).toBe('SUCCEEDED');
    expect(second.report.events.map((e) => e.step)).not.toContain('ValidateBatch');
    expect(second.report.events.map((e) => e.step)).toContain('RecordRun');
    expect(repeated.report.events.map((e) => e.step)).toContain('AlreadyProcessed');
    // The watermark was moved with S3 conditional writes (If-Match) on moto.
    const watermark = JSON.parse(await lake.store.readText('reports', watermarkKey('shop-orders'))) as {
      value: string;
      history: unknown[];
    };
    expect(watermark).toMatchObject({ value: '500' });
    expect(watermark.history).toHaveLength(2);
  });

  it('has S3 refuse a watermark replace whose ETag is stale (412)', async () => {
    // Prepare
    await lake.store.putIfMatch('reports', 'probe/watermark.json', '{"v":1}', undefined);
    const read = await lake.store.readVersioned('reports', 'probe/watermark.json');
    await lake.store.putIfMatch('reports', 'probe/watermark.json', '{"v":2}', read!.etag);
    // Act
    const stale = await lake.store.putIfMatch('reports', 'probe/watermark.json', '{"v":3}', read!.etag);
    const create = await lake.store.putIfMatch('reports', 'probe/watermark.json', '{"v":4}', undefined);
    // Assess
    expect([stale, create]).toEqual([false, false]);
    expect(await lake.store.readText('reports', 'probe/watermark.json')).toBe('{"v":2}');
  });
});

describe('sluice run of a postgres dataset on the local lake', () => {
  it('runs the interval given, then the same interval again as a no-op', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const sluice = (args: string[]) =>
      spawnSync(
        process.execPath,
        [join(root, 'bin', 'sluice.mjs'), '--datasets', datasets, '--lake', lake, ...args],
        {
          cwd: root,
          // Jest gives each test file its own copy of process.env; the child gets that copy.
          env: { ...process.env },
          encoding: 'utf8',
          timeout: 100_000,
        },
      );
    const interval = ['--interval-start', hour(3).start, '--interval-end', hour(3).end];
    // Act
    const first = sluice(['run', 'shop-orders', ...interval]);
    const again = sluice(['run', 'shop-orders', ...interval]);
    // Assess
    expect(first.stderr).toMatch(
      /running 'shop-orders' for 2026-11-25T03:00:00.000Z – 2026-11-25T04:00:00.000Z from its postgres source/,
    );
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/rows read\s+500/);
    expect(first.stdout).toMatch(
      /raw\s+\S+\/raw\/shop-orders\/dt=2026-11-25\/run=[0-9a-f]{16}\/extract\.jsonl/,
    );
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/Already processed/);
  }, 120_000);

  it('prints the extraction progress the postgres source reports, and succeeds', () => {
    // Prepare: a progress line for every report, so that the first one is printed
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    // Act
    const result = spawnSync(
      process.execPath,
      [
        join(root, 'bin', 'sluice.mjs'),
        '--datasets',
        datasets,
        '--lake',
        lake,
        'run',
        'shop-orders',
        '--interval-start',
        hour(5).start,
        '--interval-end',
        hour(5).end,
        '--progress-seconds',
        '0',
      ],
      { cwd: root, env: { ...process.env }, encoding: 'utf8', timeout: 100_000 },
    );
    // Assess
    expect(result.stderr).not.toMatch(/toLocaleString|SourceUnavailable|retrying/);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/▸ Ingest\n\s+… 500 rows, 0\.\d MB\n/);
    expect(result.stdout).toMatch(/rows read\s+500/);
  }, 120_000);
});

describe('a bug while a postgres source extracts', () => {
  it('fails the run at once as InternalError, naming the TypeError, without retrying', async () => {
    // Prepare: a progress listener with a bug, as the CLI's once was
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-lake-')));
    const contracts = loadContracts(datasets);
    const onProgress = (progress: { rowsRead: number }) => {
      const missing = (progress as unknown as { rows?: number }).rows;
      (missing as unknown as number).toLocaleString('en-US');
    };
    const functions = coreFunctions({ store, contracts, onProgress });
    // Act
    const result = await runInterval({
      dataset: 'shop-orders',
      interval: hour(6),
      contracts,
      store,
      functions,
      retryIntervalMs: 0,
    });
    // Assess
    expect(result.report.status).toBe('FAILED');
    expect(result.report.error).toBe('InternalError');
    expect(result.report.cause).toMatch(
      /a bug in Sluice while ingesting dataset 'shop-orders' \(schedule\): TypeError: Cannot read properties of undefined \(reading 'toLocaleString'\) \(at .*postgres-pipeline\.test\.ts:\d+:\d+\)/,
    );
    expect(result.report.events.filter((e) => e.type === 'TaskStateRetried')).toEqual([]);
  });
});
