import { describe, expect, it } from '@jest/globals';
import type { Contract } from '../../../lambdas/shared/contract.js';
import { MalformedInput } from '../../../lambdas/shared/errors.js';
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

// A batch of several raw objects (a partner drop) validated in shards by object, and large objects
// by range, must give what one pass over the objects joined gives.

const RUN = { dataset: 'acme', runId: 'r1', dt: '2026-11-25' };
const PREFIX = 'acme/dt=2026-11-25/run=r1/';
const MANIFEST = `${PREFIX}_manifest.json`;

function acme(format: 'csv' | 'jsonl', shardMb: number): Map<string, Contract> {
  const contract = contractFrom(
    [
      'name: acme',
      'source: { type: partner-drop, prefix: landing/partners/acme/ }',
      `format: { type: ${format}, shard_mb: ${shardMb} }`,
      'schema:',
      '  type: object',
      '  required: [id, kg]',
      '  properties:',
      '    id: { type: string }',
      '    kg: { type: number, minimum: 0 }',
      'expectations:',
      '  - type: expect_column_values_to_be_unique',
      '    kwargs: { column: id, result_format: { result_format: COMPLETE } }',
      '  - type: expect_column_mean_to_be_between',
      '    kwargs: { column: kg, min_value: 0, max_value: 100 }',
      '  - type: expect_column_values_to_be_between',
      '    kwargs: { column: kg, max_value: 40, mostly: 0.5 }',
    ].join('\n'),
  );
  return new Map([['acme', contract]]);
}

type Row = [id: string, kg: number];

