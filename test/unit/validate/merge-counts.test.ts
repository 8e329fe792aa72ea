/**
 * partial_unexpected_counts past MAX_COUNTED_VALUES distinct values: one pass counts the first
 * 10,000 distinct unexpected values with all their occurrences, and a merge of shards must count
 * the same ones, whether the shards carry their counts or spill them.
 */
import { describe, expect, it } from '@jest/globals';
import type { Contract } from '../../../lambdas/shared/contract.js';
import { MAX_COUNTED_VALUES } from '../../../lambdas/validate/result-format.js';
import { MemorySpill } from '../../../lambdas/validate/spill.js';
import { NOW, spilledRun, wholeAndSharded } from './merge-support.js';
import { csvContract, resultOf, validate } from './support.js';

const SCHEMA = 'type: object\nproperties:\n  id: { type: string }';

const IN_SET = csvContract(
  SCHEMA,
  '- type: expect_column_values_to_be_in_set\n  kwargs: { column: id, value_set: [ok], result_format: { result_format: SUMMARY, partial_unexpected_count: 5 } }',
);

const UNIQUE = csvContract(
  SCHEMA,
  '- type: expect_column_values_to_be_unique\n  kwargs: { column: id, result_format: { result_format: SUMMARY, partial_unexpected_count: 5 } }',
);

/** A CSV of one `id` column, and the byte offset where the record `cutBefore` starts. */
function csv(ids: string[], cutBefore: number): { text: string; cut: number } {
  const head = `id\n${ids
    .slice(0, cutBefore)
    .map((id) => `${id}\n`)
    .join('')}`;
  const tail = ids
    .slice(cutBefore)
    .map((id) => `${id}\n`)
    .join('');
  return { text: head + tail, cut: Buffer.byteLength(head) };
}

function range(prefix: string, count: number, times = 1): string[] {
  return Array.from({ length: count }, (_, i) => Array<string>(times).fill(`${prefix}${i}`)).flat();
}

/**
 * `p` is the first unexpected value and repeats 30 times at the end of a second shard, after
 * more than MAX_COUNTED_VALUES distinct values of that shard: one pass counts all 31.
 */
function frequentValueFoundEarly(): { text: string; cut: number } {
  const first = ['p', ...range('u', MAX_COUNTED_VALUES)];
  const second = [...range('v', MAX_COUNTED_VALUES), ...Array<string>(30).fill('p')];
  return csv([...first, ...second], first.length);
}

/**
 * `k` is once in the first shard and six times in the second: its first record becomes a
 * duplicate when the second shard's first record is read (so one pass counts it among its first
 * values), but the second shard finds it repeated only after 12,000 duplicated values of its own.
 */
function duplicateAcrossShards(): { text: string; cut: number } {
  const first = ['k', ...range('c', 5_000, 2)];
  const second = ['k', ...range('d', 12_000, 2), ...Array<string>(5).fill('k')];
  return csv([...first, ...second], first.length);
}

async function countsOf(text: string, contract: Contract) {
  return resultOf(await validate(text, contract, { now: NOW }), contract.expectations[0]!.type).result
    .partial_unexpected_counts;
}

describe('partial_unexpected_counts of merged shards past 10,000 distinct unexpected values', () => {
  it('counts every occurrence of a value one pass counts, when a later shard finds it past its own cap', async () => {
    // Prepare
    const { text, cut } = frequentValueFoundEarly();
    // Act
    const { whole, merged } = await wholeAndSharded(text, IN_SET, [cut]);
    // Assess
    const counts = merged.result.results[1]!.result.partial_unexpected_counts;
    expect(counts?.[0]).toEqual({ value: 'p', count: 31 });
    expect(counts).toEqual(
      resultOf(whole, 'expect_column_values_to_be_in_set').result.partial_unexpected_counts,
    );
  });

  it('counts the same values as one pass when the shards spill their counts past the cap', async () => {
    // Prepare
    const { text, cut } = frequentValueFoundEarly();
    const spill = new MemorySpill();
    // Act
    const run = await spilledRun(text, IN_SET, [cut], spill, 2);
    // Assess
    expect([...spill.blobs.keys()].some((name) => name.startsWith('e0/past-cap/'))).toBe(true);
    expect(run.shards.every((s) => JSON.stringify(s).length < 1_000_000)).toBe(true);
    expect(run.merged.result.results[1]!.result.partial_unexpected_counts).toEqual(
      await countsOf(text, IN_SET),
    );
  });

  it('counts a duplicate across shards among the first values, as one pass, carried or spilled', async () => {
    // Prepare
    const { text, cut } = duplicateAcrossShards();
    const expected = await countsOf(text, UNIQUE);
    // Act
    const carried = await wholeAndSharded(text, UNIQUE, [cut]);
    const spilled = await spilledRun(text, UNIQUE, [cut], new MemorySpill(), 3);
    // Assess
    expect(expected?.[0]).toEqual({ value: 'k', count: 7 });
    expect(carried.merged.result.results[1]!.result.partial_unexpected_counts).toEqual(expected);
    expect(spilled.merged.result.results[1]!.result.partial_unexpected_counts).toEqual(expected);
  });

  it('keeps the whole result equal to one pass, statistics and lists included, over three shards', async () => {
    // Prepare
    const contract = csvContract(
      SCHEMA,
      [
        '- type: expect_column_values_to_be_in_set\n  kwargs: { column: id, value_set: [ok], result_format: COMPLETE }',
        '- type: expect_column_values_to_be_unique\n  kwargs: { column: id }',
      ].join('\n'),
    );
    const { text, cut } = duplicateAcrossShards();
    const cuts = [text.indexOf('\n', Math.floor(cut / 2)) + 1, cut];
    // Act
    const { whole, merged } = await wholeAndSharded(text, contract, cuts);
    // Assess
    expect(merged.result).toEqual(whole.outcome.result);
  });
});
