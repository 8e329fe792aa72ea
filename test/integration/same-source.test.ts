import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// A corrected file uploaded again under the same landing key, through `sluice run` as a user runs it.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

/** A contract for orders.csv; `extra` lines are appended (a batches option) or put among the expectations. */
function contractsWith(options: { batches?: string; expectations?: string[] }): string {
  const datasets = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
  writeFileSync(
    join(datasets, 'orders.yaml'),
    [
      'name: orders',
      'source: { type: s3-upload, prefix: landing/orders/ }',
      'format: { type: csv }',
      'schema:',
      '  type: object',
      '  required: [order_id, amount]',
      '  properties:',
      '    order_id: { type: string }',
      '    amount: { type: number, minimum: 0 }',
      'expectations:',
      '  - type: expect_column_values_to_be_unique',
      '    kwargs: { column: order_id }',
      ...(options.expectations ?? []),
      ...(options.batches ? [options.batches] : []),
      // Which batch's rows curated holds is read from its bytes: as JSON Lines.
      'curated: { format: jsonl }',
      '',
    ].join('\n'),
  );
  return datasets;
}

/** Two versions of orders.csv in two folders: the first, and a corrected one with other amounts. */
function uploads(lake: string): { first: string; corrected: string } {
  const rows = (amount: (i: number) => string) =>
    ['order_id,amount', ...[1, 2, 3, 4].map((i) => `ORD-${i},${amount(i)}`), ''].join('\n');
  mkdirSync(join(lake, 'v1'));
  mkdirSync(join(lake, 'v2'));
  const first = join(lake, 'v1', 'orders.csv');
  const corrected = join(lake, 'v2', 'orders.csv');
  writeFileSync(
    first,
    rows((i) => `${i}0.00`),
  );
  writeFileSync(
    corrected,
    rows((i) => `${i}5.50`),
  );
  return { first, corrected };
}

function filesUnder(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name === name)
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function curatedRows(lake: string): Array<{ order_id: string; amount: number }> {
  return filesUnder(join(lake, 'lake', 'curated', 'orders'), 'part-00000.jsonl').flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { order_id: string; amount: number }),
  );
}

