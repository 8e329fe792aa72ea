import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ContractInvalid, SuiteUnsupported } from '../../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../../lambdas/shared/fs-object-store.js';
import { entropy } from '../../../lambdas/validate/kl-divergence.js';
import { withPreviousPartitions } from '../../../lambdas/validate/profile-kl.js';
import { planShardsOf } from '../../../lambdas/validate/sharded-core.js';
import { contractFrom, csvContract, validate } from './support.js';

const SCHEMA = 'type: object\nproperties:\n  x: { type: number }\n  s: { type: string }';
const kl = (kwargs: string) =>
  csvContract(SCHEMA, `- type: expect_column_kl_divergence_to_be_less_than\n  kwargs: ${kwargs}`);

function klResult(run: Awaited<ReturnType<typeof validate>>) {
  return run.outcome.result.results.find(
    (r) => r.expectation_config.type === 'expect_column_kl_divergence_to_be_less_than',
  )!;
}

describe('expect_column_kl_divergence_to_be_less_than', () => {
  it('is scipy’s entropy of the normalised shares', () => {
    // Act and Assess
    expect(entropy([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.14384103622589045, 14);
    expect(entropy([1, 0], [0, 1])).toBe(Number.POSITIVE_INFINITY);
  });

  it('buckets numbers into the partition’s bins, the last bin closed, and fails above the threshold', async () => {
    // Prepare
    const contract = kl(
      '{ column: x, partition_object: { bins: [0, 1, 2], weights: [0.25, 0.75] }, threshold: 0.1 }',
    );
    // Act
    const run = await validate('x\n0\n0.5\n1\n2\n', contract);
    // Assess
    const result = klResult(run);
    expect(result.success).toBe(false);
    expect(result.result.observed_value).toBeCloseTo(0.14384103622589045, 12);
    expect(result.result.details).toEqual({
      observed_partition: { bins: [0, 1, 2], weights: [0.5, 0.5], tail_weights: [0, 0] },
      expected_partition: { bins: [0, 1, 2], weights: [0.25, 0.75], tail_weights: [0, 0] },
    });
  });

  it('observes null and fails when a value falls where the partition has no weight', async () => {
    // Prepare
    const contract = kl(
      '{ column: s, bucketize_data: false, partition_object: { values: [a], weights: [1] }, threshold: 5 }',
    );
    // Act
    const run = await validate('s\na\nb\n', contract);
    // Assess
    expect(klResult(run)).toMatchObject({ success: false, result: { observed_value: null } });
  });

  it('refuses at load a partition whose weights do not sum to 1, naming the kwarg', () => {
    // Act and Assess
    expect(() => kl('{ column: x, partition_object: { bins: [0, 1, 2], weights: [0.5, 0.2] } }')).toThrow(
      ContractInvalid,
    );
    expect(() => kl('{ column: x, partition_object: { bins: [0, 1, 2], weights: [0.5, 0.2] } }')).toThrow(
      /partition_object\/weights.*sum to 1/,
    );
  });

  it('passes with a note when there is no partition and no previous promoted run', async () => {
    // Prepare
    const contract = withPreviousPartitions(kl('{ column: x, threshold: 0.1 }'), undefined);
    // Act
    const run = await validate('x\n1\n', contract);
    // Assess
    const result = klResult(run);
    expect(result.success).toBe(true);
    expect(result.result.details).toEqual({
      note: expect.stringMatching(/no promoted run before this one/),
    });
  });

  it('takes its partition from the previous promoted run’s profile: its bins, or all its values', async () => {
    // Prepare
    const previous = (await validate('x,s\n1,a\n2,a\n3,b\n4,b\n', csvContract(SCHEMA))).outcome.profile!;
    const contract = csvContract(
      SCHEMA,
      [
        '- type: expect_column_kl_divergence_to_be_less_than\n  kwargs: { column: x, threshold: 0.1 }',
        '- type: expect_column_kl_divergence_to_be_less_than\n  kwargs: { column: s, bucketize_data: false, threshold: 0.1 }',
      ].join('\n'),
    );
    // Act
    const filled = withPreviousPartitions(contract, { runId: 'r0', profile: previous });
    const run = await validate('x,s\n1,a\n2,a\n3,b\n4,b\n', filled);
    // Assess
    const [numbers, categories] = filled.expectations;
    expect(numbers!.kwargs.partition_object).toMatchObject({ bins: previous.columns[0]!.histogram!.edges });
    expect(categories!.kwargs.partition_object).toEqual({ values: ['a', 'b'], weights: [0.5, 0.5] });
    expect(numbers!.meta).toEqual({ partition_source: 'the profile of run r0' });
    const results = run.outcome.result.results.slice(1);
    expect(results.map((r) => [r.success, r.result.observed_value])).toEqual([
      [true, 0],
      [true, 0],
    ]);
  });

  it('is refused with SuiteUnsupported in the sharded path when it has no partition object', async () => {
    // Prepare
    const contract = contractFrom(
      `name: orders\nsource: { type: s3-upload, prefix: landing/orders/ }\nformat: { type: csv, shard_mb: 1 }\nschema:\n  ${SCHEMA.replaceAll('\n', '\n  ')}\nexpectations:\n  - type: expect_column_kl_divergence_to_be_less_than\n    kwargs: { column: x }\n`,
    );
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-kl-')));
    // Act
    const planned = planShardsOf(
      { dataset: 'orders', runId: 'r1', dt: '2026-11-25', rawKey: 'orders/dt=2026-11-25/run=r1/in.csv' },
      { store, contracts: new Map([['orders', contract]]) },
    );
    // Assess
    await expect(planned).rejects.toThrow(SuiteUnsupported);
    await expect(planned).rejects.toThrow(/expectations\[0\].*give partition_object in the contract/);
  });
});
