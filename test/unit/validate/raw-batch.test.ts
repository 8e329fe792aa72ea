import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { MalformedInput } from '../../../lambdas/shared/errors.js';
import { describeBatch, openRawBatch } from '../../../lambdas/validate/raw-batch.js';
import { MemoryStore } from '../../support/memory-store.js';

const contract = (format: string, source = 'source: { type: s3-upload, prefix: landing/x/ }') =>
  parseContract(
    ['name: x', source, format, 'schema: { type: object, properties: { id: { type: integer } } }'].join('\n'),
    '<inline>',
  );
const httpSource = 'source: { type: http, url: "http://127.0.0.1/x" }';

async function opened(objects: Record<string, string | Buffer>, format: string, source?: string) {
  const store = new MemoryStore();
  for (const [key, text] of Object.entries(objects)) await store.put('raw', key, text);
  const raw = await openRawBatch(store, Object.keys(objects), contract(format, source));
  const text = Buffer.concat((await raw.stream.toArray()) as Buffer[]).toString('utf8');
  return { text, origins: raw.origins };
}

async function batch(objects: Record<string, string>, format: string, source?: string): Promise<string> {
  return (await opened(objects, format, source)).text;
}

describe('a raw batch of several objects, as the validator reads it', () => {
  it('joins JSON Lines objects with a newline only where one is missing', async () => {
    const text = await batch(
      { a: '{"id":1}\n{"id":2}', b: '{"id":3}\n', c: '{"id":4}' },
      'format: { type: jsonl }',
    );
    expect(text).toBe('{"id":1}\n{"id":2}\n{"id":3}\n{"id":4}');
  });

  it('keeps the header of the first CSV file only', async () => {
    const text = await batch(
      { a: 'id,name\r\n1,a\r\n', b: 'id,name\r\n2,b', c: 'id,name\n3,c\n' },
      'format: { type: csv }',
    );
    expect(text).toBe('id,name\r\n1,a\r\n2,b\n3,c\n');
  });

  it('refuses a CSV file whose header differs from the first, naming it', async () => {
    const error = await batch({ a: 'id,name\n1,a\n', b: 'id,nom\n2,b\n' }, 'format: { type: csv }').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MalformedInput);
    expect((error as Error).message).toMatch(
      /mem:\/\/raw\/b: line 1: the header 'id,nom' differs from .* 'id,name'/,
    );
  });

  it('reads JSON pages one at a time and emits their records as JSON Lines', async () => {
    const text = await batch(
      { p1: '{"data":[{"id":1},{"id":2}],"meta":{}}', p2: '{"data":[]}', p3: '{"data":[{"id":3}]}' },
      'format: { type: json, records_path: data }',
      httpSource,
    );
    expect(text).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
  });

  it('names a page without its records array', async () => {
    const error = await batch(
      { p1: '{"items":[]}' },
      'format: { type: json, records_path: data }',
      httpSource,
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/mem:\/\/raw\/p1: expected an array of records at 'data'/);
  });

  it('reads each JSON page as a stream, naming the page and line of a record over the limit', async () => {
    // Prepare: the second page's second record, on its line 3, is 2 KiB
    const long = `{"id":2,"s":"${'x'.repeat(2048)}"}`;
    const pages = { p1: '{"data":[{"id":1}]}', p2: `{"data":[\n{"id":1},\n${long}]}` };
    // Act
    const error = await batch(
      pages,
      'format: { type: json, records_path: data, max_record_bytes: 1024 }',
      httpSource,
    ).catch((e: unknown) => e as Error);
    // Assess
    expect(error).toBeInstanceOf(MalformedInput);
    expect((error as Error).message).toMatch(
      /^mem:\/\/raw\/p2: line 3: the record starting on this line is already \d+ bytes long, over the limit of 1024 bytes/,
    );
  });

  it('names the CSV file and its own line for every line of the joined stream', async () => {
    // Prepare: b has CRLF and an empty line, c only its header, and a ends without a line break
    const objects = {
      'run=1/a.csv': 'id,name\n1,a\n2,b',
      'run=1/b.csv': 'id,name\r\n3,c\r\n\r\n4,d\r\n',
      'run=1/c.csv': 'id,name\n',
      'run=1/d.csv': 'id,name\n5,e\n',
    };
    // Act
    const { text, origins } = await opened(objects, 'format: { type: csv }');
    // Assess
    expect(text.split('\n').slice(0, 7)).toEqual(['id,name', '1,a', '2,b', '3,c\r', '\r', '4,d\r', '5,e']);
    expect([1, 2, 3, 4, 5, 6, 7].map((line) => origins!.line(line))).toEqual([
      { file: 'a.csv', source: 'mem://raw/run=1/a.csv', line: 1 },
      { file: 'a.csv', source: 'mem://raw/run=1/a.csv', line: 2 },
      { file: 'a.csv', source: 'mem://raw/run=1/a.csv', line: 3 },
      { file: 'b.csv', source: 'mem://raw/run=1/b.csv', line: 2 },
      { file: 'b.csv', source: 'mem://raw/run=1/b.csv', line: 3 },
      { file: 'b.csv', source: 'mem://raw/run=1/b.csv', line: 4 },
      { file: 'd.csv', source: 'mem://raw/run=1/d.csv', line: 2 },
    ]);
  });

  it('names the file and its own byte offset for a byte of the joined CSV stream', async () => {
    // Prepare: the stream holds a whole (12 bytes), then b without its 9-byte header line
    const objects = { 'a.csv': 'id,name\n1,a\n', 'b.csv': 'id,name\n2,b\n3,c\n' };
    // Act
    const { text, origins } = await opened(objects, 'format: { type: csv }');
    // Assess
    expect(text.indexOf('3,c')).toBe(16);
    expect(origins!.byte(16)).toEqual({ source: 'mem://raw/b.csv', offset: 12 });
    expect(origins!.byte(11)).toEqual({ source: 'mem://raw/a.csv', offset: 11 });
  });

  it('names the JSON Lines object and its own line, a missing final newline included', async () => {
    // Act
    const { origins } = await opened(
      { 'a.jsonl': '{"id":1}\n\n{"id":2}', 'b.jsonl': '{"id":3}\n' },
      'format: { type: jsonl }',
    );
    // Assess
    expect([3, 4].map((line) => origins!.line(line))).toEqual([
      { file: 'a.jsonl', source: 'mem://raw/a.jsonl', line: 3 },
      { file: 'b.jsonl', source: 'mem://raw/b.jsonl', line: 1 },
    ]);
  });

  it("names the JSON page and the record's position in it, skipping a page without records", async () => {
    // Act
    const { origins } = await opened(
      {
        'page-00001.json': '{"data":[{"id":1},{"id":2}]}',
        'page-00002.json': '{"data":[]}',
        'page-00003.json': '{"data":[{"id":3},{"id":4}]}',
      },
      'format: { type: json, records_path: data }',
      httpSource,
    );
    // Assess
    expect([2, 4].map((line) => origins!.line(line))).toEqual([
      { file: 'page-00001.json', source: 'mem://raw/page-00001.json', line: 2 },
      { file: 'page-00003.json', source: 'mem://raw/page-00003.json', line: 2 },
    ]);
  });

  it('has no origins for a batch of one object, whose lines are its own', async () => {
    expect((await opened({ a: 'id\n1\n' }, 'format: { type: csv }')).origins).toBeUndefined();
    expect(
      (await opened({ p: '{"data":[{"id":1}]}' }, 'format: { type: json, records_path: data }', httpSource))
        .origins,
    ).toBeUndefined();
  });

  it('reads a batch of one object unchanged, and describes a batch by its first object', async () => {
    expect(await batch({ a: 'id\n1' }, 'format: { type: csv }')).toBe('id\n1');
    expect(describeBatch(new MemoryStore(), ['a', 'b', 'c'])).toBe(
      'mem://raw/a and 2 more objects of the batch',
    );
  });
});
