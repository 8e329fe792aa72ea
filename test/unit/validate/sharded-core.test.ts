import { describe, expect, it } from '@jest/globals';
import type { Contract } from '../../../lambdas/shared/contract.js';
import { MalformedInput, ObjectNotFound } from '../../../lambdas/shared/errors.js';
import { validatesInShards } from '../../../lambdas/shared/shard-size.js';
import { validateBatch } from '../../../lambdas/validate/core.js';
import {
  checkKeyPartitionOf,
  mergeShardsOf,
  planKeyPartitionsOf,
  planShardsOf,
  type ShardItem,
  validateShardOf,
} from '../../../lambdas/validate/sharded-core.js';
import { MemoryStore } from '../../support/memory-store.js';
import { contractFrom } from './support.js';

const RUN = { dataset: 'orders', runId: 'r1', dt: '2026-11-25' };
const RAW_KEY = 'orders/dt=2026-11-25/run=r1/orders.csv';

/** Orders with a shard size of `shardMb`: a unique id, an amount >= 0. */
function orders(shardMb: number, format = 'csv'): Map<string, Contract> {
  const contract = contractFrom(
    [
      'name: orders',
      'source: { type: s3-upload, prefix: landing/orders/ }',
      `format: { type: ${format}, shard_mb: ${shardMb} }`,
      'schema:',
      '  type: object',
      '  required: [order_id, amount]',
      '  properties:',
      '    order_id: { type: string }',
      '    amount: { type: number, minimum: 0 }',
      'expectations:',
      '  - type: expect_column_values_to_be_unique',
      '    kwargs: { column: order_id }',
      '  - type: expect_column_mean_to_be_between',
      '    kwargs: { column: amount, min_value: 0, max_value: 100 }',
      'on_failure: quarantine',
    ].join('\n'),
  );
  return new Map([['orders', contract]]);
}

