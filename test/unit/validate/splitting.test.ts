import { describe, expect, it } from '@jest/globals';
import { random } from '../../support/random.js';
import { csvContract, pieces, validate } from './support.js';

const HEADER = 'id,name,amount,status';

/** The text of `count` rows: mostly fine, some with quoted line breaks, nulls, bad values, wrong field counts. */
function rows(count: number, seed: number): string[] {
  const next = random(seed);
  const statuses = ['paid', 'open', 'lost', ''];
  return Array.from({ length: count }, (_, i) => {
    const r = next();
    const id = r < 0.05 && i > 0 ? String(i - 1) : String(i);
    const name = r < 0.1 ? `"Ann ""the"" é,\nSecond line"` : r < 0.15 ? '' : `name${i}`;
    const amount = r > 0.9 ? 'lots' : r > 0.85 ? '-5' : (next() * 100).toFixed(2);
    const status = statuses[Math.floor(next() * statuses.length)];
    const row = `${id},${name},${amount},${status}`;
    return r > 0.97 ? `${row},extra` : row;
  });
}

const SCHEMA = `type: object
required: [id, amount]
properties:
  id: { type: integer }
  name: { type: string }
  amount: { type: number, minimum: 0 }
  status: { type: string }`;

const ROW_EXPECTATIONS = `- type: expect_column_values_to_not_be_null
  kwargs: { column: name }
- type: expect_column_values_to_be_between
  kwargs: { column: amount, max_value: 90 }
- type: expect_column_values_to_be_in_set
  kwargs: { column: status, value_set: [paid, open] }
  severity: warning
- type: expect_column_values_to_match_regex
  kwargs: { column: name, regex: "^[a-z]" }`;

const WHOLE_FILE_EXPECTATIONS = `${ROW_EXPECTATIONS}
- type: expect_column_values_to_be_unique
  kwargs: { column: id }
- type: expect_table_row_count_to_be_between
  kwargs: { min_value: 1 }`;

describe('validating a file in pieces', () => {
  it('gives the same outputs and result however the bytes are cut into chunks', async () => {
    // Prepare
    const contract = csvContract(SCHEMA, WHOLE_FILE_EXPECTATIONS);
    const bytes = Buffer.from(`\uFEFF${HEADER}\r\n${rows(300, 7).join('\r\n')}\r\n`);
    const whole = await validate(bytes, contract);
    const cuttings = [[1], [2, 3, 5], [7, 64, 1], [4096], [13, 1, 1, 200]];
    // Act
    const runs = await Promise.all(cuttings.map((sizes) => validate(pieces(bytes, sizes), contract)));
    // Assess
    for (const run of runs) {
      expect(run.validText).toBe(whole.validText);
      expect(run.quarantineText).toBe(whole.quarantineText);
      expect(run.outcome).toEqual(whole.outcome);
    }
  });

  it('puts every record read in exactly one output', async () => {
    // Prepare
    const contract = csvContract(SCHEMA, WHOLE_FILE_EXPECTATIONS);
    const csv = `${HEADER}\n${rows(500, 11).join('\n')}\n`;
    // Act
    const run = await validate(csv, contract);
    // Assess
    const { read, valid, quarantined } = run.outcome.rows;
    expect([valid + quarantined, run.valid.length, run.quarantine.length]).toEqual([
      read,
      valid,
      quarantined,
    ]);
    expect(read).toBe(500);
    expect(new Set(run.quarantine.map((q) => q.index)).size).toBe(quarantined);
  });

  it('classifies each row the same when every row is validated as a file of its own', async () => {
    // Prepare: only row-level expectations, which do not depend on other rows.
    const contract = csvContract(SCHEMA, ROW_EXPECTATIONS);
    const all = rows(200, 23);
    const whole = await validate(`${HEADER}\n${all.join('\n')}\n`, contract);
    // Act
    const single = await Promise.all(all.map((row) => validate(`${HEADER}\n${row}\n`, contract)));
    // Assess
    expect(single.map((run) => run.validText).join('')).toBe(whole.validText);
    expect(single.flatMap((run) => run.quarantine.map((q) => [q.failures, q.record]))).toEqual(
      whole.quarantine.map((q) => [q.failures, q.record]),
    );
  });
});
