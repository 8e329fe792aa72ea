import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { promote } from '../../lambdas/promote/core.js';
import { type Contract, parseContract } from '../../lambdas/shared/contract.js';
import { UnrepresentableValue } from '../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { parquetFields } from '../../lambdas/shared/parquet-schema.js';
import { linesOf, parquetChunks } from '../../lambdas/shared/parquet-write.js';
import { readWithPyarrow } from '../support/pyarrow.js';

// Promotion writes the curated zone as typed Parquet; pyarrow, as a data scientist would, reads it back.

const root = join(import.meta.dirname, '..', '..');

const PROPERTIES = [
  '    id: { type: integer }',
  '    amount: { type: number }',
  '    paid: { type: boolean }',
  '    status: { type: string }',
  '    day: { type: string, format: date }',
  '    at: { type: string, format: date-time }',
  '    email: { type: [string, "null"] }',
  '    address: { type: object, required: [city], properties: { city: { type: string }, zip: { type: integer } } }',
  '    tags: { type: array, items: { type: string } }',
  '    lines: { type: array, items: { type: object, properties: { sku: { type: string }, qty: { type: integer } } } }',
  '    ref: { anyOf: [{ type: string }, { type: integer }] }',
  '    extra: { type: object }',
  '    level: { enum: [1, 2, 3] }',
  '    ratio: { type: [integer, number] }',
];

function contractOf(lines: string[], name = 'orders'): Map<string, Contract> {
  const contract = parseContract(
    [
      `name: ${name}`,
      'source: { type: s3-upload, prefix: landing/orders/ }',
      'format: { type: jsonl }',
      ...lines,
    ].join('\n'),
    '<inline>',
  );
  return new Map([[name, contract]]);
}

const EVERY_TYPE = contractOf([
  'schema:',
  '  type: object',
  '  required: [id, status, address]',
  '  properties:',
  ...PROPERTIES,
]);

function lake() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-curated-'));
  return { dir, store: new FsObjectStore(dir) };
}

const RUN = { dataset: 'orders', runId: 'r1', dt: '2026-11-25' };
const PREFIX = 'orders/dt=2026-11-25/run=r1/';

