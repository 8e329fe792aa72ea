import { describe, expect, it } from '@jest/globals';
import { MAX_JSON_DEPTH } from '../../lambdas/validate/jsonl-reader.js';
import { contractFrom, validate } from '../unit/validate/support.js';

// Hostile JSON Lines through the validation engine.

const contract = (properties: string, extra = '') =>
  contractFrom(`name: events
source: { type: s3-upload, prefix: landing/events/ }
format: { type: jsonl }
schema:
  type: object
  properties: ${properties}
${extra}
expectations: []
`);

describe('corpus: JSON Lines keys that name prototypes', () => {
  it('keeps __proto__, constructor and prototype as data and pollutes no prototype', async () => {
    // Prepare
    const line =
      '{"id":1,"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":3}';
    // Act
    const run = await validate(`${line}\n`, contract('{ id: { type: integer } }'));
    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(run.validText).toBe(`${line}\n`);
    expect(Object.hasOwn(run.valid[0]!, '__proto__')).toBe(true);
  });

  it('checks a __proto__ key against the schema like any other key', async () => {
    // Act
    const run = await validate(
      '{"id":1,"__proto__":{"polluted":"yes"}}\n',
      contract('{ id: { type: integer } }', '  additionalProperties: false'),
    );
    // Assess
    expect(run.quarantine[0]?.failures[0]).toMatchObject({
      column: '__proto__',
      reason: "must NOT have additional properties ('__proto__')",
    });
    expect(run.quarantine[0]?.record).toEqual(JSON.parse('{"id":1,"__proto__":{"polluted":"yes"}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('corpus: JSON Lines nested 10,000 deep', () => {
  it.each([
    ['arrays', `{"id":1,"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
    ['objects', `{"id":1,"deep":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`],
  ])('quarantines a record of nested %s as too deep, and reads on', async (_kind, deep) => {
    // Act
    const run = await validate(`${deep}\n{"id":2}\n`, contract('{ id: { type: integer } }'));
    // Assess
    expect(run.valid).toEqual([{ id: 2 }]);
    expect(run.quarantine[0]).toMatchObject({ row: 1, record: deep });
    expect(run.quarantine[0]?.failures[0]?.reason).toMatch(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('keeps a record nested exactly as deep as allowed', async () => {
    // Prepare
    const deep = `{"id":1,"deep":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    // Act
    const run = await validate(`${deep}\n`, contract('{ id: { type: integer } }'));
    // Assess
    expect(run.validText).toBe(`${deep}\n`);
  });
});

describe('corpus: JSON Lines numbers a 64-bit float cannot hold', () => {
  it.each([
    [
      '12345678901234567890',
      'a whole number beyond ±2^53 that a 64-bit float cannot hold (it would be written as 12345678901234567000)',
    ],
    [
      '9007199254740993',
      'a whole number beyond ±2^53 that a 64-bit float cannot hold (it would be written as 9007199254740992)',
    ],
    ['1e999', 'beyond the range of a 64-bit float (it would be read as infinity)'],
    ['-1e999', 'beyond the range of a 64-bit float (it would be read as infinity)'],
    ['1e-999', 'too small for a 64-bit float (it would be read as 0)'],
  ])('quarantines %s rather than writing another number', async (number, problem) => {
    // Prepare
    const line = `{"id":1,"n":${number}}`;
    // Act
    const run = await validate(`${line}\n`, contract('{ id: { type: integer } }'));
    // Assess
    expect(run.valid).toEqual([]);
    expect(run.quarantine[0]?.record).toBe(line);
    expect(run.quarantine[0]?.failures[0]?.reason).toBe(
      `the number ${number} (column 13) is ${problem}; write it as a string to keep it exactly`,
    );
  });

  it('writes numbers a float holds exactly as written, and the same digits in a string as text', async () => {
    // Prepare
    const lines = [
      '{"id":1,"n":9007199254740992}',
      '{"id":2,"n":18014398509481984}',
      '{"id":3,"n":-9007199254740991}',
      '{"id":4,"n":1.7976931348623157e308}',
      '{"id":5,"n":"12345678901234567890","e":"1e999"}',
    ];
    // Act
    const run = await validate(`${lines.join('\n')}\n`, contract('{ id: { type: integer } }'));
    // Assess
    expect(run.quarantine).toEqual([]);
    expect(run.valid.map((r) => r.n)).toEqual([
      9007199254740992,
      18014398509481984,
      -9007199254740991,
      1.7976931348623157e308,
      '12345678901234567890',
    ]);
  });
});
