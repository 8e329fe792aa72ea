import { describe, expect, it } from '@jest/globals';
import { promote } from '../../../lambdas/promote/core.js';
import { type Contract, parseContract } from '../../../lambdas/shared/contract.js';
import { MemoryStore } from '../../support/memory-store.js';

const contract = (sameSource: string): Map<string, Contract> =>
  new Map([
    [
      'orders',
      parseContract(
        [
          'name: orders',
          'source: { type: s3-upload, prefix: landing/orders/ }',
          'format: { type: csv }',
          'schema: { type: object, properties: { id: { type: string } } }',
          `batches: { same_source: ${sameSource} }`,
          // These tests are about which parts are written and replaced: JSON Lines keeps their bytes readable.
          'curated: { format: jsonl }',
        ].join('\n'),
        '<inline>',
      ),
    ],
  ]);

/** A run ingested from a landing key and validated; `curated` also promotes it. */
async function run(store: MemoryStore, runId: string, landingKey: string, rows: string, curated = false) {
  const prefix = `orders/dt=2026-11-25/run=${runId}/`;
  await store.put(
    'raw',
    `${prefix}_manifest.json`,
    JSON.stringify({ source: { type: 's3-upload', key: landingKey } }),
  );
  await store.put('raw', `${prefix}orders.csv`, 'id\n');
  await store.put('validated', `${prefix}part-00000.jsonl`, rows);
  if (curated) await store.put('curated', `${prefix}part-00000.jsonl`, rows);
  return { dataset: 'orders', runId, dt: '2026-11-25', validatedKey: `${prefix}part-00000.jsonl` };
}

describe('promote', () => {
  it('removes the curated batch of an earlier upload under the same key with same_source: replace', async () => {
    // Prepare
    const store = new MemoryStore();
    await run(store, 'old', 'landing/orders/orders.csv', '{"id":"A"}\n', true);
    await run(store, 'kept', 'landing/orders/returns.csv', '{"id":"R"}\n', true);
    const input = await run(store, 'new', 'landing/orders/orders.csv', '{"id":"A2"}\n');
    // Act
    const output = await promote(input, { store, contracts: contract('replace') });
    // Assess
    expect(output.superseded).toEqual(['orders/dt=2026-11-25/run=old/part-00000.jsonl']);
    expect(await store.list('curated', 'orders/')).toEqual([
      'orders/dt=2026-11-25/run=kept/part-00000.jsonl',
      'orders/dt=2026-11-25/run=new/part-00000.jsonl',
    ]);
    expect(await store.list('raw', 'orders/dt=2026-11-25/run=old/')).toHaveLength(2);
  });

  it('keeps every earlier batch with same_source: append', async () => {
    // Prepare
    const store = new MemoryStore();
    await run(store, 'old', 'landing/orders/orders.csv', '{"id":"A"}\n', true);
    const input = await run(store, 'new', 'landing/orders/orders.csv', '{"id":"A2"}\n');
    // Act
    const output = await promote(input, { store, contracts: contract('append') });
    // Assess
    expect(output.superseded).toEqual([]);
    expect(await store.list('curated', 'orders/')).toHaveLength(2);
  });

  it('promotes a batch validated in shards part by part, under the same part names', async () => {
    // Prepare
    const store = new MemoryStore();
    const prefix = 'orders/dt=2026-11-25/run=big/';
    await run(store, 'big', 'landing/orders/big.csv', '{"id":"A"}\n');
    await store.put('validated', `${prefix}part-00001.jsonl`, '{"id":"B"}\n{"id":"C"}\n');
    await store.put('validated', `${prefix}shards/not-a-part.jsonl`, '{"id":"X"}\n');
    // Act
    const output = await promote(
      { dataset: 'orders', runId: 'big', dt: '2026-11-25', validatedKey: prefix },
      { store, contracts: contract('append') },
    );
    // Assess
    expect(output.curatedKey).toBe(prefix);
    expect(output.size).toBe(33);
    expect(await store.list('curated', prefix)).toEqual([
      `${prefix}part-00000.jsonl`,
      `${prefix}part-00001.jsonl`,
    ]);
    expect(await store.readText('curated', `${prefix}part-00001.jsonl`)).toBe('{"id":"B"}\n{"id":"C"}\n');
  });

  it('removes every part of an earlier batch validated in shards with same_source: replace', async () => {
    // Prepare
    const store = new MemoryStore();
    await run(store, 'old', 'landing/orders/orders.csv', '{"id":"A"}\n', true);
    await store.put('curated', 'orders/dt=2026-11-25/run=old/part-00001.jsonl', '{"id":"B"}\n');
    const input = await run(store, 'new', 'landing/orders/orders.csv', '{"id":"A2"}\n');
    // Act
    const output = await promote(input, { store, contracts: contract('replace') });
    // Assess
    expect(output.superseded).toEqual([
      'orders/dt=2026-11-25/run=old/part-00000.jsonl',
      'orders/dt=2026-11-25/run=old/part-00001.jsonl',
    ]);
    expect(await store.list('curated', 'orders/')).toEqual(['orders/dt=2026-11-25/run=new/part-00000.jsonl']);
  });
});
