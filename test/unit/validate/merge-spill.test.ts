import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MalformedInput, ObjectNotFound } from '../../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../../lambdas/shared/fs-object-store.js';
import { validateShard } from '../../../lambdas/validate/engine.js';
import { mergeShardOutcomes } from '../../../lambdas/validate/shard-merge.js';
import { checkPartition, keysPlan } from '../../../lambdas/validate/shard-spill.js';
import { keysBlob } from '../../../lambdas/validate/shard-uniqueness.js';
import {
  DirectorySpill,
  lakeSpillPrefix,
  MemorySpill,
  ObjectStoreSpill,
  recordBytesOf,
  spillPartitions,
} from '../../../lambdas/validate/spill.js';
import { type SpilledValues, selectRanks, spillValues } from '../../../lambdas/validate/spill-select.js';
import { MemoryStore } from '../../support/memory-store.js';
import { random } from '../../support/random.js';
import {
  generatedRows,
  MIXED,
  mergeContract,
  NOW,
  randomCuts,
  recordStarts,
  render,
  spilledRun,
} from './merge-support.js';
import { csvContract, validate } from './support.js';

/** MIXED, and a median and uniqueness lists in full, so that every spilled state shows in the result. */
const SPILLED_SUITE = `${MIXED}
- type: expect_column_median_to_be_between
  kwargs: { column: x, min_value: 0 }
- type: expect_column_values_to_be_unique
  kwargs: { column: s, result_format: COMPLETE }
- type: expect_column_quantile_values_to_be_between
  kwargs: { column: x, allow_relative_error: linear, quantile_ranges: { quantiles: [0, 0.1, 0.5, 0.93, 1], value_ranges: [[null, null], [null, null], [null, null], [null, null], [null, null]] } }`;

/** A CSV of `count` rows with distinct ids and a number column. */
function distinctIds(count: number, offset = 0): string {
  const lines = ['id,x'];
  for (let i = 0; i < count; i++) lines.push(`k${offset + i},${(i * 7919) % 1000}`);
  return `${lines.join('\n')}\n`;
}

const UNIQUE_AND_MEDIAN = csvContract(
  'type: object\nproperties:\n  id: { type: string }\n  x: { type: number }',
  [
    '- type: expect_column_values_to_be_unique\n  kwargs: { column: id, result_format: COMPLETE }',
    '- type: expect_compound_columns_to_be_unique\n  kwargs: { column_list: [id, x] }',
    '- type: expect_column_median_to_be_between\n  kwargs: { column: x, min_value: 0 }',
  ].join('\n'),
);

