import { describe, expect, it } from '@jest/globals';
import { random } from '../../support/random.js';
import {
  generatedRows,
  MIXED,
  mergeContract,
  randomCuts,
  recordStarts,
  render,
  wholeAndSharded,
} from './merge-support.js';
import { csvContract } from './support.js';

/** Where the n-th record (0-based) of a file starts. */
function startOf(text: string, format: 'csv' | 'jsonl', n: number): number {
  return recordStarts(text, format)[n]!;
}

describe('merging shards of a file', () => {
  it('fails the later of two equal ids in different shards, naming the first one’s row, as one pass does', async () => {
    // Prepare: id 2 on line 3 (shard 0), again on line 6 (shard 1) and line 8 (shard 2), twice in shard 2.
    const contract = csvContract(
      'type: object\nproperties:\n  id: { type: integer }\n  v: { type: string }',
      '- type: expect_column_values_to_be_unique\n  kwargs: { column: id, result_format: COMPLETE }',
    );
    const text = 'id,v\n1,a\n2,b\n3,c\n4,d\n2,e\n5,f\n2,g\n2,h\n';
    const cuts = [startOf(text, 'csv', 3), startOf(text, 'csv', 5)];
    // Act
    const run = await wholeAndSharded(text, contract, cuts);
    // Assess
    expect(run.merged).toEqual(run.whole.outcome);
    expect(run.quarantine).toBe(run.whole.quarantineText);
    expect(run.valid).toBe(run.whole.validText);
    expect(run.whole.quarantine.map((q) => [q.row, q.index, q.failures[0]!.reason])).toEqual([
      [6, 4, 'must be unique; the same value is on row 3'],
      [8, 6, 'must be unique; the same value is on row 3'],
      [9, 7, 'must be unique; the same value is on row 3'],
    ]);
    expect(run.merged.result.results[1]!.result.unexpected_index_list).toEqual([1, 4, 6, 7]);
  });

  it('finds duplicates across shards among numbers, text, booleans and objects, each by its own kind', async () => {
    // Prepare
    const contract = mergeContract(
      'jsonl',
      '- type: expect_column_values_to_be_unique\n  kwargs: { column: s, result_format: COMPLETE }',
    );
    const values = [
      '1',
      '"1"',
      'true',
      '{"a":[1,2]}',
      '2.5',
      '1',
      '"1"',
      'false',
      '{"a":[1,2]}',
      '2.50',
      'true',
    ];
    const text = values.map((v, i) => `{"id":${i},"s":${v}}\n`).join('');
    // Act
    const run = await wholeAndSharded(text, contract, [startOf(text, 'jsonl', 3), startOf(text, 'jsonl', 7)]);
    // Assess
    expect(run.merged).toEqual(run.whole.outcome);
    expect(run.quarantine).toBe(run.whole.quarantineText);
    expect(run.valid).toBe(run.whole.validText);
    expect(run.merged.result.results[1]!.result.unexpected_index_list).toEqual([
      0, 1, 2, 3, 4, 5, 6, 8, 9, 10,
    ]);
  });

  it('breaks increasing where the first value of a shard is below the last of the one before', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  id: { type: integer }',
      '- type: expect_column_values_to_be_increasing\n  kwargs: { column: id, result_format: { result_format: COMPLETE, include_unexpected_rows: true } }',
    );
    const text = 'id\n1\n5\n3\n6\n';
    // Act
    const run = await wholeAndSharded(text, contract, [startOf(text, 'csv', 2)]);
    // Assess
    expect(run.merged).toEqual(run.whole.outcome);
    expect(run.quarantine).toBe(run.whole.quarantineText);
    expect(run.valid).toBe(run.whole.validText);
    expect(run.merged.rows).toEqual({ read: 4, valid: 3, quarantined: 1 });
    expect(run.merged.result.results[1]!.result.unexpected_rows).toEqual([{ id: 3 }]);
  });

  it('merges shards with no record: right after the header, and empty ones', async () => {
    // Prepare
    const contract = mergeContract('csv', MIXED);
    const text = render('csv', generatedRows(5, 30));
    const afterHeader = text.indexOf('\n') + 1;
    const middle = startOf(text, 'csv', 12);
    // Act
    const run = await wholeAndSharded(text, contract, [
      afterHeader,
      afterHeader,
      middle,
      middle,
      text.length,
    ]);
    // Assess
    expect(run.shards.map((s) => s.rows.read)).toEqual([0, 0, 12, 0, 18, 0]);
    expect(run.merged).toEqual(run.whole.outcome);
    expect(run.quarantine).toBe(run.whole.quarantineText);
    expect(run.valid).toBe(run.whole.validText);
  });

  it.each(['csv', 'jsonl'] as const)(
    'gives one pass’s result for a mixed %s suite: mostly, BASIC, SUMMARY, COMPLETE, warnings, CRLF lines',
    async (format) => {
      // Prepare
      const contract = mergeContract(format, MIXED);
      const text = render(format, generatedRows(11, 200), true);
      const cuts = randomCuts(random(11), recordStarts(text, format), 7);
      // Act
      const run = await wholeAndSharded(text, contract, cuts);
      // Assess
      expect(run.merged).toEqual(run.whole.outcome);
      expect(run.quarantine).toBe(run.whole.quarantineText);
      expect(run.valid).toBe(run.whole.validText);
      expect(run.whole.outcome.rows.quarantined).toBeGreaterThan(0);
      expect(run.whole.outcome.rows.valid).toBeGreaterThan(0);
    },
  );

  it('sums exactly: the sum is the correctly rounded one, in one pass and merged', async () => {
    // Prepare: adding 1 to 1e16 one at a time rounds it away; the exact sum keeps both.
    const contract = csvContract(
      'type: object\nproperties:\n  x: { type: number }',
      '- type: expect_column_sum_to_be_between\n  kwargs: { column: x, min_value: 0 }',
    );
    const text = 'x\n1e16\n1\n1\n0.1\n0.2\n';
    // Act
    const run = await wholeAndSharded(text, contract, [startOf(text, 'csv', 1), startOf(text, 'csv', 3)]);
    // Assess
    expect(run.whole.outcome.result.results[1]!.result.observed_value).toBe(10000000000000002);
    expect(run.merged).toEqual(run.whole.outcome);
  });

  it('names the whole file’s row in an aggregate’s exception from a later shard, and text mixed with numbers across shards', async () => {
    // Prepare
    const contract = mergeContract(
      'jsonl',
      `- type: expect_column_mean_to_be_between
  kwargs: { column: x, min_value: 0 }
- type: expect_column_max_to_be_between
  kwargs: { column: s, max_value: 5 }`,
    );
    const text = '{"x":1,"s":1}\n{"x":2,"s":2}\n{"x":"oops","s":"abc"}\n{"x":3,"s":"def"}\n';
    // Act
    const run = await wholeAndSharded(text, contract, [startOf(text, 'jsonl', 2)]);
    // Assess
    expect(run.merged).toEqual(run.whole.outcome);
    expect(run.merged.result.results[1]!.exception_info.exception_message).toContain('on row 3');
    expect(run.merged.result.results[2]!.exception_info.exception_message).toBe(
      'row 3: "abc" mixes text and numbers',
    );
  });

  it('quarantines a malformed row of a later shard (a JSON array, a short CSV row) under its global row', async () => {
    // Prepare
    const jsonl = mergeContract('jsonl', '[]');
    const csv = mergeContract('csv', '[]');
    const jsonText = '{"id":1}\n{"id":2}\n[1,2]\n{"id":3}\n';
    const csvText = 'id,x,y,s,d,j\n1,2,3,a,b,c\n2,2,3,a,b,c\n3,4\n';
    // Act
    const jsonRun = await wholeAndSharded(jsonText, jsonl, [startOf(jsonText, 'jsonl', 2)]);
    const csvRun = await wholeAndSharded(csvText, csv, [startOf(csvText, 'csv', 2)]);
    // Assess
    expect(jsonRun.merged).toEqual(jsonRun.whole.outcome);
    expect(jsonRun.quarantine).toBe(jsonRun.whole.quarantineText);
    expect(jsonRun.whole.quarantine[0]).toMatchObject({ row: 3, index: 2 });
    expect(csvRun.merged).toEqual(csvRun.whole.outcome);
    expect(csvRun.quarantine).toBe(csvRun.whole.quarantineText);
    expect(csvRun.whole.quarantine[0]).toMatchObject({ row: 4, index: 2 });
  });

  it('stops every shard at a header that lacks a required column, as one pass stops', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nrequired: [id, z]\nproperties:\n  id: { type: integer }\n  z: { type: integer }',
      '- type: expect_column_values_to_not_be_null\n  kwargs: { column: id }\n- type: expect_table_column_count_to_equal\n  kwargs: { value: 2 }',
    );
    const text = 'id,y\n1,2\n3,4\n';
    // Act
    const run = await wholeAndSharded(text, contract, [startOf(text, 'csv', 1)]);
    // Assess
    expect(run.merged).toEqual(run.whole.outcome);
    expect(run.merged.result.meta.stopped_early).toBeDefined();
  });
});
