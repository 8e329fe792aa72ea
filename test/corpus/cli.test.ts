import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readWithPyarrow } from '../support/pyarrow.js';
import { datasetsWith, filesUnder, sluice, tempDir } from './support.js';

// A handful of the corpus through the CLI, as a user meets it: `sluice validate` and `sluice run --input`.

describe('corpus through sluice validate', () => {
  it('names an unclosed quote as MalformedInput with its line', () => {
    // Prepare
    const { contract } = datasetsWith('events', '{ type: csv }', '{ id: { type: string } }');
    const file = join(tempDir('input'), 'events.csv');
    writeFileSync(file, 'id,name\n1,"open\n2,b\n');
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('MalformedInput');
    expect(result.stderr).toContain('line 2: field 2 opens a quote that is never closed');
  });

  it('names a file whose lines end in CR alone as MalformedInput instead of reading no rows', () => {
    // Prepare
    const { contract } = datasetsWith('events', '{ type: csv }', '{ id: { type: string } }');
    const file = join(tempDir('input'), 'events.csv');
    writeFileSync(file, 'id,name\r1,a\r2,b\r');
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('MalformedInput');
    expect(result.stderr).toContain('the header holds a carriage return (CR) that does not end a line');
  });

  it('quarantines a 10,000-deep record and an inexact number, keeps __proto__ as data, and exits without a crash', () => {
    // Prepare
    const { contract } = datasetsWith('events', '{ type: jsonl }', '{ id: { type: integer } }');
    const dir = tempDir('input');
    const file = join(dir, 'events.jsonl');
    const json = join(dir, 'result.json');
    writeFileSync(
      file,
      [
        '{"id":1,"__proto__":{"polluted":true}}',
        `{"id":2,"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
        '{"id":12345678901234567890}',
      ].join('\n'),
    );
    // Act
    const result = sluice(['validate', '--json', json, contract, file]);
    // Assess
    expect(result.signal).toBeNull();
    expect(result.stderr).not.toMatch(/RangeError|InternalError/);
    const schema = JSON.parse(readFileSync(json, 'utf8')).results[0].result;
    expect(schema.unexpected_count).toBe(2);
    expect(schema.partial_unexpected_list.map((u: { problem: string }) => u.problem)).toEqual([
      expect.stringContaining('nested deeper than 1000 levels'),
      expect.stringContaining('the number 12345678901234567890 (column 7) is a whole number beyond ±2^53'),
    ]);
    expect(result.stdout).toContain('rows read 3, valid 1, quarantined 2');
  });
});

describe('corpus through sluice run --input', () => {
  it('lands a file with a hostile name inside its run folder and curates formula values as data', () => {
    // Prepare
    const { dir: datasets } = datasetsWith(
      'orders',
      '{ type: csv }',
      '{ id: { type: string }, note: { type: string } }',
    );
    const lake = tempDir('lake');
    const input = join(tempDir('input'), '%2e%2e ünï <script>.csv');
    const formulas = ["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1:A2)'];
    writeFileSync(input, `id,note\n${formulas.map((f, i) => `${i},"${f}"`).join('\n')}\n`);
    // Act
    const result = sluice(['--lake', lake, '--datasets', datasets, 'run', 'orders', '--input', input]);
    // Assess
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.status).toBe(0);
    const raw = filesUnder(join(lake, 'lake', 'raw'));
    expect(raw).toEqual([
      expect.stringMatching(/^orders\/dt=[\d-]+\/run=[0-9a-f]{16}\/_2e_2e_\w+_+script_\.csv$/),
      expect.stringMatching(/^orders\/dt=[\d-]+\/run=[0-9a-f]{16}\/_manifest\.json$/),
    ]);
    const [curated] = filesUnder(join(lake, 'lake', 'curated')).filter((file) =>
      file.endsWith('part-00000.parquet'),
    );
    const [read] = readWithPyarrow(join(lake, 'lake', 'curated', curated!));
    expect(read!.rows).toEqual(formulas.map((note, i) => ({ id: `${i}`, note })));
  });
});