describe('merging spilled shards', () => {
  it('equals one pass for random cuts, partition counts and selection limits', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      // Prepare
      const next = random(seed * 104729);
      const format = next() < 0.5 ? 'csv' : 'jsonl';
      const text = render(format, generatedRows(seed, Math.floor(next() * 200)), next() < 0.3);
      const cuts = randomCuts(next, recordStarts(text, format), 1 + Math.floor(next() * 10));
      const partitions = 1 + Math.floor(next() * 7);
      const selectLimit = next() < 0.5 ? 2 : undefined;
      const contract = mergeContract(format, SPILLED_SUITE);
      const whole = await validate(text, contract, { now: NOW });
      // Act
      const run = await spilledRun(text, contract, cuts, new MemorySpill(), partitions, selectLimit);
      // Assess
      expect({ seed, partitions, cuts, outcome: run.merged }).toEqual({
        seed,
        partitions,
        cuts,
        outcome: whole.outcome,
      });
      expect({ seed, quarantine: run.quarantine, valid: run.valid }).toEqual({
        seed,
        quarantine: whole.quarantineText,
        valid: whole.validText,
      });
    }
  });

  it('gives the same result with one partition and with several, each partition holding part of the keys', async () => {
    // Prepare: ids repeated across the three shards.
    const text = `${distinctIds(300)}${distinctIds(300, 150).split('\n').slice(1).join('\n')}`;
    const starts = recordStarts(text, 'csv');
    const cuts = [starts[200]!, starts[400]!];
    const one = new MemorySpill();
    const eight = new MemorySpill();
    // Act
    const single = await spilledRun(text, UNIQUE_AND_MEDIAN, cuts, one, 1);
    const several = await spilledRun(text, UNIQUE_AND_MEDIAN, cuts, eight, 8);
    // Assess
    const whole = await validate(text, UNIQUE_AND_MEDIAN, { now: NOW });
    expect(single.merged).toEqual(whole.outcome);
    expect(several.merged).toEqual(whole.outcome);
    expect(several.quarantine).toBe(whole.quarantineText);
    expect(whole.outcome.result.results[1]!.result.unexpected_count).toBe(300);
    const sizes = [...Array(8).keys()].map((p) => eight.blobs.get(keysBlob(0, p, 1))!.length);
    const all = one.blobs.get(keysBlob(0, 0, 1))!.length;
    expect(Math.max(...sizes)).toBeLessThan(all / 4);
  });

  it('keeps a shard’s outcome the same size for 100,000 distinct keys and values as for 1,000', async () => {
    // Prepare
    const small = distinctIds(1_000);
    const large = distinctIds(100_000);
    const spill = { spill: new MemorySpill(), shard: 0, partitions: 4 };
    const discard = () => new Writable({ write: (_c, _e, callback) => callback() });
    const outputs = () => ({ valid: discard(), quarantine: discard() });
    // Act
    const smallOutcome = await validateShard(Readable.from([small]), UNIQUE_AND_MEDIAN, outputs(), { spill });
    const largeOutcome = await validateShard(Readable.from([large]), UNIQUE_AND_MEDIAN, outputs(), { spill });
    const unspilled = await validateShard(Readable.from([large]), UNIQUE_AND_MEDIAN, outputs());
    // Assess
    // Without the column profile, bounded apart (its tracked values' counts gain digits with the rows).
    const smallSize = JSON.stringify({ ...smallOutcome, profile: undefined }).length;
    const largeSize = JSON.stringify({ ...largeOutcome, profile: undefined }).length;
    expect(largeSize).toBeLessThan(smallSize + 200);
    expect(JSON.stringify(unspilled).length).toBeGreaterThan(100 * largeSize);
  });

  it('finds a key held by several shards, with its first record’s global index and line', async () => {
    // Prepare: b on line 3 (shard 0), again on lines 5 and 6 (shard 1, twice) and 8 (shard 2).
    const text = 'id,x\na,1\nb,2\nc,3\nb,4\nb,5\nd,6\nb,7\n';
    const starts = recordStarts(text, 'csv');
    const spill = new MemorySpill();
    const run = await spilledRun(text, UNIQUE_AND_MEDIAN, [starts[3]!, starts[6]!], spill, 3);
    const plan = keysPlan(run.shards);
    // Act
    const found = (
      await Promise.all([0, 1, 2].map((partition) => checkPartition(spill, plan, partition)))
    ).flat();
    // Assess
    expect(found.filter((d) => d.evaluator === 0)).toEqual([
      {
        evaluator: 0,
        key: 'sb',
        first: { shard: 0, index: 1, line: 3, repeated: false, globalIndex: 1, globalLine: 3 },
        later: [
          // A CSV shard after the first numbers its lines after the header it was given.
          { shard: 1, index: 0, line: 2, repeated: true },
          { shard: 2, index: 0, line: 2, repeated: false },
        ],
      },
    ]);
    expect(run.merged.result.results[1]!.result.unexpected_index_list).toEqual([1, 3, 4, 6]);
  });

  it('refuses to merge spilled outcomes without the spill’s results', async () => {
    // Prepare
    const text = distinctIds(10);
    const spill = new MemorySpill();
    const run = await spilledRun(text, UNIQUE_AND_MEDIAN, [recordStarts(text, 'csv')[5]!], spill, 2);
    // Act
    const merging = () => mergeShardOutcomes(UNIQUE_AND_MEDIAN, run.shards);
    // Assess
    expect(merging).toThrow(MalformedInput);
    expect(merging).toThrow(/2 of 2 shard outcomes were spilled/);
  });
});

describe('selecting ranks from spilled values', () => {
  it('finds every rank as sorting all values would, when the values share their top bits', async () => {
    // Prepare: many values within one top bucket (and the next levels), with signs, zeros and infinities.
    const next = random(17);
    const shards: Float64Array[] = [0, 1, 2].map(() =>
      Float64Array.from({ length: 400 }, () => {
        const roll = next();
        if (roll < 0.02) return roll < 0.01 ? -0 : 0;
        if (roll < 0.03) return roll < 0.025 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
        if (roll < 0.2) return 1 + Math.floor(next() * 4) * 2 ** -50;
        return (next() < 0.3 ? -1 : 1) * (1 + next() * 1e-9);
      }),
    );
    const spill = new MemorySpill();
    const states = shards.map(
      (values, shard) =>
        spillValues(values, {
          shard,
          partitions: 1,
          put: (name, bytes) => {
            void spill.put(`e0/${name}`, typeof bytes === 'function' ? bytes() : bytes);
            return name;
          },
        }).spilled,
    );
    const sorted = Float64Array.from(shards.flatMap((s) => [...s])).sort();
    const ranks = [...sorted.keys()].filter((i) => i % 7 === 0 || i === sorted.length - 1);
    // Act
    const selected = await selectRanks(spill, 0, states, ranks, 5);
    // Assess
    expect(selected.map(([rank, value]) => [rank, Object.is(value, -0) ? '-0' : value])).toEqual(
      ranks.map((rank) => [rank, Object.is(sorted[rank], -0) ? '-0' : sorted[rank]]),
    );
  });

  it('has no value for a rank outside the values', async () => {
    // Prepare
    const spill = new MemorySpill();
    const state: SpilledValues['spilled'] = spillValues(Float64Array.of(3, 1, 2), {
      shard: 0,
      partitions: 1,
      put: (name, bytes) => {
        void spill.put(`e0/${name}`, typeof bytes === 'function' ? bytes() : bytes);
        return name;
      },
    }).spilled;
    // Act
    const selected = await selectRanks(spill, 0, [state], [-1, 0, 2, 3]);
    // Assess
    expect(selected).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });
});

