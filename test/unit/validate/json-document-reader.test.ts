import { describe, expect, it } from '@jest/globals';
import { MalformedInput } from '../../../lambdas/shared/errors.js';
import { documentRecordLines, JsonDocumentReader } from '../../../lambdas/validate/json-document-reader.js';
import { random } from '../../support/random.js';
import { contractFrom, validate } from './support.js';

const MiB = 1024 * 1024;

/** The records the reader hands on for a document given as text pieces, read one after the other. */
function records(pieces: string | string[], path?: string, limit = 8 * MiB): string[] {
  const reader = new JsonDocumentReader('doc.json', path, limit);
  const out: string[] = [];
  const sink = (record: string) => out.push(record);
  for (const piece of typeof pieces === 'string' ? [pieces] : pieces) reader.push(piece, sink);
  reader.end(sink);
  return out;
}

/** The JSON Lines the reader produces for a document given as byte pieces. */
async function lines(pieces: Uint8Array[], path?: string): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of documentRecordLines(toAsync(pieces), 'doc.json', path, 8 * MiB)) out.push(chunk);
  return Buffer.concat(out).toString('utf8');
}

async function* toAsync(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

function thrown(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('JsonDocumentReader: the records of a document, each as its own text', () => {
  it('hands on each element of the top-level array as written, numbers and keys untouched', () => {
    // Prepare
    const document = '[{"id":1,"n":1.50,"big":12345678901234567890,"e":1E+2,"k\\u00e9":null},{"id":2}]';
    // Act
    const found = records(document);
    // Assess
    expect(found).toEqual([
      '{"id":1,"n":1.50,"big":12345678901234567890,"e":1E+2,"k\\u00e9":null}',
      '{"id":2}',
    ]);
  });

  it('drops the white space and line breaks between the tokens of a record, keeping those inside strings', () => {
    // Prepare
    const document = '[\n  {\n    "id" : 1,\r\n\t"name": "a  b\\n c",\n    "tags": [ 1 , 2 ]\n  }\n]\n';
    // Act
    const found = records(document);
    // Assess
    expect(found).toEqual(['{"id":1,"name":"a  b\\n c","tags":[1,2]}']);
    expect(JSON.parse(found[0]!)).toEqual({ id: 1, name: 'a  b\n c', tags: [1, 2] });
  });

  it('reads brackets, braces and escaped quotes inside strings as text, not structure', () => {
    // Prepare
    const record = String.raw`{"s":"] } [ { \" \\","t":"\\\"]","u":"\u005d\u007D"}`;
    // Act
    const found = records(`[${record},{"id":2}]`);
    // Assess
    expect(found).toEqual([record, '{"id":2}']);
    expect(JSON.parse(found[0]!)).toEqual({ s: '] } [ { " \\', t: '\\"]', u: ']}' });
  });

  it('hands on records that are not objects too, for the engine to refuse as rows', () => {
    expect(records('[1, "a", true, null, [2], -0.5e-3]')).toEqual([
      '1',
      '"a"',
      'true',
      'null',
      '[2]',
      '-0.5e-3',
    ]);
  });

  it('reads the records at the records path, and not a key of that name elsewhere', () => {
    // Prepare
    const document =
      '{"meta":{"data":[{"id":0}]},"data":[{"id":1,"data":[9]},{"id":2}],"after":{"data":[{"id":3}]}}';
    // Act
    const found = records(document, 'data');
    // Assess
    expect(found).toEqual(['{"id":1,"data":[9]}', '{"id":2}']);
  });

  it('follows a path through objects and array positions, as records_path is documented', () => {
    // Prepare
    const document = '{"result":[{"items":[{"id":0}]},{"items":[{"id":1},{"id":2}]}],"resul":{"items":[]}}';
    // Act
    const found = records(document, 'result.1.items');
    // Assess
    expect(found).toEqual(['{"id":1}', '{"id":2}']);
  });

  it('compares a key of the path as JSON reads it, escapes included', () => {
    expect(records('{"d\\u0061ta":[{"id":1}]}', 'data')).toEqual(['{"id":1}']);
  });

  it('reads an empty records array as no records', () => {
    expect(records('{"data":[]}', 'data')).toEqual([]);
    expect(records(' [ ] ')).toEqual([]);
  });
});

describe('JsonDocumentReader: a document that holds no records array is a named error', () => {
  it('refuses a top-level value that is not an array, saying what it found', () => {
    // Act
    const error = thrown(() => records('{"id":1}'));
    // Assess
    expect(error).toBeInstanceOf(MalformedInput);
    expect(error.message).toBe(
      'doc.json: expected an array of records at the top level (format records_path): found an object',
    );
  });

  it('refuses a records path that is missing, or holds something other than an array', () => {
    expect(thrown(() => records('{"items":[]}', 'data')).message).toBe(
      "doc.json: expected an array of records at 'data' (format records_path): there is none",
    );
    expect(thrown(() => records('{"data":"x"}', 'data')).message).toMatch(
      /expected an array of records at 'data' \(format records_path\): found a string$/,
    );
    expect(thrown(() => records('[{"id":1}]', 'data')).message).toMatch(/: there is none$/);
  });

  it('refuses a document that names the records key twice, rather than choosing one', () => {
    const error = thrown(() => records('{"data":[{"id":1}],"data":[{"id":2}]}', 'data'));
    expect(error).toBeInstanceOf(MalformedInput);
    expect(error.message).toMatch(/'data' \(format records_path\): found more than one/);
  });
});

describe('JsonDocumentReader: the whole document must be JSON', () => {
  it.each([
    ['a record that does not parse', '[{"id":1},\n{"id":2,}]', 2, 9, "unexpected '}'"],
    ['text after the document', '[{"id":1}] x', 1, 12, "unexpected 'x'"],
    [
      'a raw line break in a string',
      '[{"s":"a\nb"}]',
      1,
      9,
      'a control character (U+000A) in a string: write it as an escape such as \\n',
    ],
    ['an escape JSON does not know', '[{"s":"\\x"}]', 1, 9, "'\\x' is not an escape JSON knows"],
    ['a number cut short', '[1.]', 1, 4, 'a number ends before it is whole'],
    ['a misspelt literal', '[nul]', 1, 5, "unexpected ']'"],
    ['a missing comma', '[{"a":1} {"a":2}]', 1, 10, "unexpected '{'"],
    ['a bracket that closes the wrong container', '[{"a":1]', 1, 8, "unexpected ']'"],
  ])('refuses %s, naming its line and column', (_what, document, line, column, problem) => {
    // Act
    const error = thrown(() => records(document));
    // Assess
    expect(error).toBeInstanceOf(MalformedInput);
    expect(error.message).toBe(`doc.json: line ${line}, column ${column}: not valid JSON: ${problem}`);
  });

  it('refuses a document that ends early, or holds nothing', () => {
    expect(thrown(() => records('[{"id":1}, {"id"')).message).toMatch(
      /not valid JSON: the document ends before/,
    );
    expect(thrown(() => records(' \n')).message).toMatch(/not valid JSON: the document holds no value$/);
  });

  it('refuses bytes that are not UTF-8, naming their offset, and drops a byte order mark', async () => {
    // Prepare
    const bad = Buffer.concat([Buffer.from('[{"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"id":1}]')]);
    // Act
    const error = (await lines([bad]).catch((e: unknown) => e)) as Error;
    // Assess
    expect(error).toBeInstanceOf(MalformedInput);
    expect(error.message).toMatch(/^doc\.json: byte offset 7: not valid UTF-8 \(0xc3 0x28/);
    expect(await lines([bom])).toBe('{"id":1}\n');
  });
});

describe('JsonDocumentReader: the record limit (format.max_record_bytes)', () => {
  it('refuses a record over the limit as soon as the text held for it passes the limit, naming its line', () => {
    // Prepare: the second record, on line 3, is 3 KiB of text in pieces of 512 characters
    const long = `{"s":"${'x'.repeat(3000)}"}`;
    const document = `[\n{"id":1},\n${long}]`;
    const pieces = document.match(/[\s\S]{1,512}/g)!;
    let handed = 0;
    const reader = new JsonDocumentReader('doc.json', undefined, 2048);
    // Act
    const error = thrown(() => {
      for (const piece of pieces) reader.push(piece, () => handed++);
    });
    // Assess
    expect(error).toBeInstanceOf(MalformedInput);
    expect(error.message).toMatch(
      /^doc\.json: line 3: the record starting on this line is already \d+ bytes long, over the limit of 2048 bytes \(format\.max_record_bytes in the contract: raise it/,
    );
    expect(handed).toBe(1);
  });

  it('refuses a long record with white space between its tokens before it ends', () => {
    // Prepare: one record of 4,000 numbers, each after a line break, read 512 characters at a time
    const document = `[{"n":[${Array.from({ length: 4000 }, () => '\n 1').join(',')}]}]`;
    const pieces = document.match(/[\s\S]{1,512}/g)!;
    const reader = new JsonDocumentReader('doc.json', undefined, 2048);
    let read = 0;
    // Act
    const error = thrown(() => {
      for (const piece of pieces) {
        reader.push(piece, () => undefined);
        read++;
      }
    });
    // Assess
    expect(error.message).toMatch(
      /^doc\.json: line 1: the record starting on this line is already \d+ bytes long/,
    );
    expect(read).toBeLessThan(pieces.length - 1);
  });

  it('counts UTF-8 bytes, and takes a record exactly at the limit', () => {
    // Prepare: 'é' is 2 bytes; the record is {"s":"é…"} = 8 + 2 × 1020 = 2048 bytes
    const record = `{"s":"${'é'.repeat(1020)}"}`;
    // Act
    const atLimit = records(`[${record}]`, undefined, 2048);
    const overLimit = thrown(() => records(`[${record.replace('é', 'éé')}]`, undefined, 2048));
    // Assess
    expect(atLimit).toEqual([record]);
    expect(overLimit.message).toMatch(/already 2050 bytes long, over the limit of 2048 bytes/);
  });

  it('does not count white space between tokens, nor text outside the records', () => {
    // Prepare: 4 KiB of indentation inside the record, 4 KiB of metadata outside it
    const document = `{"meta":"${'m'.repeat(4096)}","data":[{"id":${' '.repeat(4096)}1}]}`;
    // Act
    const found = records(document, 'data', 1024);
    // Assess
    expect(found).toEqual(['{"id":1}']);
  });
});

describe('JsonDocumentReader: a document read in pieces', () => {
  const tricky = [
    { id: 1, s: '] } [ { " \\ \u2028 é 😀', n: [1.5, -2e-3, 0, true, false, null] },
    { id: 2, nested: { a: [{ b: '}' }], c: {} }, empty: [] },
    '["not", "an", "object"]',
    '{"exact":12345678901234567890,"e":1E+400,"frac":0.10}',
  ];
  /** The document, with every kind of white space between tokens, and its records' lines. */
  const recordTexts = tricky.map((r) => (typeof r === 'string' ? r : JSON.stringify(r, null, '\t')));
  const document = `\ufeff{"before":{"data":"]"},\r\n "data" : [\n${recordTexts.join(' ,\n')}\n],"after":[1]}\n`;
  const expected = `${tricky.map((r) => (typeof r === 'string' ? r.replace(/ /g, '') : JSON.stringify(r))).join('\n')}\n`;
  const bytes = Buffer.from(document);

  it('reads the document whole as the records written compactly', async () => {
    expect(await lines([bytes], 'data')).toBe(expected);
  });

  it('reads the same records whatever byte a piece ends at', async () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      const read = await lines([bytes.subarray(0, cut), bytes.subarray(cut)], 'data');
      if (read !== expected) throw new Error(`cut at byte ${cut}: read ${JSON.stringify(read)}`);
    }
  });

  it('reads the same records cut into many random pieces (seeded)', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(next() * 24);
        pieces.push(bytes.subarray(at, at + size));
        at += size;
      }
      const read = await lines(pieces, 'data');
      if (read !== expected) throw new Error(`seed ${seed}: read ${JSON.stringify(read)}`);
    }
  });
});

