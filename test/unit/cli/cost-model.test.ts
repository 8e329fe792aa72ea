import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { FUNCTION_MEMORY_MB } from '../../../lambdas/shared/function-sizes.js';
import { usd } from '../../../src/cli/cost.js';
import {
  type AslDefinition,
  CHILD_EXECUTION_TRANSITIONS,
  type CostInputs,
  DAYS_PER_MONTH,
  DEFAULT_THROUGHPUT,
  executionPath,
  gbSeconds,
  localRunStoreCalls,
  MiB,
  monthlyCost,
  runCounts,
  s3RequestsOf,
  shardsOf,
  shardTable,
  successFacts,
} from '../../../src/cli/cost-model.js';
import { PRICES, priceOf } from '../../../src/cli/cost-prices.js';

const ASL = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', 'statemachines', 'pipeline.asl.json'), 'utf8'),
) as AslDefinition;

function inputs(overrides: Partial<CostInputs> = {}): CostInputs {
  return {
    sourceType: 's3-upload',
    bytes: 10 * 1e6,
    rows: 100_000,
    files: 1,
    runsPerDay: 1,
    shardMb: 256,
    dvc: true,
    month: 1,
    validatedRatio: 1.5,
    quarantineShare: 0,
    throughput: DEFAULT_THROUGHPUT,
    ...overrides,
  };
}

describe('the success path through the state machine', () => {
  it('enters eleven states for a batch that is validated, promoted and versioned', () => {
    // Act
    const path = executionPath(ASL, successFacts(true));
    // Assess
    expect(path).toEqual([
      'Ingest',
      'IsAlreadyProcessed',
      'RecordRunStarted',
      'IsLargeBatch',
      'ValidateBatch',
      'Decide',
      'PromoteToCurated',
      'ShouldVersion',
      'VersionWithDvc',
      'RecordRun',
      'Succeeded',
    ]);
  });

  it('skips VersionWithDvc when the contract asks for no versions', () => {
    // Act
    const path = executionPath(ASL, successFacts(false));
    // Assess
    expect(path).not.toContain('VersionWithDvc');
    expect(path).toHaveLength(10);
  });

  it('refuses a Choice it cannot decide rather than guessing a branch', () => {
    // Prepare
    const definition: AslDefinition = {
      StartAt: 'Pick',
      States: {
        Pick: { Type: 'Choice', Choices: [{ Variable: '$.size', NumericGreaterThan: 5, Next: 'Done' }] },
        Done: { Type: 'Succeed' },
      },
    };
    // Act, Assess
    expect(() => executionPath(definition, { size: 9 })).toThrow(/Choice state 'Pick'.*NumericGreaterThan/);
  });
});

