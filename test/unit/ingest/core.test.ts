import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ingest } from '../../../lambdas/ingest/core.js';
import { runIdOf } from '../../../lambdas/ingest/s3-upload.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { ObjectNotFound, RawObjectConflict, UnsupportedSource } from '../../../lambdas/shared/errors.js';
import { runRecordKey } from '../../../lambdas/shared/keys.js';
import { MemoryStore } from '../../support/memory-store.js';

const contract = parseContract(
  [
    'name: orders',
    'source: { type: s3-upload, prefix: landing/orders/ }',
    'format: { type: csv }',
    'schema: { type: object, properties: { id: { type: string } } }',
  ].join('\n'),
  '<inline>',
);
const contracts = new Map([['orders', contract]]);
const bytes = 'id\n1\n2\n';
const sha = createHash('sha256').update(bytes).digest('hex');
const trigger = { type: 's3-upload' as const, key: 'landing/orders/a.csv', time: '2026-11-25T10:00:00Z' };

async function landed(content = bytes): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.put('landing', trigger.key, content);
  return store;
}

describe('ingest', () => {
  it('copies the upload byte for byte into a Hive-style raw key with a manifest', async () => {
    // Prepare
    const store = await landed();
    // Act
    const out = await ingest({ dataset: 'orders', trigger }, { store, contracts });
    // Assess
    expect(out).toMatchObject({ dt: '2026-11-25', sha256: sha, size: bytes.length, duplicate: false });
    expect(out.rawKey).toBe(`orders/dt=2026-11-25/run=${out.runId}/a.csv`);
    expect(store.bytes('raw', out.rawKey).toString()).toBe(bytes);
    expect(JSON.parse(store.bytes('raw', out.manifestKey).toString())).toMatchObject({
      source: { key: trigger.key },
      sha256: sha,
      size: bytes.length,
      runId: out.runId,
      receivedAt: trigger.time,
    });
  });

  it("marks an upload larger than the contract's format.shard_mb for validation in shards, and a smaller one not", async () => {
    // Prepare
    const small = parseContract(
      [
        'name: orders',
        'source: { type: s3-upload, prefix: landing/orders/ }',
        'format: { type: csv, shard_mb: 0.001 }',
        'schema: { type: object, properties: { id: { type: string } } }',
      ].join('\n'),
      '<inline>',
    );
    const larger = `id\n${'123456789\n'.repeat(110)}`;
    // Act
    const sharded = await ingest(
      { dataset: 'orders', trigger },
      {
        store: await landed(larger),
        contracts: new Map([['orders', small]]),
      },
    );
    const whole = await ingest({ dataset: 'orders', trigger }, { store: await landed(larger), contracts });
    // Assess
    expect(larger.length).toBeGreaterThan(0.001 * 1024 * 1024);
    expect(sharded.shard).toBe(true);
    expect(whole.shard).toBe(false);
  });

  it('derives the same run id from the same dataset, source key and bytes', () => {
    expect(runIdOf('orders', 'k', sha)).toBe(runIdOf('orders', 'k', sha));
    expect(runIdOf('orders', 'k', sha)).not.toBe(runIdOf('orders', 'k2', sha));
  });

  it('reports alreadyProcessed without writing when a run of these bytes succeeded', async () => {
    // Prepare
    const store = await landed();
    const first = await ingest({ dataset: 'orders', trigger }, { store, contracts });
    await store.put(
      'reports',
      runRecordKey('orders', first.runId),
      JSON.stringify({ dt: first.dt, status: 'SUCCEEDED' }),
    );
    const before = await store.list('raw', '');
    // Act
    const again = await ingest(
      { dataset: 'orders', trigger: { ...trigger, time: '2026-12-01T00:00:00Z' } },
      { store, contracts },
    );
    // Assess
    expect(again).toMatchObject({
      runId: first.runId,
      dt: first.dt,
      alreadyProcessed: true,
      duplicate: true,
    });
    expect(await store.list('raw', '')).toEqual(before);
  });

  it('repeats a failed run on the same raw key, as a duplicate rather than a conflict', async () => {
    // Prepare
    const store = await landed();
    const first = await ingest({ dataset: 'orders', trigger }, { store, contracts });
    // Act
    const again = await ingest({ dataset: 'orders', trigger }, { store, contracts });
    // Assess
    expect(again).toMatchObject({ rawKey: first.rawKey, duplicate: true, alreadyProcessed: false });
  });

  it('refuses different bytes under an existing raw key and keeps the old bytes', async () => {
    // Prepare
    const store = await landed();
    const first = await ingest({ dataset: 'orders', trigger }, { store, contracts });
    store.objects.set(`raw/${first.rawKey}`, { bytes: Buffer.from('tampered'), metadata: {} });
    // Act
    const attempt = ingest({ dataset: 'orders', trigger }, { store, contracts });
    // Assess
    await expect(attempt).rejects.toThrow(RawObjectConflict);
    await expect(attempt).rejects.toThrow(/already holds different bytes/);
    expect(store.bytes('raw', first.rawKey).toString()).toBe('tampered');
  });

  it('names the missing landing object', async () => {
    await expect(
      ingest({ dataset: 'orders', trigger }, { store: new MemoryStore(), contracts }),
    ).rejects.toThrow(ObjectNotFound);
  });

  it('refuses a key outside the dataset prefix', async () => {
    const store = await landed();
    await expect(
      ingest(
        { dataset: 'orders', trigger: { ...trigger, key: 'landing/other/a.csv' } },
        { store, contracts },
      ),
    ).rejects.toThrow(UnsupportedSource);
  });

  it('refuses a trigger the source type is not started by, naming the trigger that starts it', async () => {
    // Prepare
    const store = await landed();
    const schedule = { type: 'schedule' as const, time: '2026-11-25T10:00:00Z' };
    // Act
    const attempt = ingest({ dataset: 'orders', trigger: schedule }, { store, contracts });
    // Assess
    await expect(attempt).rejects.toThrow(UnsupportedSource);
    await expect(attempt).rejects.toThrow(
      "dataset 'orders' has source type 's3-upload' and was triggered by 'schedule'; " +
        "a 's3-upload' source is started by an Object Created event ('s3-upload')",
    );
    expect(await store.list('raw', '')).toEqual([]);
  });
});