describe('a corrected file uploaded under the same landing key', () => {
  it('replaces the earlier batch in curated and keeps both in raw with same_source: replace', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const datasets = contractsWith({ batches: 'batches: { same_source: replace }' });
    const { first, corrected } = uploads(lake);
    const run = (input: string) =>
      sluice(['--lake', lake, '--datasets', datasets, 'run', 'orders', '-i', input]);
    expect(run(first).status).toBe(0);
    // Act
    const second = run(corrected);
    // Assess
    expect(second.stderr).not.toMatch(/Error:/);
    expect(second.status).toBe(0);
    expect(curatedRows(lake)).toEqual([
      { order_id: 'ORD-1', amount: 15.5 },
      { order_id: 'ORD-2', amount: 25.5 },
      { order_id: 'ORD-3', amount: 35.5 },
      { order_id: 'ORD-4', amount: 45.5 },
    ]);
    const raw = filesUnder(join(lake, 'lake', 'raw', 'orders'), 'orders.csv').map((f) =>
      readFileSync(f, 'utf8'),
    );
    expect(raw.sort()).toEqual([readFileSync(first, 'utf8'), readFileSync(corrected, 'utf8')].sort());
  });

  it('fails the second run with ValidationFailed naming the duplicated ids when uniqueness has scope: snapshot', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const datasets = contractsWith({
      expectations: [
        '  - type: expect_column_values_to_be_unique',
        '    kwargs: { column: order_id }',
        '    scope: snapshot',
      ],
    });
    const { first, corrected } = uploads(lake);
    const run = (input: string) =>
      sluice(['--lake', lake, '--datasets', datasets, 'run', 'orders', '-i', input]);
    expect(run(first).status).toBe(0);
    const before = curatedRows(lake);
    // Act
    const second = run(corrected);
    // Assess
    expect(second.status).toBe(1);
    expect(second.stdout).toMatch(/Run failed: ValidationFailed/);
    expect(second.stdout).toContain('Snapshot check failed: expect_column_values_to_be_unique');
    for (const id of ['ORD-1', 'ORD-2', 'ORD-3', 'ORD-4']) expect(second.stdout).toContain(`"${id}"`);
    expect(second.stdout).not.toMatch(/PromoteToCurated\s+Task/);
    expect(curatedRows(lake)).toEqual(before);
  });

  it('adds both batches to curated by default (same_source: append)', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const datasets = contractsWith({});
    const { first, corrected } = uploads(lake);
    const run = (input: string) =>
      sluice(['--lake', lake, '--datasets', datasets, 'run', 'orders', '-i', input]);
    expect(run(first).status).toBe(0);
    // Act
    const second = run(corrected);
    // Assess
    expect(second.status).toBe(0);
    expect(curatedRows(lake)).toHaveLength(8);
  });

  it('replaces a partner batch sent again in the same folder with same_source: replace', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const datasets = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
    writeFileSync(
      join(datasets, 'acme.yaml'),
      [
        'name: acme',
        'source: { type: partner-drop, prefix: landing/partners/acme/, complete_when: { marker: _SUCCESS } }',
        'format: { type: csv }',
        'schema: { type: object, properties: { shipment_id: { type: string }, weight_kg: { type: number } } }',
        'expectations:',
        '  - type: expect_column_values_to_be_unique',
        '    kwargs: { column: shipment_id }',
        '    scope: snapshot',
        'batches: { same_source: replace }',
        'curated: { format: jsonl }',
        '',
      ].join('\n'),
    );
    const batch = (version: string, csv: string) => {
      const dir = join(lake, version, '2026-11-25');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'part-1.csv'), csv);
      writeFileSync(join(dir, '_SUCCESS'), '');
      return dir;
    };
    const run = (input: string) =>
      sluice(['--lake', lake, '--datasets', datasets, 'run', 'acme', '-i', input]);
    expect(run(batch('v1', 'shipment_id,weight_kg\nS1,1\nS2,2\n')).status).toBe(0);
    // Act
    const second = run(batch('v2', 'shipment_id,weight_kg\nS1,1.5\nS2,2.5\n'));
    // Assess
    expect(second.status).toBe(0);
    const curated = filesUnder(join(lake, 'lake', 'curated', 'acme'), 'part-00000.jsonl');
    expect(curated.map((f) => readFileSync(f, 'utf8'))).toEqual([
      '{"shipment_id":"S1","weight_kg":1.5}\n{"shipment_id":"S2","weight_kg":2.5}\n',
    ]);
    expect(filesUnder(join(lake, 'lake', 'raw', 'acme'), 'part-1.csv')).toHaveLength(2);
  });

  it('versions with DVC only the corrected rows once the corrected file replaces the first', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const datasets = contractsWith({ batches: 'batches: { same_source: replace }\nversion: { dvc: true }' });
    const { first, corrected } = uploads(lake);
    const run = (input: string) =>
      sluice(['--lake', lake, '--datasets', datasets, 'run', 'orders', '-i', input]);
    const tagOf = (stdout: string) => /^version\s+(orders@\S+)/m.exec(stdout)?.[1];
    const firstTag = tagOf(run(first).stdout);
    // Act
    const secondTag = tagOf(run(corrected).stdout);
    // Assess
    expect(firstTag).toBeDefined();
    expect(secondTag).toBeDefined();
    const restored = (tag: string) => {
      const dir = join(lake, `checkout-${tag.replace(/\W/g, '-')}`);
      expect(sluice(['--lake', lake, '--datasets', datasets, 'checkout', tag, dir]).status).toBe(0);
      return filesUnder(join(dir, 'data', 'orders'), 'part-00000.jsonl').map((f) => readFileSync(f, 'utf8'));
    };
    expect(restored(secondTag!)).toEqual([
      [
        ['ORD-1', 15.5],
        ['ORD-2', 25.5],
        ['ORD-3', 35.5],
        ['ORD-4', 45.5],
      ]
        .map(([id, amount]) => `{"order_id":"${id}","amount":${amount}}\n`)
        .join(''),
    ]);
    const before = restored(firstTag!);
    expect(before).toHaveLength(1);
    expect(before[0]).toContain('{"order_id":"ORD-1","amount":10}');
  });
});
