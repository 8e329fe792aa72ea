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

async function batch(objects: Record<string, string>, format: string, source?: string): Promise<string> {
  const store = new MemoryStore();
  for (const [key, text] of Object.entries(objects)) await store.put('raw', key, text);
  const stream = await openRawBatch(store, Object.keys(objects), contract(format, source));
  return Buffer.concat((await stream.toArray()) as Buffer[]).toString('utf8');
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

  it('reads a batch of one object unchanged, and describes a batch by its first object', async () => {
    expect(await batch({ a: 'id\n1' }, 'format: { type: csv }')).toBe('id\n1');
    expect(describeBatch(new MemoryStore(), ['a', 'b', 'c'])).toBe(
      'mem://raw/a and 2 more objects of the batch',
    );
  });
});
