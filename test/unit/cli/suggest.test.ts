import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { ConfigurationError, MalformedInput } from '../../../lambdas/shared/errors.js';
import { validateStream } from '../../../lambdas/validate/engine.js';
import { csvCellType } from '../../../src/cli/column-profile.js';
import { nameFrom, suggest, suggestContract } from '../../../src/cli/suggest.js';
import { validateCommand } from '../../../src/cli/validate.js';
import { random } from '../../support/random.js';

const root = join(import.meta.dirname, '..', '..', '..');

let dir: string;
let err: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-suggest-'));
  err = '';
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * Suggests a contract for `path`, saves it under its dataset name and validates `path` with it as
 * `sluice validate` does; returns the exit code and the GX-shaped result.
 */
async function suggestThenValidate(path: string) {
  const yaml = await suggestContract(path);
  const name = parseContract(yaml, '<inline>').name;
  const contractFile = join(dir, `${name}.yaml`);
  writeFileSync(contractFile, yaml);
  const json = join(dir, `${name}.result.json`);
  const code = await validateCommand(contractFile, path, { json });
  const result = JSON.parse(readFileSync(json, 'utf8'));
  return { code, result, yaml };
}

/** The valid records the engine writes for a CSV file with a suggested contract, as JSON texts. */
async function validatedCsv(path: string): Promise<string[]> {
  const contract = parseContract(await suggestContract(path), '<inline>');
  let text = '';
  const valid = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  await validateStream(Readable.from([readFileSync(path)]), contract, { valid });
  return text.split('\n').filter(Boolean);
}

describe('csvCellType', () => {
  it.each([
    ['02134', 'string'],
    ['00501', 'string'],
    ['1.50', 'string'],
    ['+3', 'string'],
    ['1e3', 'string'],
    [' 7', 'string'],
    ['7 ', 'string'],
    ['007.5', 'string'],
    ['-0', 'string'],
    ['.5', 'string'],
    ['9007199254740993', 'string'],
    ['123456789012345678901234567890', 'string'],
    ['TRUE', 'string'],
    ['True', 'string'],
    ['0', 'integer'],
    ['-42', 'integer'],
    ['9007199254740991', 'integer'],
    ['1.5', 'number'],
    ['-0.25', 'number'],
    ['true', 'boolean'],
    ['false', 'boolean'],
  ])('types %j as %s: a number or boolean only when written back as the same text', (cell, type) => {
    expect(csvCellType(cell)).toBe(type);
  });

  it('reads an empty cell as null, as the validator does', () => {
    expect(csvCellType('')).toBeUndefined();
  });
});

