import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readWithPyarrow } from '../support/pyarrow.js';

// `sluice suggest` and `sluice validate` as a user runs them: the real CLI, files in a temporary folder.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'sluice-suggest-cli-'));
}

/** `sluice suggest file > contract`, as a shell would: stdout into the file. */
function suggestInto(contract: string, args: string[]) {
  const result = sluice(['suggest', ...args]);
  writeFileSync(contract, result.stdout);
  return result;
}

/** The curated rows of a lake as JSON Lines, read back from its Parquet parts with pyarrow. */
function curatedText(lake: string): string {
  const dir = join(lake, 'lake', 'curated');
  const parts = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.parquet'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  return readWithPyarrow(...parts)
    .flatMap((file) => file.rows.map((row) => `${JSON.stringify(row)}\n`))
    .join('');
}

describe('sluice suggest, then validate and run', () => {
  it('keeps codes with leading zeros as text: curated holds 02134 and 00501 after sluice run', () => {
    // Prepare
    const dir = workdir();
    const datasets = join(dir, 'datasets');
    mkdirSync(datasets);
    const input = join(dir, 'zips.csv');
    writeFileSync(input, 'zip,city\n02134,Boston\n00501,Holtsville\n10001,New York\n');
    // Act
    const suggested = suggestInto(join(datasets, 'zips.yaml'), [input]);
    const run = sluice([
      '--datasets',
      datasets,
      '--lake',
      join(dir, 'lake'),
      'run',
      'zips',
      '--input',
      input,
    ]);
    // Assess
    expect(suggested.status).toBe(0);
    expect(run.status).toBe(0);
    expect(curatedText(join(dir, 'lake'))).toBe(
      '{"zip":"02134","city":"Boston"}\n{"zip":"00501","city":"Holtsville"}\n{"zip":"10001","city":"New York"}\n',
    );
  });

  it.each([
    [
      'strings of digits, "" and nulls in JSON Lines',
      'e.jsonl',
      '{"id":"1","n":""}\n{"id":"2","n":null}\n{"id":"3"}\n',
    ],
    [
      'a JSON array whose titles are sometimes numbers',
      'movies.json',
      JSON.stringify(
        Array.from({ length: 40 }, (_, i) => ({
          Title: i % 10 === 0 ? 1984 + i : `Movie ${i}`,
          Year: 1990 + i,
        })),
        null,
        2,
      ),
    ],
    [
      'a CSV of mixed text and numbers, unicode and quotes',
      'm.csv',
      'a,b\n1,Zürich\nx,"say ""hi"", ok"\n1.50,東京\n',
    ],
  ])('validates its own input with 0 quarantined: %s', (_what, name, text) => {
    // Prepare
    const dir = workdir();
    const input = join(dir, name);
    writeFileSync(input, text);
    const contract = join(dir, 'c.yaml');
    // Act
    const suggested = suggestInto(contract, [input]);
    const validated = sluice(['validate', contract, input]);
    // Assess
    expect(suggested.status).toBe(0);
    expect(validated.stdout).toMatch(/quarantined 0\n/);
    expect(validated.stdout).toContain('Would be promoted.');
    expect(validated.status).toBe(0);
  });

  it('detects a semicolon delimiter, says which one on stderr, and the contract validates the file', () => {
    // Prepare
    const dir = workdir();
    const input = join(dir, 'prices.csv');
    writeFileSync(input, 'id;price;city\n1;1,50;Köln\n2;2,25;Lyon\n');
    const contract = join(dir, 'prices.yaml');
    // Act
    const suggested = suggestInto(contract, [input]);
    const validated = sluice(['validate', contract, input]);
    // Assess
    expect(suggested.stderr).toContain("read prices.csv as CSV delimited by ';'");
    expect(suggested.stdout).toContain('delimiter: ;');
    expect(validated.stdout).toContain('rows read 2, valid 2, quarantined 0');
    expect(validated.status).toBe(0);
  });

  it('makes a name sluice check accepts from a file name with spaces', () => {
    // Prepare
    const dir = workdir();
    const input = join(dir, 'My Penguins 2026.csv');
    writeFileSync(input, 'species,mass\nAdelie,3750\nGentoo,5000\n');
    const contract = join(dir, 'my-penguins-2026.yaml');
    // Act
    const suggested = suggestInto(contract, [input]);
    const checked = sluice(['check', contract]);
    // Assess
    expect(suggested.stdout).toMatch(/^name: my-penguins-2026$/m);
    expect(checked.stdout).toContain('1 contract OK');
    expect(checked.status).toBe(0);
  });
});

