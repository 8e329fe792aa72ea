import { describe, expect, it } from '@jest/globals';
import { curatedRuns, sourceKeyOf, supersededRuns } from '../../../lambdas/shared/batches.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { MemoryStore } from '../../support/memory-store.js';

const contract = (sameSource: string) =>
  parseContract(
    [
      'name: orders',
      'source: { type: s3-upload, prefix: landing/orders/ }',
      'format: { type: csv }',
      'schema: { type: object, properties: { id: { type: string } } }',
      `batches: { same_source: ${sameSource} }`,
    ].join('\n'),
    '<inline>',
  );

/** A promoted upload: its raw manifest and its curated part file. */
async function promoted(store: MemoryStore, runId: string, landingKey: string, dt = '2026-11-25') {
  const prefix = `orders/dt=${dt}/run=${runId}/`;
  await store.put(
    'raw',
    `${prefix}_manifest.json`,
    JSON.stringify({ source: { type: 's3-upload', key: landingKey } }),
  );
  await store.put('curated', `${prefix}part-00000.jsonl`, '{"id":"A"}\n');
}

describe('sourceKeyOf', () => {
  it('names an upload by its landing key', () => {
    expect(sourceKeyOf({ source: { type: 's3-upload', key: 'landing/orders/orders.csv' } })).toBe(
      's3-upload:landing/orders/orders.csv',
    );
  });

  it('names a partner batch by its folder, whichever file completed it', () => {
    // Prepare
    const manifest = (completedBy: string) => ({
      source: { type: 'partner-drop', prefix: 'partners/acme/', batch: '2026-11-25', completedBy },
    });
    // Act
    const first = sourceKeyOf(manifest('partners/acme/2026-11-25/_SUCCESS'));
    const again = sourceKeyOf(manifest('partners/acme/2026-11-25/manifest.json'));
    // Assess
    expect(first).toBe('partner-drop:partners/acme/2026-11-25/');
    expect(again).toBe(first);
  });

  it('names a pulled batch by its data interval', () => {
    expect(
      sourceKeyOf({
        source: { table: 'orders' },
        interval: { start: '2026-11-25T00:00:00.000Z', end: '2026-11-26T00:00:00.000Z' },
      }),
    ).toBe('interval:2026-11-25T00:00:00.000Z/2026-11-26T00:00:00.000Z');
  });

  it('names no source for a stream micro-batch, which never replaces another', () => {
    expect(
      sourceKeyOf({
        source: { type: 'stream', partition: 'dt=2026-11-25/hour=10' },
        interval: { start: 'a', end: 'b' },
      }),
    ).toBeUndefined();
  });
});

describe('supersededRuns', () => {
  it('finds the other curated batches from the same landing key with same_source: replace', async () => {
    // Prepare
    const store = new MemoryStore();
    await promoted(store, 'old1', 'landing/orders/orders.csv', '2026-11-24');
    await promoted(store, 'other', 'landing/orders/returns.csv');
    await promoted(store, 'new1', 'landing/orders/orders.csv');
    // Act
    const superseded = await supersededRuns(store, contract('replace'), {
      dataset: 'orders',
      dt: '2026-11-25',
      runId: 'new1',
    });
    // Assess
    expect(superseded.map((r) => r.key)).toEqual(['orders/dt=2026-11-24/run=old1/part-00000.jsonl']);
  });

  it('finds none with same_source: append', async () => {
    // Prepare
    const store = new MemoryStore();
    await promoted(store, 'old1', 'landing/orders/orders.csv');
    await promoted(store, 'new1', 'landing/orders/orders.csv');
    // Act
    const superseded = await supersededRuns(store, contract('append'), {
      dataset: 'orders',
      dt: '2026-11-25',
      runId: 'new1',
    });
    // Assess
    expect(superseded).toEqual([]);
  });

  it('lists only the part files of runs among the curated keys', async () => {
    // Prepare
    const store = new MemoryStore();
    await promoted(store, 'r1', 'landing/orders/a.csv');
    await store.put('curated', 'orders/dt=2026-11-25/run=r1/notes.txt', 'x');
    await store.put('curated', '_dvc/files/md5/ab/cdef', 'x');
    // Act
    const runs = await curatedRuns(store, 'orders');
    // Assess
    expect(runs).toEqual([
      {
        dataset: 'orders',
        dt: '2026-11-25',
        runId: 'r1',
        key: 'orders/dt=2026-11-25/run=r1/part-00000.jsonl',
        parts: ['orders/dt=2026-11-25/run=r1/part-00000.jsonl'],
      },
    ]);
  });

  it('lists a run validated in shards once, with each of its parts in order', async () => {
    // Prepare
    const store = new MemoryStore();
    await promoted(store, 'r1', 'landing/orders/a.csv');
    await store.put('curated', 'orders/dt=2026-11-25/run=r1/part-00002.jsonl', '{}\n');
    await store.put('curated', 'orders/dt=2026-11-25/run=r1/part-00001.jsonl', '{}\n');
    // Act
    const runs = await curatedRuns(store, 'orders');
    // Assess
    expect(runs.map((run) => run.parts)).toEqual([
      [
        'orders/dt=2026-11-25/run=r1/part-00000.jsonl',
        'orders/dt=2026-11-25/run=r1/part-00001.jsonl',
        'orders/dt=2026-11-25/run=r1/part-00002.jsonl',
      ],
    ]);
  });

  it('lists Parquet and JSON Lines batches alike, each named by its first part', async () => {
    // Prepare: a batch promoted as JSON Lines before the contract moved to Parquet, and one after
    const store = new MemoryStore();
    await promoted(store, 'r1', 'landing/orders/a.csv');
    await store.put('curated', 'orders/dt=2026-11-26/run=r2/part-00001.parquet', 'PAR1');
    await store.put('curated', 'orders/dt=2026-11-26/run=r2/part-00000.parquet', 'PAR1');
    await store.put('curated', 'orders/dt=2026-11-26/run=r3/part-00001.parquet', 'PAR1');
    // Act
    const runs = await curatedRuns(store, 'orders');
    // Assess: r3 has no first part yet, so it is not promoted
    expect(runs.map((run) => [run.runId, run.key, run.parts.length])).toEqual([
      ['r1', 'orders/dt=2026-11-25/run=r1/part-00000.jsonl', 1],
      ['r2', 'orders/dt=2026-11-26/run=r2/part-00000.parquet', 2],
    ]);
  });
});