async function validated(store: FsObjectStore, records: object[], key = `${PREFIX}part-00000.jsonl`) {
  await store.put('validated', key, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return key;
}

describe('promotion to typed Parquet', () => {
  it('gives each JSON Schema type its Parquet type, which pyarrow reads back as the same values', async () => {
    // Prepare
    const { dir, store } = lake();
    const record = {
      id: 9007199254740991,
      amount: 12.5,
      paid: true,
      status: 'paid',
      day: '2026-11-05',
      at: '2026-11-05T10:00:00.123456+02:00',
      email: 'a@example.com',
      address: { city: 'Lyon', zip: 69001 },
      tags: ['new', 'gift'],
      lines: [{ sku: 'S1', qty: 2 }],
      ref: 'R-1',
      extra: { any: [1, 'two', null] },
      level: 2,
      ratio: 0.25,
    };
    const validatedKey = await validated(store, [record]);
    // Act
    const output = await promote({ ...RUN, validatedKey }, { store, contracts: EVERY_TYPE });
    // Assess
    expect(output.curatedKey).toBe(`${PREFIX}part-00000.parquet`);
    const [file] = readWithPyarrow(join(dir, 'curated', output.curatedKey));
    expect(file!.columns).toEqual([
      { name: 'id', type: 'int64', nullable: false },
      { name: 'amount', type: 'double', nullable: true },
      { name: 'paid', type: 'bool', nullable: true },
      { name: 'status', type: 'string', nullable: false },
      { name: 'day', type: 'date32[day]', nullable: true },
      { name: 'at', type: 'timestamp[us, tz=UTC]', nullable: true },
      { name: 'email', type: 'string', nullable: true },
      { name: 'address', type: 'struct<city: string not null, zip: int64>', nullable: false },
      { name: 'tags', type: 'list<element: string not null>', nullable: true },
      { name: 'lines', type: 'list<element: struct<sku: string, qty: int64> not null>', nullable: true },
      { name: 'ref', type: 'extension<arrow.json>', nullable: true },
      { name: 'extra', type: 'extension<arrow.json>', nullable: true },
      { name: 'level', type: 'int64', nullable: true },
      { name: 'ratio', type: 'double', nullable: true },
    ]);
    expect(file!.rows).toEqual([
      {
        ...record,
        at: '2026-11-05T08:00:00.123456+00:00',
        ref: '"R-1"',
        extra: '{"any":[1,"two",null]}',
      },
    ]);
    expect(output.size).toBe(readFileSync(join(dir, 'curated', output.curatedKey)).length);
  });

  it('writes null for a value that is null or absent, in the columns that allow it', async () => {
    // Prepare
    const { dir, store } = lake();
    const validatedKey = await validated(store, [
      { id: 1, status: 'paid', address: { city: 'Oslo' }, email: null, tags: [] },
    ]);
    // Act
    const output = await promote({ ...RUN, validatedKey }, { store, contracts: EVERY_TYPE });
    // Assess
    const [file] = readWithPyarrow(join(dir, 'curated', output.curatedKey));
    expect(file!.rows).toEqual([
      {
        id: 1,
        amount: null,
        paid: null,
        status: 'paid',
        day: null,
        at: null,
        email: null,
        address: { city: 'Oslo', zip: null },
        tags: [],
        lines: null,
        ref: null,
        extra: null,
        level: null,
        ratio: null,
      },
    ]);
  });

  it('writes an empty batch as a Parquet file with its columns and no rows', async () => {
    // Prepare
    const { dir, store } = lake();
    const validatedKey = await validated(store, []);
    // Act
    const output = await promote({ ...RUN, validatedKey }, { store, contracts: EVERY_TYPE });
    // Assess
    const [file] = readWithPyarrow(join(dir, 'curated', output.curatedKey));
    expect(file!.columns.map((c) => c.name)).toEqual(PROPERTIES.map((p) => p.trim().split(':')[0]));
    expect(file!.rows).toEqual([]);
    expect(file!.rowGroups).toBe(0);
  });

  it('writes one Parquet file per validated part of a batch validated in shards', async () => {
    // Prepare
    const { dir, store } = lake();
    await validated(store, [{ id: 1, status: 'a', address: { city: 'X' } }], `${PREFIX}part-00000.jsonl`);
    await validated(store, [{ id: 2, status: 'b', address: { city: 'Y' } }], `${PREFIX}part-00001.jsonl`);
    // Act
    const output = await promote({ ...RUN, validatedKey: PREFIX }, { store, contracts: EVERY_TYPE });
    // Assess
    expect(await store.list('curated', PREFIX)).toEqual([
      `${PREFIX}part-00000.parquet`,
      `${PREFIX}part-00001.parquet`,
    ]);
    const files = readWithPyarrow(
      join(dir, 'curated', PREFIX, 'part-00000.parquet'),
      join(dir, 'curated', PREFIX, 'part-00001.parquet'),
    );
    expect(files.map((f) => f.rows.map((r) => r.id))).toEqual([[1], [2]]);
    const sizes = ['part-00000.parquet', 'part-00001.parquet'].map(
      (name) => readFileSync(join(dir, 'curated', PREFIX, name)).length,
    );
    expect(output.size).toBe(sizes[0]! + sizes[1]!);
  });

  it('keeps the validated JSON Lines byte for byte with curated: { format: jsonl }', async () => {
    // Prepare
    const { store } = lake();
    const contracts = contractOf([
      'schema: { type: object, properties: { id: { type: integer } } }',
      'curated: { format: jsonl }',
    ]);
    const validatedKey = await validated(store, [{ id: 1, note: 'kept' }]);
    // Act
    const output = await promote({ ...RUN, validatedKey }, { store, contracts });
    // Assess
    expect(output.curatedKey).toBe(`${PREFIX}part-00000.jsonl`);
    expect(await store.readText('curated', output.curatedKey)).toBe('{"id":1,"note":"kept"}\n');
  });

  it('names the properties the schema does not declare, which the Parquet file leaves out', async () => {
    // Prepare
    const { dir, store } = lake();
    const contracts = contractOf(['schema: { type: object, properties: { id: { type: integer } } }']);
    const validatedKey = await validated(store, [
      { id: 1, note: 'n' },
      { id: 2, extra: 1, note: 'm' },
    ]);
    // Act
    const output = await promote({ ...RUN, validatedKey }, { store, contracts });
    // Assess
    expect(output.undeclaredColumns).toEqual(['note', 'extra']);
    const [file] = readWithPyarrow(join(dir, 'curated', output.curatedKey));
    expect(file!.rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('refuses an integer the schema admits but INT64 cannot hold, naming the record and column', async () => {
    // Prepare
    const { store } = lake();
    const contracts = contractOf(['schema: { type: object, properties: { id: { type: integer } } }']);
    const validatedKey = await validated(store, [{ id: 1 }, { id: 1e19 }]);
    // Act
    const promoting = promote({ ...RUN, validatedKey }, { store, contracts });
    // Assess
    await expect(promoting).rejects.toThrow(UnrepresentableValue);
    await expect(promoting).rejects.toThrow(
      /part-00000\.jsonl line 2, column 'id': 10000000000000000000 .*INT64/,
    );
    expect(await store.list('curated', PREFIX)).toEqual([]);
  });

  it('writes a batch larger than a row group as several row groups, read back whole and in order', async () => {
    // Prepare
    const { dir } = lake();
    const fields = parquetFields(EVERY_TYPE.get('orders')!.schema);
    const records = Array.from({ length: 7 }, (_, i) => ({ id: i, status: `s${i}`, address: { city: 'C' } }));
    const lines = linesOf(Readable.from([records.map((r) => JSON.stringify(r)).join('\n')]));
    // Act
    const chunks = await collect(parquetChunks(lines, fields, { source: 'test', rowGroupRows: 3 }));
    // Assess
    const file = join(dir, 'several.parquet');
    writeFileSync(file, Buffer.concat(chunks));
    const [read] = readWithPyarrow(file);
    expect(read!.rowGroups).toBe(3);
    expect(read!.rows.map((r) => [r.id, r.status])).toEqual(records.map((r) => [r.id, r.status]));
  });
});

describe('sluice run on the example orders', () => {
  it('leaves the accepted rows in curated as typed Parquet, and prints where', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    // Act
    const result = spawnSync(
      process.execPath,
      [
        join(root, 'bin', 'sluice.mjs'),
        '--lake',
        lake,
        'run',
        'orders',
        '--input',
        'examples/orders.csv',
        '--json',
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    // Assess
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      output: { promotion: { curatedKey: string }; validation: { rows: { valid: number } } };
    };
    const { curatedKey } = report.output.promotion;
    expect(curatedKey).toMatch(/^orders\/dt=[\d-]+\/run=[0-9a-f]{16}\/part-00000\.parquet$/);
    const [file] = readWithPyarrow(join(lake, 'lake', 'curated', curatedKey));
    expect(file!.columns.find((c) => c.name === 'order_date')).toEqual({
      name: 'order_date',
      type: 'date32[day]',
      nullable: false,
    });
    expect(file!.rows).toHaveLength(report.output.validation.rows.valid);
    expect(file!.rows[0]).toMatchObject({ order_id: 'ORD-100001', order_date: '2026-11-05', amount: 587.59 });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