describe('sluice suggest on CSV', () => {
  it('keeps a column of codes with leading zeros as strings, and the validated rows hold them unchanged', async () => {
    // Prepare
    const path = file('codes.csv', 'zip,n\n02134,1\n00501,2\n10001,3\n');
    // Act
    const contract = parseContract(await suggestContract(path), '<inline>');
    const rows = await validatedCsv(path);
    // Assess
    expect(contract.schema.properties.zip).toEqual({ type: 'string' });
    expect(contract.schema.properties.n).toEqual({ type: 'integer' });
    expect(rows).toEqual(['{"zip":"02134","n":1}', '{"zip":"00501","n":2}', '{"zip":"10001","n":3}']);
  });

  it('types a column as text when one of its cells would not survive a number round trip', async () => {
    // Prepare
    const path = file('prices.csv', 'a,b,c,d\n1.5,1,true,1\n1.50,+3,TRUE,9007199254740993\n');
    // Act
    const contract = parseContract(await suggestContract(path), '<inline>');
    // Assess
    expect(contract.schema.properties).toEqual({
      a: { type: 'string' },
      b: { type: 'string' },
      c: { type: 'string' },
      d: { type: 'string' },
    });
  });

  it('detects a semicolon delimiter, says so, and writes it in the contract', async () => {
    // Prepare
    const path = file('eu.csv', 'id;price;city\n1;1,5;Köln\n2;2,25;Lyon\n');
    // Act
    const { yaml, notes } = await suggest(path);
    // Assess
    const contract = parseContract(yaml, '<inline>');
    expect(contract.format).toMatchObject({ type: 'csv', delimiter: ';' });
    expect(Object.keys(contract.schema.properties)).toEqual(['id', 'price', 'city']);
    expect(notes.join('\n')).toContain("delimited by ';' (detected; --delimiter sets it)");
  });

  it('detects a tab delimiter', async () => {
    // Prepare
    const path = file('t.txt', 'a\tb\n1\tx, y\n2\tz\n');
    // Act
    const contract = parseContract(await suggestContract(path), '<inline>');
    // Assess
    expect(contract.format).toMatchObject({ type: 'csv', delimiter: '\t' });
  });

  it('uses the delimiter given, tab spelled as tab', async () => {
    // Prepare
    const path = file('p.csv', 'a|b,c\n1|2,3\n');
    // Act
    const contract = parseContract(await suggestContract(path, { delimiter: '|' }), '<inline>');
    const tabs = parseContract(await suggestContract(path, { delimiter: 'tab' }), '<inline>');
    // Assess
    expect(Object.keys(contract.schema.properties)).toEqual(['a', 'b,c']);
    expect(tabs.format).toMatchObject({ delimiter: '\t' });
  });

  it('refuses a delimiter of more than one character as a usage error', async () => {
    const path = file('p.csv', 'a,b\n1,2\n');
    await expect(suggestContract(path, { delimiter: ';;' })).rejects.toThrow(ConfigurationError);
  });

  it('refuses a file that is not UTF-8, as the validator does', async () => {
    // Prepare
    const path = file('bad.csv', Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]));
    // Act / Assess
    await expect(suggestContract(path)).rejects.toThrow(MalformedInput);
    await expect(suggestContract(path)).rejects.toThrow(/byte offset 2: not valid UTF-8/);
  });

  it('refuses a header that names a column twice, as the validator does', async () => {
    const path = file('twice.csv', 'a,a\n1,2\n');
    await expect(suggestContract(path)).rejects.toThrow(/names column 'a' twice/);
  });

  it('tells about rows it could not read, which validation quarantines', async () => {
    // Prepare
    const path = file('short.csv', 'a,b\n1,2\n3\n');
    // Act
    const { notes } = await suggest(path);
    // Assess
    expect(notes.join('\n')).toMatch(/1 row of short\.csv could not be read .*line 3: the row has 1 fields/);
  });
});

describe('sluice suggest on JSON', () => {
  it('keeps strings holding digits or true as strings, and counts "" as a string, not a null', async () => {
    // Prepare
    const path = file('e.jsonl', '{"id":"1","ok":"true","note":""}\n{"id":"2","ok":"false","note":"x"}\n');
    // Act
    const contract = parseContract(await suggestContract(path), '<inline>');
    // Assess
    expect(contract.schema.properties).toEqual({
      id: { type: 'string' },
      ok: { type: 'string' },
      note: { type: 'string' },
    });
    expect(contract.schema.required).toEqual(['id', 'ok', 'note']);
  });

  it('gives a column of several JSON types a type list that accepts every value', async () => {
    // Prepare: 9 of 300 titles are numbers, as in a well-known movies.json
    const movies = Array.from({ length: 300 }, (_, i) => ({
      Title: i % 33 === 0 && i < 297 ? 1984 + i : `Movie ${i}`,
      Year: i % 7 === 0 ? null : 1990 + (i % 30),
      Rating: i % 2 === 0 ? 7 : 6.5,
    }));
    const path = file('movies.json', JSON.stringify(movies, null, 2));
    // Act
    const { code, result, yaml } = await suggestThenValidate(path);
    // Assess
    const contract = parseContract(yaml, '<inline>');
    expect(contract.format).toEqual({
      type: 'jsonl',
      encoding: 'utf-8',
      documents: {},
      max_record_bytes: 8 * 1024 * 1024,
    });
    expect(contract.schema.properties).toEqual({
      Title: { type: ['string', 'integer'] },
      Year: { type: 'integer' },
      Rating: { type: 'number' },
    });
    expect(code).toBe(0);
    expect(result.meta.rows).toEqual({ read: 300, valid: 300, quarantined: 0 });
  });

  it('reads a file starting with [ as a JSON array (format json) and says so', async () => {
    // Prepare
    const path = file('a.txt', '[{"a":1},{"a":2}]');
    // Act
    const { yaml, notes } = await suggest(path);
    // Assess
    expect(parseContract(yaml, '<inline>').format).toMatchObject({ documents: {} });
    expect(notes.join('\n')).toContain('as a JSON array of records (format json');
  });

  it('refuses a JSON array read as JSON Lines with the error the validator gives', async () => {
    const path = file('a.json', '[\n  {"a": 1}\n]\n');
    await expect(suggestContract(path, { format: 'jsonl' })).rejects.toThrow(
      /line 1: this is a JSON array, not JSON Lines .*format \{ type: json \}/,
    );
  });

  it('refuses a --format it does not read as a usage error', async () => {
    const path = file('a.xml', '<a/>');
    await expect(suggestContract(path, { format: 'xml' })).rejects.toThrow(
      /--format must be csv, jsonl .* or json .*, got 'xml'/,
    );
  });
});

