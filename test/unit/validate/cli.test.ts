import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { loadContractFile } from '../../../lambdas/shared/contract.js';
import { suggestContract } from '../../../src/cli/suggest.js';
import { validateCommand } from '../../../src/cli/validate.js';

const CONTRACT = `name: people
source: { type: s3-upload, prefix: landing/people/ }
format: { type: csv }
schema:
  type: object
  required: [id]
  properties:
    id: { type: integer }
    age: { type: integer }
expectations:
  - type: expect_column_values_to_be_unique
    kwargs: { column: id }
  - type: expect_column_mean_to_be_between
    kwargs: { column: age, max_value: 50 }
`;

let dir: string;
let out: string;
let err: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  writeFileSync(join(dir, 'people.yaml'), CONTRACT);
  out = '';
  err = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('sluice validate', () => {
  it('prints a ✓/✗ line per expectation and the rows, and exits 0 when the batch would be promoted', async () => {
    // Prepare
    writeFileSync(join(dir, 'ok.csv'), 'id,age\n1,30\n2,40\n2,41\n');
    // Act
    const code = await validateCommand(join(dir, 'people.yaml'), join(dir, 'ok.csv'));
    // Assess
    expect(code).toBe(0);
    expect(out).toContain('rows read 3, valid 2, quarantined 1');
    expect(out).toMatch(/✗\s+expect_column_values_to_be_unique\s+id/);
    expect(out).toMatch(/✓\s+expect_column_mean_to_be_between\s+age/);
  });

  it('exits 1 when a batch-level expectation fails, and writes GX-shaped JSON and HTML on request', async () => {
    // Prepare
    writeFileSync(join(dir, 'old.csv'), 'id,age\n1,90\n2,80\n');
    const json = join(dir, 'r.json');
    const html = join(dir, 'r.html');
    // Act
    const code = await validateCommand(join(dir, 'people.yaml'), join(dir, 'old.csv'), {
      json,
      html,
      resultFormat: 'COMPLETE',
    });
    // Assess
    expect(code).toBe(1);
    expect(out).toContain('Would NOT be promoted');
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.results[2]).toMatchObject({ success: false, result: { observed_value: 85 } });
    expect(result.results[1].expectation_config.kwargs.result_format).toBe('COMPLETE');
    expect(readFileSync(html, 'utf8')).toContain('expect_column_mean_to_be_between');
  });

  it('writes a result without its expectation_config when the expectation says include_config: false', async () => {
    // Prepare
    mkdirSync(join(dir, 'quiet'));
    writeFileSync(
      join(dir, 'quiet', 'people.yaml'),
      CONTRACT.replace(
        'kwargs: { column: age, max_value: 50 }',
        'kwargs: { column: age, max_value: 50, include_config: false }',
      ),
    );
    writeFileSync(join(dir, 'old.csv'), 'id,age\n1,90\n2,80\n');
    const json = join(dir, 'r.json');
    const html = join(dir, 'r.html');
    // Act
    const code = await validateCommand(join(dir, 'quiet', 'people.yaml'), join(dir, 'old.csv'), {
      json,
      html,
    });
    // Assess
    expect(code).toBe(1);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.results[2]).not.toHaveProperty('expectation_config');
    expect(result.results[2]).toMatchObject({ success: false, result: { observed_value: 85 } });
    expect(result.results[1].expectation_config.type).toBe('expect_column_values_to_be_unique');
    expect(out).toMatch(/✗\s+expect_column_mean_to_be_between\s+age/);
    expect(readFileSync(html, 'utf8')).toContain('expect_column_mean_to_be_between');
  });

  it('draws a progress bar on stderr for a large file', async () => {
    // Prepare
    writeFileSync(join(dir, 'ok.csv'), 'id,age\n1,30\n2,40\n');
    // Act
    await validateCommand(join(dir, 'people.yaml'), join(dir, 'ok.csv'), { progressFrom: 1 });
    // Assess
    expect(err).toContain('100%');
  });
});

describe('sluice suggest', () => {
  it('suggests a contract that loads: types, required, ranges, small sets and keys', async () => {
    // Prepare
    const rows = Array.from(
      { length: 40 },
      (_, i) => `${i},${i % 2 === 0 ? 'a' : 'b'},${i * 1.5},${i % 3 === 0 ? '' : 'x'}`,
    );
    writeFileSync(join(dir, 'things.csv'), `id,kind,score,note\n${rows.join('\n')}\n`);
    // Act
    const yaml = await suggestContract(join(dir, 'things.csv'));
    writeFileSync(join(dir, 'things.yaml'), yaml);
    const contract = loadContractFile(join(dir, 'things.yaml'));
    // Assess
    expect(contract.schema.properties).toEqual({
      id: { type: 'integer' },
      kind: { type: 'string' },
      score: { type: 'number' },
      note: { type: 'string' },
    });
    expect(contract.schema.required).toEqual(['id', 'kind', 'score']);
    const types = contract.expectations.map((e) => `${e.type}:${String(e.kwargs.column ?? '')}`);
    expect(types).toEqual(
      expect.arrayContaining([
        'expect_column_values_to_be_unique:id',
        'expect_column_values_to_be_in_set:kind',
        'expect_column_values_to_be_between:score',
      ]),
    );
    expect(
      contract.expectations.find(
        (e) => e.type === 'expect_column_values_to_be_between' && e.kwargs.column === 'score',
      )?.kwargs,
    ).toMatchObject({
      // The observed 0 to 58.5 with a margin of a tenth of the range, rounded outward, and not
      // below 0 when no value was negative.
      min_value: 0,
      max_value: 65,
    });
  });
});