describe('sluice suggest usage errors exit 2', () => {
  it('refuses --format xml, naming the formats it reads', () => {
    // Prepare
    const dir = workdir();
    writeFileSync(join(dir, 'a.xml'), '<a/>');
    // Act
    const result = sluice(['suggest', join(dir, 'a.xml'), '--format', 'xml']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      "--format must be csv, jsonl (JSON Lines) or json (a JSON array of records), got 'xml'",
    );
  });

  it('refuses --name "My Penguins", saying what names are allowed', () => {
    // Prepare
    const dir = workdir();
    writeFileSync(join(dir, 'p.csv'), 'a\n1\n');
    // Act
    const result = sluice(['suggest', join(dir, 'p.csv'), '--name', 'My Penguins']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /--name 'My Penguins' is not a dataset name: a name has lower-case letters, digits, '-' and '_', starts with a letter/,
    );
  });
});

describe('JSON arrays are format json, the same in suggest, validate and run', () => {
  const array = JSON.stringify(
    [
      { id: 1, kind: 'a' },
      { id: 2, kind: 'b' },
    ],
    null,
    2,
  );
  const jsonlContract = [
    'name: events',
    'source: { type: s3-upload, prefix: landing/events/ }',
    'format: { type: jsonl }',
    'schema: { type: object, properties: { id: { type: integer }, kind: { type: string } } }',
    '',
  ].join('\n');

  it('sluice validate refuses a JSON array with a JSON Lines contract, saying what it is and what to do', () => {
    // Prepare
    const dir = workdir();
    writeFileSync(join(dir, 'events.json'), array);
    writeFileSync(join(dir, 'events.yaml'), jsonlContract);
    // Act
    const result = sluice(['validate', join(dir, 'events.yaml'), join(dir, 'events.json')]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      'MalformedInput: ' + join(dir, 'events.json') + ': line 1: this is a JSON array, not JSON Lines',
    );
    expect(result.stderr).toContain('declare format { type: json }');
  });

  it('sluice run fails with MalformedInput on a JSON array for a JSON Lines contract, and promotes it with format json', () => {
    // Prepare
    const dir = workdir();
    const input = join(dir, 'events.json');
    writeFileSync(input, array);
    const jsonl = join(dir, 'jsonl');
    const json = join(dir, 'json');
    mkdirSync(jsonl);
    mkdirSync(json);
    writeFileSync(join(jsonl, 'events.yaml'), jsonlContract);
    writeFileSync(join(json, 'events.yaml'), jsonlContract.replace('{ type: jsonl }', '{ type: json }'));
    // Act
    const refused = sluice(['--datasets', jsonl, '--lake', join(dir, 'lake1'), 'run', 'events', '-i', input]);
    const promoted = sluice(['--datasets', json, '--lake', join(dir, 'lake2'), 'run', 'events', '-i', input]);
    // Assess
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/Run failed: MalformedInput/);
    expect(promoted.status).toBe(0);
    expect(curatedText(join(dir, 'lake2'))).toBe('{"id":1,"kind":"a"}\n{"id":2,"kind":"b"}\n');
  });
});

describe('a contract whose name differs from its file name', () => {
  it('is a warning on stderr for sluice validate, and refused by sluice check and sluice run', () => {
    // Prepare
    const dir = workdir();
    const datasets = join(dir, 'datasets');
    mkdirSync(datasets);
    const input = join(dir, 'orders.csv');
    writeFileSync(input, 'id\n1\n2\n');
    const contract = join(datasets, 'suite.yaml');
    writeFileSync(
      contract,
      'name: orders\nsource: { type: s3-upload, prefix: landing/orders/ }\nformat: { type: csv }\n' +
        'schema: { type: object, properties: { id: { type: integer } } }\n',
    );
    // Act
    const validated = sluice(['validate', contract, input]);
    const checked = sluice(['check', contract]);
    const run = sluice(['--datasets', datasets, '--lake', join(dir, 'lake'), 'run', 'orders', '-i', input]);
    // Assess
    expect(validated.status).toBe(0);
    expect(validated.stderr).toContain(
      `sluice: warning: ${contract}: dataset name 'orders' must match the file name 'suite'`,
    );
    expect(checked.status).not.toBe(0);
    expect(checked.stderr).toContain("dataset name 'orders' must match the file name 'suite'");
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("dataset name 'orders' must match the file name 'suite'");
  });
});