describe('the records of a JSON document, validated', () => {
  const documents = contractFrom(
    'name: events\nsource: { type: s3-upload, prefix: landing/events/ }\nformat: { type: json }\n' +
      'schema: { type: object, properties: { id: { type: integer } } }\n',
  );

  async function validated(document: string) {
    const chunks: Buffer[] = [];
    for await (const chunk of documentRecordLines(
      toAsync([Buffer.from(document)]),
      'doc.json',
      undefined,
      8 * MiB,
    ))
      chunks.push(chunk);
    return validate(chunks, documents);
  }

  it('quarantines a record nested deeper than the engine allows, and reads on', async () => {
    // Prepare
    const deep = `{"id":1,"v":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    // Act
    const run = await validated(`[${deep},{"id":2}]`);
    // Assess
    expect(run.outcome.rows).toEqual({ read: 2, valid: 1, quarantined: 1 });
    expect(run.quarantine[0]?.failures[0]?.reason).toMatch(/nested deeper than 1000 levels/);
  });

  it('quarantines a number a float cannot hold instead of writing it changed', async () => {
    // Act
    const run = await validated('[{"id":12345678901234567890},{"id":3}]');
    // Assess
    expect(run.outcome.rows).toEqual({ read: 2, valid: 1, quarantined: 1 });
    expect(run.quarantine[0]?.failures[0]?.reason).toMatch(
      /the number 12345678901234567890 .* beyond ±2\^53/,
    );
    expect(run.valid).toEqual([{ id: 3 }]);
  });
});
