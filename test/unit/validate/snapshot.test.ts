import { describe, expect, it, jest } from '@jest/globals';
import { promote } from '../../../lambdas/promote/core.js';
import { type Contract, parseContract } from '../../../lambdas/shared/contract.js';
import { validateBatch } from '../../../lambdas/validate/core.js';
import { MemoryStore } from '../../support/memory-store.js';

function contracts(expectations: string[], extra: string[] = []): Map<string, Contract> {
  const contract = parseContract(
    [
      'name: orders',
      'source: { type: s3-upload, prefix: landing/orders/ }',
      'format: { type: csv }',
      'schema:',
      '  type: object',
      '  properties:',
      '    id: { type: string }',
      '    region: { type: string }',
      'expectations:',
      ...expectations,
      ...extra,
    ].join('\n'),
    '<inline>',
  );
  return new Map([['orders', contract]]);
}

const UNIQUE_ID_SNAPSHOT = [
  '  - type: expect_column_values_to_be_unique',
  '    kwargs: { column: id }',
  '    scope: snapshot',
];

/** A batch promoted earlier: its manifest in raw and its records in curated. */
async function curated(store: MemoryStore, runId: string, landingKey: string, records: object[]) {
  const prefix = `orders/dt=2026-11-24/run=${runId}/`;
  await store.put(
    'raw',
    `${prefix}_manifest.json`,
    JSON.stringify({ source: { type: 's3-upload', key: landingKey } }),
  );
  await store.put(
    'curated',
    `${prefix}part-00000.jsonl`,
    records.map((r) => `${JSON.stringify(r)}\n`).join(''),
  );
}

/** This run's upload in raw, with its manifest; returns the validate input. */
async function upload(
  store: MemoryStore,
  csv: string,
  landingKey = 'landing/orders/orders.csv',
  runId = 'new',
) {
  const prefix = `orders/dt=2026-11-25/run=${runId}/`;
  await store.put(
    'raw',
    `${prefix}_manifest.json`,
    JSON.stringify({ source: { type: 's3-upload', key: landingKey } }),
  );
  await store.put('raw', `${prefix}orders.csv`, csv);
  return { dataset: 'orders', runId, dt: '2026-11-25', rawKey: `${prefix}orders.csv` };
}

async function report(store: MemoryStore, runId = 'new') {
  return JSON.parse(await store.readText('reports', `orders/dt=2026-11-25/run=${runId}/validation.json`)) as {
    success: boolean;
    results: Array<{ success: boolean; expectation_config: { type: string; meta: { scope?: string } } }>;
    meta: { snapshot?: { batches: number; replaced: string[]; rows: number } };
  };
}