describe('dataset names', () => {
  it('refuses a --name the contract could not have, saying what names are allowed', async () => {
    // Prepare
    const path = file('p.csv', 'a\n1\n');
    // Act / Assess
    await expect(suggestContract(path, { name: 'My Penguins' })).rejects.toThrow(
      /--name 'My Penguins' is not a dataset name: a name has lower-case letters, digits, '-' and '_', starts with a letter .*e\.g\. --name my-penguins/,
    );
  });

  it.each([
    ['My Penguins (2026)', 'my-penguins-2026'],
    ['2026 sales', 'dataset-2026-sales'],
    ['Pingüinos', 'pinguinos'],
    ['___', 'dataset'],
    ['x'.repeat(80), 'x'.repeat(63)],
  ])('makes a valid name from the file name %j', (text, name) => {
    expect(nameFrom(text)).toBe(name);
    expect(() =>
      parseContract(
        `name: ${name}\nsource: { type: s3-upload, prefix: landing/x/ }\nformat: { type: csv }\nschema: { type: object, properties: { a: { type: string } } }\n`,
        '<inline>',
      ),
    ).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Property: for every file, the suggested contract validates the file it was suggested from,
// with nothing quarantined, and a CSV file's validated values are its cells unchanged.
// ---------------------------------------------------------------------------------------------

/** Cell texts for generated CSV columns, among them the ones a number round trip would change. */
const CSV_CELLS: string[][] = [
  ['02134', '00501', '10001', '0'],
  ['1.50', '2', '3.25', '007.5'],
  ['+3', '1e3', ' 7', '-0', '12'],
  ['9007199254740993', '123456789012345678901234567890', '1'],
  ['true', 'false'],
  ['true', 'FALSE', 'True'],
  ['1', '2', '3', '-4', '9007199254740991'],
  ['1.5', '-0.25', '3', '1000000'],
  ['2026-01-05', '2026-12-31', '1999-02-28'],
  ['2026-01-05T10:00:00Z', '2026-01-05 10:00'],
  ['Zürich', '東京', '🙂 ok', 'naïve "quoted", text', 'line\nbreak'],
  ['red', 'green', 'blue'],
  ['a', '1', 'true', '1.5'],
  ['NaN', 'Infinity', '0x1F', '1_000'],
];

/** JSON values for generated JSON columns: digits in strings, mixed types, "", nulls, nesting. */
const JSON_VALUES: unknown[][] = [
  ['1', '2', '02134'],
  ['true', 'false'],
  [1, '1', 'one'],
  ['', 'x', null],
  [true, false, null],
  [1, 2.5, -3],
  [2 ** 53, 1],
  [{ a: 1 }, [1, 2], 'x'],
  ['2026-01-05', '2026-01-05T10:00:00Z'],
  ['Zürich', '東京', '🙂'],
  [null],
  [1, true, 'a', { b: [] }],
];

function csvField(text: string): string {
  return /[",\n\r]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

function generatedCsv(seed: number): string {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const columns = Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(CSV_CELLS));
  const nullShare = next() < 0.5 ? 0 : 0.2;
  const rows = Array.from({ length: 1 + Math.floor(next() * 40) }, () =>
    columns.map((cells) => (next() < nullShare ? '' : csvField(pick(cells)))).join(','),
  );
  return `${columns.map((_, c) => `c${c}`).join(',')}\n${rows.join('\n')}\n`;
}

function generatedRecords(seed: number): Record<string, unknown>[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const columns = Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(JSON_VALUES));
  return Array.from({ length: 1 + Math.floor(next() * 40) }, () => {
    const record: Record<string, unknown> = {};
    columns.forEach((values, c) => {
      if (next() < 0.1) return; // an absent key
      record[`k${c}`] = pick(values);
    });
    return record;
  });
}

const SEEDS = Array.from({ length: 25 }, (_, i) => i + 1);

describe('a suggested contract validates its own input', () => {
  const fixtures = [
    ...readdirSync(join(root, 'test', 'fixtures', 'files')).map((f) => join('test', 'fixtures', 'files', f)),
    ...readdirSync(join(root, 'examples')).map((f) => join('examples', f)),
  ].filter((f) => !f.endsWith('not-utf8.csv'));

  it.each(fixtures)('%s: validated with 0 quarantined', async (fixture) => {
    // Prepare
    const path = join(dir, basename(fixture));
    copyFileSync(join(root, fixture), path);
    // Act
    const { code, result } = await suggestThenValidate(path);
    // Assess
    expect(result.meta.rows.quarantined).toBe(0);
    expect(result.success).toBe(true);
    expect(code).toBe(0);
  });

  it('test/fixtures/files/not-utf8.csv: refused by suggest with MalformedInput, as validate refuses it', async () => {
    await expect(suggestContract(join(root, 'test', 'fixtures', 'files', 'not-utf8.csv'))).rejects.toThrow(
      MalformedInput,
    );
  });

  it.each(SEEDS)(
    'generated CSV, seed %i: validated with 0 quarantined, every cell unchanged',
    async (seed) => {
      // Prepare
      const text = generatedCsv(seed);
      const path = file(`gen-${seed}.csv`, text);
      // Act
      const { code, result } = await suggestThenValidate(path);
      const rows = await validatedCsv(path);
      // Assess
      expect(result.meta.rows.quarantined).toBe(0);
      expect(code).toBe(0);
      const cells = text
        .trimEnd()
        .split('\n')
        .slice(1)
        // A blank line (one column, its cell empty) is no row for the reader.
        .filter((line) => line !== '')
        .map((line) => line.split(','));
      if (!text.includes('"')) {
        // Without quoting, a row is its cells split at commas: each validated value is written as its cell.
        rows.forEach((row, r) => {
          const record = JSON.parse(row) as Record<string, unknown>;
          cells[r]!.forEach((cell, c) => {
            const value = record[`c${c}`] ?? null;
            expect(value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value)).toBe(
              cell,
            );
          });
        });
      }
    },
  );

  it.each(SEEDS)('generated JSON Lines, seed %i: validated with 0 quarantined', async (seed) => {
    // Prepare
    const records = generatedRecords(seed);
    const path = file(`gen-${seed}.jsonl`, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    // Act
    const { code, result } = await suggestThenValidate(path);
    // Assess
    expect(result.meta.rows).toEqual({ read: records.length, valid: records.length, quarantined: 0 });
    expect(code).toBe(0);
  });

  it.each(SEEDS.slice(0, 8))('generated JSON array, seed %i: validated with 0 quarantined', async (seed) => {
    // Prepare
    const records = generatedRecords(seed * 101);
    const path = file(`gen-${seed}.json`, JSON.stringify(records, null, 2));
    // Act
    const { code, result } = await suggestThenValidate(path);
    // Assess
    expect(result.meta.rows).toEqual({ read: records.length, valid: records.length, quarantined: 0 });
    expect(code).toBe(0);
  });

  it('generated semicolon CSV with decimal commas: validated with 0 quarantined', async () => {
    // Prepare
    const path = file('eu.csv', 'id;price;code\n1;1,5;007\n2;2,25;010\n3;3;100\n');
    // Act
    const { code, result } = await suggestThenValidate(path);
    // Assess
    expect(result.meta.rows).toEqual({ read: 3, valid: 3, quarantined: 0 });
    expect(code).toBe(0);
  });
});

describe('sluice validate with a contract named otherwise', () => {
  it('warns on stderr that the name differs from the file name, and validates', async () => {
    // Prepare
    const path = file('data.csv', 'a\n1\n');
    const contractFile = file('c.yaml', await suggestContract(path));
    // Act
    const code = await validateCommand(contractFile, path);
    // Assess
    expect(code).toBe(0);
    expect(err).toContain('sluice: warning: ');
    expect(err).toContain("dataset name 'data' must match the file name 'c'");
  });
});
