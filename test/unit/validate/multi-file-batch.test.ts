import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { MalformedInput } from '../../../lambdas/shared/errors.js';
import { type ValidateInput, validateBatch } from '../../../lambdas/validate/core.js';
import type { QuarantineEntry } from '../../../lambdas/validate/engine.js';
import { MemoryStore } from '../../support/memory-store.js';

// A partner drop of several CSV files, validated as one batch by the validate step's core: each
// quarantined row names its file and its line there; GX indexes count the records of the batch.

const contract = parseContract(
  [
    'name: acme',
    'source: { type: partner-drop, prefix: landing/partners/acme/ }',
    'format: { type: csv }',
    'schema:',
    '  type: object',
    '  required: [shipment_id, weight_kg]',
    '  properties:',
    '    shipment_id: { type: string }',
    '    weight_kg: { type: number, minimum: 0 }',
    'expectations:',
    '  - { type: expect_column_values_to_be_unique, kwargs: { column: shipment_id } }',
  ].join('\n'),
  '<inline>',
);
const prefix = 'acme/dt=2026-11-25/run=r1/';

async function run(files: Record<string, string | Buffer>) {
  const store = new MemoryStore();
  const keys = Object.keys(files).map((name) => `${prefix}${name}`);
  for (const [name, text] of Object.entries(files)) await store.put('raw', `${prefix}${name}`, text);
  await store.put('raw', `${prefix}_manifest.json`, JSON.stringify({ files: keys.map((key) => ({ key })) }));
  const input: ValidateInput = {
    dataset: 'acme',
    runId: 'r1',
    dt: '2026-11-25',
    rawKey: keys[0]!,
    manifestKey: `${prefix}_manifest.json`,
  };
  const output = await validateBatch(input, { store, contracts: new Map([['acme', contract]]) });
  const quarantine = (await store.readText('quarantine', output.quarantineKey))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as QuarantineEntry);
  const report = JSON.parse(await store.readText('reports', output.reportKey)) as {
    results: Array<{
      expectation_config: { type: string };
      result: { partial_unexpected_index_list?: number[] };
    }>;
  };
  return { output, quarantine, report };
}

const failure = (files: Record<string, string | Buffer>) =>
  run(files).then(
    () => {
      throw new Error('the batch was accepted');
    },
    (error: unknown) => error as Error,
  );

describe('a batch of several CSV files', () => {
  it('reports a bad row of the second file with that file and its own line, and its index in the batch', async () => {
    // Prepare: part-2's bad row is on its line 3 (an empty line before it), the batch's 4th record
    const files = {
      'part-1.csv': 'shipment_id,weight_kg\nS1,10.5\nS2,3\n',
      'part-2.csv': 'shipment_id,weight_kg\nS3,4\n\nS4,-1\n',
    };
    // Act
    const { quarantine, report } = await run(files);
    // Assess
    expect(quarantine).toEqual([
      {
        file: 'part-2.csv',
        row: 4,
        index: 3,
        failures: [expect.objectContaining({ column: 'weight_kg', value: -1 })],
        record: { shipment_id: 'S4', weight_kg: -1 },
      },
    ]);
    const schema = report.results.find(
      (r) => r.expectation_config.type === 'expect_rows_to_match_contract_schema',
    )!;
    expect(schema.result.partial_unexpected_index_list).toEqual([3]);
  });

  it('names the file and row of the first occurrence when a value repeats one of an earlier file', async () => {
    // Act
    const { quarantine } = await run({
      'part-1.csv': 'shipment_id,weight_kg\nS1,1\nS2,2\n',
      'part-2.csv': 'shipment_id,weight_kg\nS2,5\n',
    });
    // Assess
    expect(quarantine).toEqual([
      expect.objectContaining({
        file: 'part-2.csv',
        row: 2,
        index: 2,
        failures: [
          expect.objectContaining({ reason: 'must be unique; the same value is on row 3 of part-1.csv' }),
        ],
      }),
    ]);
  });

  it('quarantines a row with a wrong field count under its own file and line', async () => {
    // Act
    const { quarantine } = await run({
      'part-1.csv': 'shipment_id,weight_kg\nS1,1',
      'part-2.csv': 'shipment_id,weight_kg\nS2,2,extra\n',
    });
    // Assess
    expect(quarantine).toEqual([
      expect.objectContaining({ file: 'part-2.csv', row: 2, index: 1, record: 'S2,2,extra' }),
    ]);
  });

  it('names the file, its line and its byte offset when the second file is not UTF-8', async () => {
    // Prepare: 0xff is the 29th byte of part-2.csv (offset 28), on its line 3
    const part2 = Buffer.concat([
      Buffer.from('shipment_id,weight_kg\nS2,2\nS'),
      Buffer.from([0xff]),
      Buffer.from(',1\n'),
    ]);
    // Act
    const error = await failure({ 'part-1.csv': 'shipment_id,weight_kg\nS1,1\n', 'part-2.csv': part2 });
    // Assess
    expect(error).toBeInstanceOf(MalformedInput);
    expect(error.message).toContain(
      `mem://raw/${prefix}part-2.csv: line 3, byte offset 28: not valid UTF-8 (0xff`,
    );
  });

  it('names the file and its own line when a quote of the second file is never closed', async () => {
    // Act
    const error = await failure({
      'part-1.csv': 'shipment_id,weight_kg\nS1,1\nS2,2\n',
      'part-2.csv': 'shipment_id,weight_kg\nS3,3\n"S4,4\n',
    });
    // Assess
    expect(error).toBeInstanceOf(MalformedInput);
    expect(error.message).toBe(
      `mem://raw/${prefix}part-2.csv: line 3: field 1 opens a quote that is never closed (the file ends inside it)`,
    );
  });
});

describe('a batch of one CSV file', () => {
  it('keeps the quarantine entry as it was: the line of the file and no file name', async () => {
    // Act
    const { quarantine } = await run({ 'part-1.csv': 'shipment_id,weight_kg\nS1,1\n\nS2,-2\n' });
    // Assess
    expect(quarantine).toEqual([
      {
        row: 4,
        index: 1,
        failures: [expect.objectContaining({ column: 'weight_kg' })],
        record: expect.anything(),
      },
    ]);
    expect(quarantine[0]).not.toHaveProperty('file');
  });
});