/** About 14 KB of orders: a quoted id with a line break every 40 rows, a negative amount every 97, A-0007 twice. */
function ordersCsv(): string {
  const lines = ['order_id,amount'];
  for (let i = 0; i < 1000; i++) {
    const id = i === 900 ? 'A-0007' : i % 40 === 0 ? `"A-${i}\nx"` : `A-${String(i).padStart(4, '0')}`;
    lines.push(`${id},${i % 97 === 3 ? -1 : i % 50}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Validates every shard of the list, and writes the map run's results as ResultWriter does. */
async function runShards(
  store: MemoryStore,
  contracts: Map<string, Contract>,
  listKey: string,
  drop?: number,
) {
  const items = (await store.readText('reports', listKey))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ShardItem);
  const outputs = [];
  for (const shard of items) outputs.push(await validateShardOf({ ...RUN, shard }, { store, contracts }));
  const succeeded = outputs
    .filter((output) => output.index !== drop)
    .reverse()
    .map((output) => ({ Status: 'SUCCEEDED', Output: JSON.stringify(output) }));
  const base = 'orders/runs/r1/shards/results/map-run-1/';
  await store.put('reports', `${base}SUCCEEDED_0.json`, JSON.stringify(succeeded));
  await store.put(
    'reports',
    `${base}manifest.json`,
    JSON.stringify({
      ResultFiles: { SUCCEEDED: [{ Key: `${base}SUCCEEDED_0.json` }], FAILED: [], PENDING: [] },
    }),
  );
  return { items, resultsKey: `${base}manifest.json` };
}

/**
 * PlanKeyPartitions, then CheckKeyPartition for each partition it lists (as the map run
 * CheckKeyPartitions does), when it lists any.
 */
async function checkKeys(
  store: MemoryStore,
  contracts: Map<string, Contract>,
  shardsKey: string,
  resultsKey: string,
) {
  const plan = await planKeyPartitionsOf({ ...RUN, shardsKey, resultsKey }, { store, contracts });
  if (plan.count === 0) return { plan, partitions: [], checks: [] };
  const partitions = (await store.readText('reports', plan.key))
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { partition: number }).partition);
  const checks = [];
  for (const partition of partitions) {
    checks.push(
      await checkKeyPartitionOf({ ...RUN, planKey: plan.planKey, partition }, { store, contracts }),
    );
  }
  return { plan, partitions, checks };
}

/** The validated parts directly under a run's prefix, as Promote takes them. */
async function partsUnder(store: MemoryStore, prefix: string): Promise<string[]> {
  return (await store.list('validated', prefix)).filter((key) =>
    /^part-\d{5}\.jsonl$/.test(key.slice(prefix.length)),
  );
}

describe('which batches are validated in shards', () => {
  it('shards a batch larger than format.shard_mb in all, of one object or several, and no other batch', () => {
    // Prepare
    const csv = orders(1).get('orders')!;
    const documents = contractFrom(
      'name: pages\nsource: { type: s3-upload, prefix: landing/pages/ }\nformat: { type: json, records_path: items }\nschema: { type: object, properties: { id: { type: string } } }',
    );
    // Act, Assess
    expect(validatesInShards(csv, { size: 1024 * 1024 + 1, files: 1 })).toBe(true);
    expect(validatesInShards(csv, { size: 1024 * 1024, files: 1 })).toBe(false);
    expect(validatesInShards(csv, { size: 1024 * 1024 + 1, files: 2 })).toBe(true);
    expect(validatesInShards(csv, { size: 1024 * 1024, files: 3 })).toBe(false);
    expect(validatesInShards(documents, { size: 1024 * 1024 * 1024, files: 1 })).toBe(false);
  });

  it('takes a fraction of a MiB as format.shard_mb', () => {
    // Act, Assess
    expect(validatesInShards(orders(0.01).get('orders')!, { size: 10_486, files: 1 })).toBe(true);
    expect(validatesInShards(orders(0.01).get('orders')!, { size: 10_485, files: 1 })).toBe(false);
  });
});

describe('PlanShards', () => {
  it('writes one shard a line: the first from byte 0 with the header, each later one after it with the header end', async () => {
    // Prepare
    const store = new MemoryStore();
    const csv = ordersCsv();
    await store.put('raw', RAW_KEY, csv);
    // Act
    const output = await planShardsOf({ ...RUN, rawKey: RAW_KEY }, { store, contracts: orders(0.002) });
    // Assess
    const items = (await store.readText('reports', output.key))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ShardItem);
    expect(output).toEqual({
      key: 'orders/runs/r1/shards/shards.jsonl',
      count: items.length,
      resultsPrefix: 'orders/runs/r1/shards/results',
      maxConcurrency: 100,
    });
    expect(items.length).toBeGreaterThan(3);
    expect(items[0]).toEqual({ index: 0, rawKey: RAW_KEY, start: 0, end: items[1]!.start, partitions: 1 });
    expect(items.at(-1)!.end).toBe(Buffer.byteLength(csv));
    for (const item of items.slice(1)) {
      expect(item.headerEnd).toBe('order_id,amount\n'.length);
      expect(csv[item.start - 1]).toBe('\n');
    }
  });

  it('plans a batch of several objects by object: a small one whole, a large one by range with its own header', async () => {
    // Prepare
    const store = new MemoryStore();
    const manifestKey = 'orders/dt=2026-11-25/run=r1/_manifest.json';
    const small = 'order_id,amount\nB-1,3\n';
    const large = ordersCsv();
    await store.put('raw', RAW_KEY, small);
    await store.put('raw', `${RAW_KEY}.2`, '');
    await store.put('raw', `${RAW_KEY}.3`, large);
    await store.put(
      'raw',
      manifestKey,
      JSON.stringify({ files: [{ key: RAW_KEY }, { key: `${RAW_KEY}.2` }, { key: `${RAW_KEY}.3` }] }),
    );
    // Act
    const output = await planShardsOf(
      { ...RUN, rawKey: RAW_KEY, manifestKey },
      { store, contracts: orders(0.002) },
    );
    // Assess
    const items = (await store.readText('reports', output.key))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ShardItem);
    expect(items.map((item) => item.index)).toEqual(items.map((_, k) => k));
    expect(items[0]).toMatchObject({ rawKey: RAW_KEY, start: 0, end: small.length });
    const cut = items.slice(1);
    expect(cut.length).toBeGreaterThan(1);
    expect(cut.every((item) => item.rawKey === `${RAW_KEY}.3`)).toBe(true);
    expect(cut[0]).toMatchObject({ start: 0, batchHeader: 'order_id,amount' });
    expect(cut.slice(1).every((item) => item.headerEnd === 'order_id,amount\n'.length)).toBe(true);
    expect(cut[cut.length - 1]!.end).toBe(Buffer.byteLength(large));
  });
});

describe('ValidateShard and MergeResults', () => {
  it('give the quarantine, the report and (parts joined) the validated records of one pass, the keys spilled', async () => {
    // Prepare
    const csv = ordersCsv();
    const sharded = new MemoryStore();
    const whole = new MemoryStore();
    await sharded.put('raw', RAW_KEY, csv);
    await whole.put('raw', RAW_KEY, csv);
    const plan = await planShardsOf(
      { ...RUN, rawKey: RAW_KEY },
      { store: sharded, contracts: orders(0.002) },
    );
    const { items, resultsKey } = await runShards(sharded, orders(0.002), plan.key);
    await checkKeys(sharded, orders(0.002), plan.key, resultsKey);
    // Act
    const merged = await mergeShardsOf(
      { ...RUN, rawKey: RAW_KEY, shardsKey: plan.key, resultsKey },
      { store: sharded, contracts: orders(0.002) },
    );
    const onePass = await validateBatch(
      { ...RUN, rawKey: RAW_KEY },
      { store: whole, contracts: orders(256) },
    );
    // Assess
    expect(merged.rows).toEqual(onePass.rows);
    expect(merged.rows.quarantined).toBeGreaterThan(10);
    expect(merged.summary).toBe(onePass.summary);
    expect(merged.validatedKey).toBe('orders/dt=2026-11-25/run=r1/');
    const parts = await partsUnder(sharded, merged.validatedKey);
    expect(parts).toHaveLength(items.length);
    const joined = (await Promise.all(parts.map((key) => sharded.readText('validated', key)))).join('');
    expect(joined).toBe(await whole.readText('validated', onePass.validatedKey));
    expect(await sharded.readText('quarantine', merged.quarantineKey)).toBe(
      await whole.readText('quarantine', onePass.quarantineKey),
    );
    const results = async (store: MemoryStore, key: string) =>
      (JSON.parse(await store.readText('reports', key)) as { results: unknown }).results;
    expect(await results(sharded, merged.reportKey)).toEqual(await results(whole, onePass.reportKey));
    // The uniqueness keys went through the run's spill, not the outcomes.
    const spilled = await sharded.list('reports', 'orders/dt=2026-11-25/run=r1/spill/');
    expect(spilled.filter((key) => key.includes('/keys/'))).toHaveLength(items.length);
  });

  it('gives the same parts and quarantine when MergeResults is retried after it rewrote a part', async () => {
    // Prepare: A-0007 again in a late shard moves that record out of its shard's part.
    const store = new MemoryStore();
    await store.put('raw', RAW_KEY, ordersCsv());
    const contracts = orders(0.002);
    const plan = await planShardsOf({ ...RUN, rawKey: RAW_KEY }, { store, contracts });
    const { resultsKey } = await runShards(store, contracts, plan.key);
    await checkKeys(store, contracts, plan.key, resultsKey);
    const input = { ...RUN, rawKey: RAW_KEY, shardsKey: plan.key, resultsKey };
    const first = await mergeShardsOf(input, { store, contracts });
    const texts = async () =>
      Promise.all(
        [...(await partsUnder(store, first.validatedKey)), first.quarantineKey].map((key) =>
          key.endsWith('rejected-rows.jsonl')
            ? store.readText('quarantine', key)
            : store.readText('validated', key),
        ),
      );
    const before = await texts();
    // Act
    const again = await mergeShardsOf(input, { store, contracts });
    // Assess
    expect(await texts()).toEqual(before);
    expect(again.rows).toEqual(first.rows);
    expect(before.at(-1)).toContain('A-0007');
  });

  it('refuses a map run whose results lack a shard, naming how many it has', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put('raw', RAW_KEY, ordersCsv());
    const plan = await planShardsOf({ ...RUN, rawKey: RAW_KEY }, { store, contracts: orders(0.002) });
    const { resultsKey } = await runShards(store, orders(0.002), plan.key, 1);
    // Act
    const act = mergeShardsOf(
      { ...RUN, rawKey: RAW_KEY, shardsKey: plan.key, resultsKey },
      { store, contracts: orders(0.002) },
    );
    // Assess
    await expect(act).rejects.toThrow(MalformedInput);
    await expect(act).rejects.toThrow(
      `the map run has results of ${plan.count - 1} shards, expected one for each of the ${plan.count} shards`,
    );
  });
});

describe('PlanKeyPartitions and CheckKeyPartition', () => {
  /** The orders' shards, validated with their keys spread over `partitions` partitions. */
  async function shardsSpilledInto(partitions: number, contracts = orders(0.002)) {
    const store = new MemoryStore();
    await store.put('raw', RAW_KEY, ordersCsv());
    const plan = await planShardsOf({ ...RUN, rawKey: RAW_KEY }, { store, contracts });
    const list = (await store.readText('reports', plan.key))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.stringify({ ...(JSON.parse(line) as ShardItem), partitions }));
    await store.put('reports', plan.key, `${list.join('\n')}\n`);
    const { resultsKey } = await runShards(store, contracts, plan.key);
    return { store, contracts, shardsKey: plan.key, resultsKey };
  }

  it('lists one item a partition and checks each, finding the key held by two shards once', async () => {
    // Prepare
    const { store, contracts, shardsKey, resultsKey } = await shardsSpilledInto(3);
    // Act
    const { plan, partitions, checks } = await checkKeys(store, contracts, shardsKey, resultsKey);
    // Assess
    expect(plan).toMatchObject({
      spilled: true,
      count: 3,
      key: 'orders/runs/r1/shards/key-partitions.jsonl',
      planKey: 'orders/dt=2026-11-25/run=r1/spill/keys-plan.json',
      resultsPrefix: 'orders/runs/r1/shards/key-results',
      maxConcurrency: 100,
    });
    expect(partitions).toEqual([0, 1, 2]);
    expect(checks.map((c) => c.partition)).toEqual([0, 1, 2]);
    expect(checks.reduce((sum, c) => sum + c.duplicates, 0)).toBe(1);
  });

  it('lets MergeResults give the result of one pass from the partitions checked apart', async () => {
    // Prepare
    const { store, contracts, shardsKey, resultsKey } = await shardsSpilledInto(3);
    const whole = new MemoryStore();
    await whole.put('raw', RAW_KEY, ordersCsv());
    await checkKeys(store, contracts, shardsKey, resultsKey);
    // Act
    const merged = await mergeShardsOf(
      { ...RUN, rawKey: RAW_KEY, shardsKey, resultsKey },
      { store, contracts },
    );
    const onePass = await validateBatch(
      { ...RUN, rawKey: RAW_KEY },
      { store: whole, contracts: orders(256) },
    );
    // Assess
    expect(merged.rows).toEqual(onePass.rows);
    expect(await store.readText('quarantine', merged.quarantineKey)).toBe(
      await whole.readText('quarantine', onePass.quarantineKey),
    );
    const results = async (lake: MemoryStore, key: string) =>
      (JSON.parse(await lake.readText('reports', key)) as { results: unknown }).results;
    expect(await results(store, merged.reportKey)).toEqual(await results(whole, onePass.reportKey));
  });

  it('lists no partition when no shard spilled keys, and MergeResults needs no check', async () => {
    // Prepare: the orders contract without its uniqueness expectation.
    const contract = orders(0.002).get('orders')!;
    const contracts = new Map([
      [
        'orders',
        { ...contract, expectations: contract.expectations.filter((x) => !x.type.endsWith('unique')) },
      ],
    ]);
    const { store, shardsKey, resultsKey } = await shardsSpilledInto(3, contracts);
    // Act
    const { plan } = await checkKeys(store, contracts, shardsKey, resultsKey);
    const merged = await mergeShardsOf(
      { ...RUN, rawKey: RAW_KEY, shardsKey, resultsKey },
      { store, contracts },
    );
    // Assess
    expect(plan).toMatchObject({ spilled: false, count: 0 });
    expect(await store.head('reports', plan.key)).toBeUndefined();
    expect(merged.rows.read).toBe(1000);
  });

  it('refuses MergeResults when a partition of the spilled keys was not checked', async () => {
    // Prepare
    const { store, contracts, shardsKey, resultsKey } = await shardsSpilledInto(2);
    // Act
    const act = mergeShardsOf({ ...RUN, rawKey: RAW_KEY, shardsKey, resultsKey }, { store, contracts });
    // Assess
    await expect(act).rejects.toThrow(ObjectNotFound);
  });

  it('refuses a partition the keys plan does not have, naming the ones it has', async () => {
    // Prepare
    const { store, contracts, shardsKey, resultsKey } = await shardsSpilledInto(2);
    const plan = await planKeyPartitionsOf({ ...RUN, shardsKey, resultsKey }, { store, contracts });
    // Act
    const act = checkKeyPartitionOf({ ...RUN, planKey: plan.planKey, partition: 2 }, { store, contracts });
    // Assess
    await expect(act).rejects.toThrow(MalformedInput);
    await expect(act).rejects.toThrow(/was given partition 2; .*keys-plan.json has partitions 0 to 1/);
  });
});