describe('spill stores', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-spill-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['a directory', () => new DirectorySpill(join(dir, 'spill'))],
    [
      'the lake’s reports zone',
      () =>
        new ObjectStoreSpill(
          new FsObjectStore(join(dir, 'lake')),
          lakeSpillPrefix('orders/dt=2026-11-25/run=r1/'),
        ),
    ],
  ])('reads back from %s what was put, whole and by range, and refuses a blob never put', async (_, make) => {
    // Prepare
    const spill = make();
    const bytes = Uint8Array.from({ length: 200_000 }, (_v, i) => i % 251);
    // Act
    await spill.put('e1/keys/p0/s3', bytes);
    const whole = await spill.get('e1/keys/p0/s3');
    const range = await spill.get('e1/keys/p0/s3', { start: 70_000, end: 130_001 });
    // Assess
    expect(Buffer.from(whole).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(range).equals(Buffer.from(bytes.subarray(70_000, 130_001)))).toBe(true);
    await expect(spill.get('e1/keys/p1/s3')).rejects.toThrow(ObjectNotFound);
  });

  it('merges shards spilled to the lake as one pass, under the run’s spill prefix', async () => {
    // Prepare
    const store = new FsObjectStore(join(dir, 'lake'));
    const prefix = lakeSpillPrefix('orders/dt=2026-11-25/run=r1/');
    const spill = new ObjectStoreSpill(store, prefix);
    const text = `${distinctIds(50)}${distinctIds(50, 25).split('\n').slice(1).join('\n')}`;
    const starts = recordStarts(text, 'csv');
    // Act
    const run = await spilledRun(text, UNIQUE_AND_MEDIAN, [starts[40]!, starts[70]!], spill, 2);
    // Assess
    expect(run.merged).toEqual((await validate(text, UNIQUE_AND_MEDIAN, { now: NOW })).outcome);
    const keys = await store.list('reports', prefix);
    expect(keys).toContain(`${prefix}e0/keys/p1/s2`);
    expect(keys).toContain(`${prefix}e2/values/s0`);
  });

  it('tags every blob shards spill to the lake sluice-spill=1, which the reports lifecycle rule expires', async () => {
    // Prepare
    const store = new MemoryStore();
    const prefix = lakeSpillPrefix('orders/dt=2026-11-25/run=r1/');
    const text = `${distinctIds(50)}${distinctIds(50, 25).split('\n').slice(1).join('\n')}`;
    const starts = recordStarts(text, 'csv');
    // Act
    await spilledRun(text, UNIQUE_AND_MEDIAN, [starts[40]!], new ObjectStoreSpill(store, prefix), 2);
    // Assess
    const spilled = [...store.objects].filter(([key]) => key.startsWith(`reports/${prefix}`));
    expect(spilled.length).toBeGreaterThan(2);
    expect(spilled.map(([key, object]) => [key, object.tags])).toEqual(
      spilled.map(([key]) => [key, { 'sluice-spill': '1' }]),
    );
  });
});

describe('spillPartitions', () => {
  it('gives one partition for few keys and about a million keys a partition beyond', () => {
    expect(spillPartitions(8, 1_000)).toBe(1);
    expect(spillPartitions(8, 1_000_000)).toBe(8);
    expect(spillPartitions(100, 10_000_000)).toBe(954);
  });
});

describe('recordBytesOf', () => {
  it('takes the bytes per line of a sample, never fewer than 16', () => {
    // Prepare
    const rows = Buffer.from(
      'id,name\n1,alpha-beta-gamma-delta-epsilon-zeta\n2,"two\nlines of a quoted field here"\n',
    );
    // Act
    const sizes = [
      recordBytesOf(rows),
      recordBytesOf(Buffer.from('1\n2\n3\n')),
      recordBytesOf(Buffer.from('no newline')),
    ];
    // Assess: 4 lines in 83 bytes (3 records: a quoted line break makes a record of two lines,
    // so the estimate is under the true size); short lines and a sample without a newline are floored
    expect(sizes).toEqual([20, 16, 16]);
  });
});