/** Rows as CSV with a header; `end` after the last row, `eol` between lines. */
function csvOf(rows: Row[], end = '\n', eol = '\n'): string {
  const cell = (id: string) => (/[",\n]/.test(id) ? `"${id.replace(/"/g, '""')}"` : id);
  const lines = ['id,kg', ...rows.map(([id, kg]) => `${cell(id)},${kg}`)];
  return `${lines.join(eol)}${rows.length > 0 ? end : eol}`;
}

function jsonlOf(rows: Row[], end = '\n', eol = '\n'): string {
  return rows.map(([id, kg]) => JSON.stringify({ id, kg })).join(eol) + (rows.length > 0 ? end : '');
}

/**
 * The drop: a first object with a quoted line break and a negative weight; one with no record (a
 * CSV header alone, a JSON Lines blank line); a large one with CRLF line ends (cut by range at a
 * small shard size) repeating an id of the first and its own ids; a last one without a final line
 * break, repeating an id of the large one.
 */
function drop(format: 'csv' | 'jsonl'): Record<string, string> {
  const render = format === 'csv' ? csvOf : jsonlOf;
  const large: Row[] = [];
  for (let i = 0; i < 300; i++) {
    large.push([i === 120 ? 'A-1' : i % 97 === 5 ? `L-${i - 1}` : `L-${i}`, i % 61 === 7 ? -2 : i % 50]);
  }
  return {
    [`part-1.${format}`]: render([
      ['A-1', 10],
      ['A-2\nsecond line', 20],
      ['A-3', -1],
    ]),
    [`part-2.${format}`]: format === 'csv' ? csvOf([]) : '\n',
    [`part-3.${format}`]: render(large, '\r\n', '\r\n'),
    [`part-4.${format}`]: render(
      [
        ['L-200', 5],
        ['Z-1', 45],
      ],
      '',
    ),
  };
}

async function landed(files: Record<string, string>): Promise<{ store: MemoryStore; keys: string[] }> {
  const store = new MemoryStore();
  const keys = Object.keys(files).map((name) => `${PREFIX}${name}`);
  for (const [name, text] of Object.entries(files)) await store.put('raw', `${PREFIX}${name}`, text);
  await store.put('raw', MANIFEST, JSON.stringify({ files: keys.map((key) => ({ key })) }));
  return { store, keys };
}

/** PlanShards, each ValidateShard (results as ResultWriter writes them), the key partitions, MergeResults. */
async function sharded(store: MemoryStore, contracts: Map<string, Contract>, rawKey: string) {
  const batch = { ...RUN, rawKey, manifestKey: MANIFEST };
  const plan = await planShardsOf(batch, { store, contracts });
  const items = (await store.readText('reports', plan.key))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ShardItem);
  const outputs = [];
  for (const shard of items) outputs.push(await validateShardOf({ ...RUN, shard }, { store, contracts }));
  const base = `${plan.resultsPrefix}/map-run-1/`;
  const succeeded = outputs.map((output) => ({ Status: 'SUCCEEDED', Output: JSON.stringify(output) }));
  await store.put('reports', `${base}SUCCEEDED_0.json`, JSON.stringify(succeeded));
  const resultsKey = `${base}manifest.json`;
  await store.put(
    'reports',
    resultsKey,
    JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: `${base}SUCCEEDED_0.json` }] } }),
  );
  const keys = await planKeyPartitionsOf({ ...RUN, shardsKey: plan.key, resultsKey }, { store, contracts });
  for (let partition = 0; partition < keys.count; partition++) {
    await checkKeyPartitionOf({ ...RUN, planKey: keys.planKey, partition }, { store, contracts });
  }
  const output = await mergeShardsOf({ ...batch, shardsKey: plan.key, resultsKey }, { store, contracts });
  return { items, output };
}

/** What a run leaves: its summary, the report, the quarantine, and the validated records joined. */
async function left(store: MemoryStore, output: Awaited<ReturnType<typeof validateBatch>>) {
  const parts = output.validatedKey.endsWith('/')
    ? (await store.list('validated', output.validatedKey)).filter((key) =>
        /^part-\d{5}\.jsonl$/.test(key.slice(output.validatedKey.length)),
      )
    : [output.validatedKey];
  const report = JSON.parse(await store.readText('reports', output.reportKey)) as {
    success: boolean;
    statistics: unknown;
    results: unknown;
    meta: Record<string, unknown>;
  };
  // Where the valid records are differs by design: one object, or the run's prefix of parts.
  delete report.meta.validation_time;
  delete report.meta.outputs;
  return {
    rows: output.rows,
    summary: output.summary,
    meta: report.meta,
    success: report.success,
    statistics: report.statistics,
    results: report.results,
    quarantine: await store.readText('quarantine', output.quarantineKey),
    valid: (await Promise.all(parts.map((key) => store.readText('validated', key)))).join(''),
  };
}

describe('a batch of several objects validated in shards', () => {
  for (const format of ['csv', 'jsonl'] as const) {
    it(`gives the report, quarantine and valid records of one joined pass (${format})`, async () => {
      // Prepare
      const files = drop(format);
      const whole = await landed(files);
      const split = await landed(files);
      const rawKey = whole.keys[0]!;
      // Act
      const onePass = await validateBatch(
        { ...RUN, rawKey, manifestKey: MANIFEST },
        { store: whole.store, contracts: acme(format, 256) },
      );
      const { items, output } = await sharded(split.store, acme(format, 0.002), rawKey);
      // Assess: the large object was cut, the others are whole shards of their own
      const shardsOf = (name: string) => items.filter((item) => item.rawKey.endsWith(name)).length;
      expect(shardsOf(`part-1.${format}`)).toBe(1);
      expect(shardsOf(`part-3.${format}`)).toBeGreaterThan(1);
      expect(shardsOf(`part-4.${format}`)).toBe(1);
      const expected = await left(whole.store, onePass);
      expect(await left(split.store, output)).toEqual(expected);
      expect(expected.quarantine).toContain('"file":"part-4.csv"'.replace('csv', format));
      expect(expected.quarantine).toContain(
        `the same value is on row ${format === 'csv' ? 2 : 1} of part-1.${format}`,
      );
    });
  }

  it('refuses a later CSV object whose header differs from the first one, as one pass does', async () => {
    // Prepare
    const files = {
      'part-1.csv': csvOf([['A-1', 1]]),
      'part-2.csv': `id,weight\nB-1,2\n`,
    };
    const { store, keys } = await landed(files);
    // Act
    const act = sharded(store, acme('csv', 0.001), keys[0]!);
    // Assess
    await expect(act).rejects.toThrow(MalformedInput);
    await expect(act).rejects.toThrow(/part-2\.csv: line 1: the header 'id,weight' differs .* 'id,kg'/);
  });

  it('stops at a header that lacks a required column, naming the batch as one pass does', async () => {
    // Prepare
    const files = { 'part-1.csv': 'id,w\nA,1\n', 'part-2.csv': 'id,w\nB,2\n' };
    const whole = await landed(files);
    const split = await landed(files);
    // Act
    const onePass = await validateBatch(
      { ...RUN, rawKey: whole.keys[0]!, manifestKey: MANIFEST },
      { store: whole.store, contracts: acme('csv', 256) },
    );
    const { output } = await sharded(split.store, acme('csv', 0.001), split.keys[0]!);
    // Assess
    expect(output.summary).toContain('part-1.csv and 1 more object of the batch: the header lacks');
    expect(output.summary).toBe(onePass.summary);
    expect(await left(split.store, output)).toEqual(await left(whole.store, onePass));
  });
});
