import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { costInputs, runsPerDayOf, shardSizesFor } from '../../../src/cli/cost.js';

const ordersYaml = readFileSync(
  join(import.meta.dirname, '..', '..', '..', 'datasets', 'orders.yaml'),
  'utf8',
);
const orders = (schedule?: string) =>
  parseContract(
    schedule ? ordersYaml.replace(/^schedule: null$/m, `schedule: "${schedule}"`) : ordersYaml,
    'orders.yaml',
  );

describe('runs a day of a schedule', () => {
  it('divides the day by a rate and counts a cron over a week', () => {
    // Act, Assess
    expect(runsPerDayOf('rate(15 minutes)')).toBe(96);
    expect(runsPerDayOf('rate(2 days)')).toBe(0.5);
    expect(runsPerDayOf('cron(0 6 * * ? *)')).toBe(1);
    expect(runsPerDayOf('cron(0 6 ? * MON-FRI *)')).toBeCloseTo(5 / 7, 12);
  });
});

describe('the inputs of the cost model', () => {
  it('take the batch from the run records when no option gives it, and say so', () => {
    // Act
    const { inputs, assumptions } = costInputs(
      orders(),
      {},
      {
        runs: 2,
        bytes: 2_000,
        rows: 20,
        files: 1,
        quarantineShare: 0.1,
        validatedRatio: 2,
      },
    );
    // Assess
    expect([inputs.bytes, inputs.rows, inputs.quarantineShare, inputs.validatedRatio]).toEqual([
      2_000, 20, 0.1, 2,
    ]);
    expect(assumptions).toContainEqual({
      name: 'bytes per batch',
      value: 2_000,
      from: 'mean of 2 run records in the lake',
    });
  });

  it("derive rows from --bytes at the records' bytes per row", () => {
    // Act
    const { inputs } = costInputs(orders(), { bytes: '5000' }, { runs: 1, bytes: 2_000, rows: 20 });
    // Assess
    expect([inputs.bytes, inputs.rows]).toEqual([5_000, 50]);
  });

  it('take runs a day from the schedule, shards from the default, and options over both', () => {
    // Act
    const scheduled = costInputs(orders('rate(1 hour)'), {}, { runs: 0 }).inputs;
    const given = costInputs(orders('rate(1 hour)'), { runsPerDay: '2', shardMb: '64' }, { runs: 0 }).inputs;
    // Assess
    expect([scheduled.runsPerDay, scheduled.shardMb]).toEqual([24, 256]);
    expect([given.runsPerDay, given.shardMb]).toEqual([2, 64]);
  });

  it('refuses a count that is not a positive whole number', () => {
    // Act, Assess
    expect(() => costInputs(orders(), { files: '1.5' }, { runs: 0 })).toThrow(
      "--files must be a whole number greater than 0, not '1.5'",
    );
    expect(() => costInputs(orders(), { runsPerDay: '0' }, { runs: 0 })).toThrow(
      /--runs-per-day must be a number/,
    );
  });
});

describe('the shard sizes compared', () => {
  it('are 64, 256 and 1024 MiB and the costed one, in order', () => {
    // Act, Assess
    expect(shardSizesFor(256)).toEqual([64, 256, 1024]);
    expect(shardSizesFor(95.37)).toEqual([64, 95.37, 256, 1024]);
  });
});