describe('counts of one run', () => {
  it('bills a sharded run without uniqueness expectations the parent path with the sharded branch and two transitions per shard', () => {
    // Prepare: 1,000 MiB in 100 MiB shards
    const batch = inputs({ bytes: 1000 * MiB, shardMb: 100 });
    // Act
    const counts = runCounts(batch, ASL);
    // Assess
    expect(counts.shards).toBe(10);
    expect(counts.path).toEqual([
      'Ingest',
      'IsAlreadyProcessed',
      'RecordRunStarted',
      'IsLargeBatch',
      'PlanShards',
      'ValidateShards',
      'PlanKeyPartitions',
      'HasSpilledKeys',
      'MergeResults',
      'Decide',
      'PromoteToCurated',
      'ShouldVersion',
      'VersionWithDvc',
      'RecordRun',
      'Succeeded',
    ]);
    expect(counts.keyPartitions).toBe(0);
    expect(counts.transitions).toBe(15 + 10 * CHILD_EXECUTION_TRANSITIONS);
    expect(counts.lambda.map((i) => i.step)).toEqual([
      'ingest',
      'recordRunStarted',
      'planShards',
      ...Array(10).fill('validateShard'),
      'planKeyPartitions',
      'mergeResults',
      'promote',
      'recordRun',
    ]);
  });

  it('bills a sharded run with a uniqueness expectation the CheckKeyPartitions map run, two transitions per key partition', () => {
    // Prepare: 1,000 MiB of 16 B rows in 100 MiB shards; up to 100 MiB / 16 B keys a shard, about 2^20 a partition
    const batch = inputs({ bytes: 1000 * MiB, rows: (1000 * MiB) / 16, shardMb: 100, uniqueness: 1 });
    const partitions = Math.ceil((10 * Math.ceil((100 * MiB) / 16)) / 2 ** 20);
    // Act
    const counts = runCounts(batch, ASL);
    // Assess
    expect(partitions).toBe(63);
    expect(counts.keyPartitions).toBe(partitions);
    expect(counts.path.slice(4, 10)).toEqual([
      'PlanShards',
      'ValidateShards',
      'PlanKeyPartitions',
      'HasSpilledKeys',
      'CheckKeyPartitions',
      'MergeResults',
    ]);
    expect(counts.transitions).toBe(16 + (10 + partitions) * CHILD_EXECUTION_TRANSITIONS);
    expect(counts.lambda.filter((i) => i.step === 'checkKeyPartition')).toHaveLength(partitions);
    // Each shard spills a blob a partition, each partition check reads one of every shard.
    expect(counts.storeCalls.reports?.read).toBe(10 * partitions + partitions);
  });

  it('sizes the key partitions by the bytes a row takes: longer rows, fewer keys, fewer partitions', () => {
    // Prepare: the same 1,000 MiB in 100 MiB shards, of 16 B and of 100 B rows
    const short = inputs({ bytes: 1000 * MiB, rows: (1000 * MiB) / 16, shardMb: 100, uniqueness: 1 });
    const long = inputs({ bytes: 1000 * MiB, rows: (1000 * MiB) / 100, shardMb: 100, uniqueness: 1 });
    // Act
    const partitions = [runCounts(short, ASL).keyPartitions, runCounts(long, ASL).keyPartitions];
    // Assess: 10 shards of ceil(100 MiB / 100 B) keys make 10 partitions of about 2^20
    expect(partitions).toEqual([63, Math.ceil((10 * Math.ceil((100 * MiB) / 100)) / 2 ** 20)]);
    expect(partitions[1]).toBe(10);
  });

  it('keeps a batch at or under the shard size on the single-invocation path', () => {
    // Act, Assess
    expect(shardsOf(256 * MiB, 256)).toBe(1);
    expect(shardsOf(256 * MiB + 1, 256)).toBe(2);
    expect(runCounts(inputs({ bytes: 256 * MiB }), ASL).sharded).toBe(false);
  });

  it('counts at least one shard for each object of a batch of several over the shard size', () => {
    // Act, Assess: 1,000 objects of 1 MiB are 1,000 shards; 4 objects of 600 MiB are 3 shards each
    expect(shardsOf(1000 * MiB, 256, 1000)).toBe(1000);
    expect(shardsOf(2400 * MiB, 256, 4)).toBe(12);
    expect(shardsOf(200 * MiB, 256, 1000)).toBe(1);
  });

  it('prices Lambda duration as memory × seconds rounded up to the millisecond', () => {
    // Act
    const gbs = gbSeconds({ step: 'validate', memoryMb: 1024, seconds: 1.2341 });
    // Assess
    expect(gbs).toBeCloseTo(1.235, 10);
  });

  it('takes each function memory from the sizes the stack deploys', () => {
    // Act
    const counts = runCounts(inputs(), ASL);
    // Assess
    expect(counts.lambda.map((i) => [i.step, i.memoryMb])).toEqual([
      ['ingest', FUNCTION_MEMORY_MB.ingest],
      ['recordRunStarted', FUNCTION_MEMORY_MB.recordRun],
      ['validate', FUNCTION_MEMORY_MB.validate],
      ['promote', FUNCTION_MEMORY_MB.promote],
      ['recordRun', FUNCTION_MEMORY_MB.recordRun],
    ]);
  });

  it('times validation from the assumed throughput plus the fixed time of an invocation', () => {
    // Prepare: 30 MB at the validation rate of the model
    const batch = inputs({ bytes: 30e6 });
    // Act
    const validate = runCounts(batch, ASL).lambda.find((i) => i.step === 'validate')!;
    // Assess
    expect(validate.seconds).toBeCloseTo(
      30 / DEFAULT_THROUGHPUT.validateMBps + DEFAULT_THROUGHPUT.invocationOverheadMs / 1000,
      10,
    );
  });

  it('warns when one invocation would run longer than Lambda allows', () => {
    // Prepare: ingest copies 100 GB in one invocation at 60 MB/s
    const batch = inputs({ bytes: 100e9 });
    // Act
    const { warnings } = runCounts(batch, ASL);
    // Assess
    expect(warnings.some((w) => /^ingest: \d+ s .* over Lambda's 900 s/.test(w))).toBe(true);
  });

  it("adds the data docs' reads of earlier run records, at most 49, and of the previous run's profile", () => {
    // Act
    const first = runCounts(inputs(), ASL, 0).storeCalls.reports?.readText ?? 0;
    const tenth = runCounts(inputs(), ASL, 9).storeCalls.reports?.readText ?? 0;
    const late = runCounts(inputs(), ASL, 500).storeCalls.reports?.readText ?? 0;
    // Assess: RecordRun reads the RUNNING record with its ETag (readVersioned), not as text; it
    // reads the run's validation result once as text, for the COMPLETE event's data-quality facets;
    // the data docs read this run's own record, and after the first run the previous run's profile.
    expect([first, tenth, late]).toEqual([1 + 1, 1 + 1 + 9 + 1, 1 + 1 + 49 + 1]);
  });

  it('expects a local run to save its history besides what a deployed run does', () => {
    // Prepare
    const counts = runCounts(inputs(), ASL);
    // Act
    const local = localRunStoreCalls(counts.storeCalls);
    // Assess
    expect(local.reports?.put).toBe((counts.storeCalls.reports?.put ?? 0) + 1);
    expect(local.raw).toEqual(counts.storeCalls.raw);
  });

  it("keeps the Version build's S3 traffic apart from the store calls a local run can count", () => {
    // Act
    const counts = runCounts(inputs(), ASL);
    const unversioned = runCounts(inputs({ dvc: false }), ASL);
    // Assess
    expect(counts.versionStoreCalls.curated).toEqual({ list: 2, read: 1, put: 2 });
    expect(counts.storeCalls.curated).toEqual({ put: 1 });
    expect(unversioned.versionStoreCalls).toEqual({});
    expect(unversioned.versionMinutes).toBe(0);
  });
});

describe('S3 requests of a store call', () => {
  it('counts a write of known length above 100 MiB as a multipart upload of 8 MiB parts', () => {
    // Act, Assess
    expect(s3RequestsOf('putIfAbsent', 100 * MiB)).toEqual({ put: 1, get: 0 });
    expect(s3RequestsOf('putIfAbsent', 200 * MiB)).toEqual({ put: 2 + 25, get: 0 });
  });

  it('counts a streamed write over one part as multipart, and a listing one LIST per 1,000 keys', () => {
    // Act, Assess
    expect(s3RequestsOf('put', 8 * MiB)).toEqual({ put: 1, get: 0 });
    expect(s3RequestsOf('put', 8 * MiB + 1)).toEqual({ put: 4, get: 0 });
    expect(s3RequestsOf('list', 0, 2500)).toEqual({ put: 3, get: 0 });
    expect(s3RequestsOf('head')).toEqual({ put: 0, get: 1 });
    expect(s3RequestsOf('delete')).toEqual({ put: 0, get: 0 });
  });

  it('raises the part size so that a very large object fits 10,000 parts', () => {
    // Act: 200 GiB needs parts of 200 GiB / 10,000
    const { put } = s3RequestsOf('putIfAbsent', 200 * 1024 * MiB);
    // Assess
    expect(put).toBe(2 + 10_000);
  });
});

describe('a month of runs', () => {
  it('multiplies per-run quantities by the runs of a 730-hour month', () => {
    // Prepare
    const batch = inputs({ runsPerDay: 24 });
    // Act
    const month = monthlyCost(batch, ASL);
    const transitions = month.lines.find((l) => l.item === 'state transitions')!;
    // Assess
    expect(month.runsPerMonth).toBeCloseTo(730, 10);
    expect(transitions.quantity).toBeCloseTo(11 * 730, 6);
    expect(transitions.usd).toBeCloseTo((11 * 730 * 0.025) / 1000, 10);
  });

  it('sums its lines into the total', () => {
    // Act
    const month = monthlyCost(inputs({ month: 6 }), ASL);
    // Assess
    expect(month.totalUsd).toBeCloseTo(
      month.lines.reduce((sum, l) => sum + l.usd, 0),
      12,
    );
  });

  it('keeps raw for ever and moves old raw batches to cheaper Intelligent-Tiering tiers', () => {
    // Prepare: 1 GiB a day
    const batch = inputs({ bytes: 1024 ** 3, month: 12 });
    // Act
    const month = monthlyCost(batch, ASL);
    const perMonth = DAYS_PER_MONTH;
    // Assess: eleven whole months and half of this one, all still held
    expect(month.storageGbMonths.raw).toBeCloseTo(perMonth * 11.5, 6);
    const archive = month.lines.find((l) => l.item.includes('Archive Instant'))!;
    expect(archive.quantity).toBeGreaterThan(0);
  });

  it('prices storage of the first month at half a month of its batches', () => {
    // Prepare: 1 GiB a day, no DVC copy
    const batch = inputs({ bytes: 1024 ** 3, dvc: false, quarantineShare: 0, validatedRatio: 1 });
    // Act
    const month = monthlyCost(batch, ASL);
    // Assess
    expect(month.storageGbMonths.curated).toBeCloseTo(DAYS_PER_MONTH / 2, 6);
    expect(month.storageGbMonths.validated).toBeCloseTo(DAYS_PER_MONTH / 2, 6);
  });

  it('prices in-region data transfer at nothing', () => {
    // Act
    const line = monthlyCost(inputs(), ASL).lines.find((l) => l.service === 'Data transfer')!;
    // Assess
    expect(line.quantity).toBeGreaterThan(0);
    expect(line.usd).toBe(0);
  });
});

describe('prices', () => {
  it('name the page each price is published on', () => {
    // Act, Assess
    for (const price of Object.values(PRICES)) expect(price.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it('price a quantity per their unit', () => {
    // Act, Assess
    expect(priceOf('lambdaRequests', 2_000_000)).toBeCloseTo(0.4, 12);
    expect(priceOf('kmsRequests', 10_000)).toBeCloseTo(0.03, 12);
  });

  it('show dollars to the cent and what is under a cent as such', () => {
    // Act, Assess
    expect(usd(0)).toBe('$0.00');
    expect(usd(0.004)).toBe('< $0.01');
    expect(usd(0.005)).toBe('$0.01');
    expect(usd(1234.5)).toBe('$1,234.50');
  });
});

describe('the shard table', () => {
  it('shows for each shard size its shards, transitions and invocations for the same batch', () => {
    // Prepare: 10 GiB
    const batch = inputs({ bytes: 10 * 1024 * MiB });
    // Act
    const rows = shardTable(batch, ASL, [64, 256, 1024]);
    // Assess
    expect(rows.map((r) => [r.shardMb, r.shards, r.transitions, r.lambdaInvocations])).toEqual([
      [64, 160, 15 + 160 * 2, 160 + 7],
      [256, 40, 15 + 40 * 2, 40 + 7],
      [1024, 10, 15 + 10 * 2, 10 + 7],
    ]);
  });

  it('makes smaller shards cost more per run and validate sooner', () => {
    // Prepare
    const batch = inputs({ bytes: 10 * 1024 * MiB });
    // Act
    const [small, , large] = shardTable(batch, ASL, [64, 256, 1024]);
    // Assess
    expect(small!.runUsd).toBeGreaterThan(large!.runUsd);
    expect(small!.validationSeconds).toBeLessThan(large!.validationSeconds);
  });
});

describe('raw objects under 128 KB', () => {
  it('stay in S3 Standard, with no tiering monitoring or lifecycle transition', () => {
    // Prepare: 20 KB a day for a year
    const batch = inputs({ bytes: 20_000, month: 12 });
    // Act
    const month = monthlyCost(batch, ASL);
    const item = (text: string) => month.lines.find((l) => l.item.includes(text))!.quantity;
    // Assess
    expect(item('raw (Standard)')).toBeCloseTo((20_000 * DAYS_PER_MONTH * 11.5) / 1024 ** 3, 12);
    expect([item('Infrequent'), item('Archive Instant'), item('monitoring'), item('lifecycle')]).toEqual([
      0, 0, 0, 0,
    ]);
  });
});

describe('a month of many runs', () => {
  it("sums each run's data docs reads, which grow with the runs before it up to 49", () => {
    // Prepare: 10 runs in the first month, none before
    const batch = inputs({ runsPerDay: 10 / DAYS_PER_MONTH });
    const perRun = (prior: number) =>
      Object.values(runCounts(batch, ASL, prior).s3Requests).reduce((sum, r) => sum + r.get, 0);
    // Act
    const month = monthlyCost(batch, ASL);
    const gets = month.lines.find((l) => l.item === 'GET and HEAD requests')!.quantity;
    // Assess
    expect(gets).toBeCloseTo(
      [...Array(10).keys()].reduce((sum, k) => sum + perRun(k), 0),
      6,
    );
  });

  it('costs a month of a run a minute, each of 1,000 shards', () => {
    // Prepare
    const batch = inputs({ runsPerDay: 1440, bytes: 100e9, shardMb: 100 });
    // Act
    const month = monthlyCost(batch, ASL);
    // Assess
    expect(month.runsPerMonth).toBeCloseTo(43_800, 6);
    expect(month.totalUsd).toBeGreaterThan(0);
  });
});
