import { describe, expect, it } from '@jest/globals';
import { JsonLinesBuffer } from '../../../lambdas/validate/row-json.js';
import { random } from '../../support/random.js';

/** The bytes JSON.stringify and UTF-8 encoding give for the row: what the buffer must write. */
function expected(header: string[], values: unknown[]): Buffer {
  const record: Record<string, unknown> = {};
  header.forEach((name, c) => {
    record[name] = values[c] ?? null;
  });
  return Buffer.from(`${JSON.stringify(record)}\n`);
}

/** Characters worth mixing: plain, escaped, controls, two- and three-byte, pairs and lone surrogates. */
const ALPHABET = [
  'a',
  'Z',
  '7',
  ' ',
  ',',
  '"',
  '\\',
  '/',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
  '\x00',
  '\x1f',
  '\x7f',
  'é',
  'ß',
  '€',
  '中',
  '\u2028',
  '😀',
  '\ud83d',
  '\ude00',
  '\ufeff',
];

function randomString(next: () => number): string {
  let text = '';
  const length = Math.floor(next() * 12);
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return text;
}

describe('JsonLinesBuffer', () => {
  it('writes the bytes of JSON.stringify for rows of any characters', () => {
    // Prepare
    const next = random(7);
    const header = ['id', 'naïve "name"', 'n', 'flag', '😀'];
    const out = new JsonLinesBuffer(64);
    out.columns(header);
    const wanted: Buffer[] = [];
    // Act
    for (let row = 0; row < 2000; row++) {
      const values: unknown[] = [randomString(next), randomString(next), next() * 1000, next() < 0.5, null];
      if (next() < 0.2) values[1] = null;
      const cells = values.map((value) => String(value));
      out.writeRow(values, cells);
      wanted.push(expected(header, values));
    }
    // Assess
    expect(out.take().equals(Buffer.concat(wanted))).toBe(true);
  });

  it('reuses a number cell only when it is the plain JSON for its value', () => {
    // Prepare
    const out = new JsonLinesBuffer();
    out.columns(['x']);
    const cells = ['1.50', '-0', '0', '+3', '.5', '1e3', '007', '0.1', '-12', '1.0', '9007199254740993'];
    // Act
    for (const cell of cells) out.writeRow([Number(cell)], [cell]);
    // Assess
    expect(out.take().toString()).toBe(
      ['1.5', '0', '0', '3', '0.5', '1000', '7', '0.1', '-12', '1', '9007199254740993']
        .map((x) => `{"x":${x}}\n`)
        .join(''),
    );
  });

  it('writes lines of JSON as UTF-8, each ended by a line feed', () => {
    // Prepare
    const out = new JsonLinesBuffer(8);
    const records = [{ a: 'é€😀' }, { b: '\ud83d lone' }, { c: [1, null, true] }];
    // Act
    for (const record of records) out.writeLine(JSON.stringify(record));
    // Assess
    expect(out.take().equals(Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join('')))).toBe(true);
  });

  it('hands out what was written as a copy, and starts empty again', () => {
    // Prepare
    const out = new JsonLinesBuffer(16);
    out.columns(['s']);
    // Act
    out.writeRow(['x'.repeat(100)], ['x'.repeat(100)]);
    const first = out.take();
    out.writeRow(['y'], ['y']);
    const second = out.take();
    // Assess
    expect(first.toString()).toBe(`{"s":"${'x'.repeat(100)}"}\n`);
    expect(second.toString()).toBe('{"s":"y"}\n');
    expect(out.size).toBe(0);
  });
});