describe('snapshot checks in ValidateBatch', () => {
  it('refuses a batch whose ids are already in the curated snapshot, naming them and their rows', async () => {
    // Prepare
    const store = new MemoryStore();
    await curated(store, 'old', 'landing/orders/orders.csv', [{ id: 'A' }, { id: 'B' }, { id: 'C' }]);
    const input = await upload(store, 'id\nB\nD\nC\n');
    // Act
    const output = await validateBatch(input, { store, contracts: contracts(UNIQUE_ID_SNAPSHOT) });
    // Assess
    expect(output.promote).toBe(false);
    expect(output.summary).toContain(
      "Not promoted: Snapshot check failed: expect_column_values_to_be_unique on column 'id'",
    );
    expect(output.summary).toContain(
      'row 1 of this batch (run new): id "B" must be unique; the same value is on row 2 of curated run old (dt=2026-11-24)',
    );
    expect(output.summary).toContain('row 3 of this batch (run new): id "C"');
    expect(output.rows.quarantined).toBe(0);
    const result = await report(store);
    expect(result.success).toBe(false);
    expect(result.results.at(-1)).toMatchObject({
      success: false,
      expectation_config: { type: 'expect_column_values_to_be_unique', meta: { scope: 'snapshot' } },
    });
    expect(result.meta.snapshot).toEqual({ batches: 1, replaced: [], rows: 6 });
  });

  it('leaves out the batch it replaces with same_source: replace', async () => {
    // Prepare
    const store = new MemoryStore();
    await curated(store, 'old', 'landing/orders/orders.csv', [{ id: 'A' }, { id: 'B' }]);
    await curated(store, 'other', 'landing/orders/returns.csv', [{ id: 'R' }]);
    const input = await upload(store, 'id\nA\nB\n');
    // Act
    const output = await validateBatch(input, {
      store,
      contracts: contracts(UNIQUE_ID_SNAPSHOT, ['batches: { same_source: replace }']),
    });
    // Assess
    expect(output.promote).toBe(true);
    expect((await report(store)).meta.snapshot).toEqual({
      batches: 1,
      replaced: ['orders/dt=2026-11-24/run=old/part-00000.jsonl'],
      rows: 3,
    });
  });

  it('does not count an earlier promotion of the same run against it', async () => {
    // Prepare
    const store = new MemoryStore();
    const input = await upload(store, 'id\nA\nB\n');
    await store.put('curated', 'orders/dt=2026-11-25/run=new/part-00000.jsonl', '{"id":"A"}\n{"id":"B"}\n');
    // Act
    const output = await validateBatch(input, { store, contracts: contracts(UNIQUE_ID_SNAPSHOT) });
    // Assess
    expect(output.promote).toBe(true);
  });

  it('evaluates a snapshot expectation over the snapshot only: a duplicate within the batch fails the run, no row is quarantined', async () => {
    // Prepare
    const store = new MemoryStore();
    const input = await upload(store, 'id\nA\nA\n');
    // Act
    const output = await validateBatch(input, { store, contracts: contracts(UNIQUE_ID_SNAPSHOT) });
    // Assess
    expect(output.rows).toEqual({ read: 2, valid: 2, quarantined: 0 });
    expect(output.promote).toBe(false);
    expect(output.summary).toContain(
      'row 2 of this batch (run new): id "A" must be unique; the same value is on row 1 of this batch',
    );
  });

  it('counts the rows of the whole snapshot for a row count with scope snapshot', async () => {
    // Prepare
    const store = new MemoryStore();
    await curated(store, 'old', 'landing/orders/a.csv', [{ id: 'A' }, { id: 'B' }]);
    const input = await upload(store, 'id\nC\nD\n', 'landing/orders/b.csv');
    const rowCount = [
      '  - type: expect_table_row_count_to_be_between',
      '    kwargs: { max_value: 3 }',
      '    scope: snapshot',
    ];
    // Act
    const output = await validateBatch(input, { store, contracts: contracts(rowCount) });
    // Assess
    expect(output.promote).toBe(false);
    expect(output.summary).toContain(
      'Snapshot check failed: expect_table_row_count_to_be_between: 4 rows read',
    );
  });

  it('finds duplicated key pairs across batches with compound uniqueness', async () => {
    // Prepare
    const store = new MemoryStore();
    await curated(store, 'old', 'landing/orders/a.csv', [{ id: 'A', region: 'eu' }]);
    const input = await upload(store, 'id,region\nA,us\nA,eu\n', 'landing/orders/b.csv');
    const compound = [
      '  - type: expect_compound_columns_to_be_unique',
      '    kwargs: { column_list: [id, region] }',
      '    scope: snapshot',
    ];
    // Act
    const output = await validateBatch(input, { store, contracts: contracts(compound) });
    // Assess
    expect(output.promote).toBe(false);
    expect(output.summary).toContain('row 2 of this batch (run new)');
    expect(output.summary).not.toContain('row 1 of this batch');
  });

  it('reports a failed snapshot expectation of severity warning and promotes', async () => {
    // Prepare
    const store = new MemoryStore();
    await curated(store, 'old', 'landing/orders/a.csv', [{ id: 'A' }]);
    const input = await upload(store, 'id\nA\n', 'landing/orders/b.csv');
    // Act
    const output = await validateBatch(input, {
      store,
      contracts: contracts([...UNIQUE_ID_SNAPSHOT, '    severity: warning']),
    });
    // Assess
    expect(output.promote).toBe(true);
    expect(output.summary).toContain('(1 warning)');
  });

  it('reads nothing of curated when no expectation has scope snapshot', async () => {
    // Prepare
    const store = new MemoryStore();
    await curated(store, 'old', 'landing/orders/orders.csv', [{ id: 'A' }]);
    const input = await upload(store, 'id\nA\n');
    const list = jest.spyOn(store, 'list');
    const read = jest.spyOn(store, 'read');
    // Act
    const output = await validateBatch(input, {
      store,
      contracts: contracts(['  - type: expect_column_values_to_be_unique', '    kwargs: { column: id }']),
    });
    // Assess
    expect(output.promote).toBe(true);
    expect((await report(store)).meta.snapshot).toBeUndefined();
    expect([...list.mock.calls, ...read.mock.calls].filter(([zone]) => zone === 'curated')).toEqual([]);
  });

  it('reads a batch promoted as Parquet back as its records, naming a duplicate by its row there', async () => {
    // Prepare
    const store = new MemoryStore();
    const prefix = 'orders/dt=2026-11-24/run=old/';
    await store.put(
      'raw',
      `${prefix}_manifest.json`,
      JSON.stringify({ source: { type: 's3-upload', key: 'a.csv' } }),
    );
    await store.put('validated', `${prefix}part-00000.jsonl`, '{"id":"A","region":"eu"}\n{"id":"B"}\n');
    const parquet = contracts(UNIQUE_ID_SNAPSHOT);
    await promote(
      { dataset: 'orders', runId: 'old', dt: '2026-11-24', validatedKey: `${prefix}part-00000.jsonl` },
      {
        store,
        contracts: parquet,
      },
    );
    const input = await upload(store, 'id\nC\nB\n', 'landing/orders/b.csv');
    // Act
    const output = await validateBatch(input, { store, contracts: parquet });
    // Assess
    expect(await store.list('curated', prefix)).toEqual([`${prefix}part-00000.parquet`]);
    expect(output.promote).toBe(false);
    expect(output.summary).toContain(
      'row 2 of this batch (run new): id "B" must be unique; the same value is on row 2 of curated run old (dt=2026-11-24)',
    );
    expect((await report(store)).meta.snapshot).toEqual({ batches: 1, replaced: [], rows: 4 });
  });
});
