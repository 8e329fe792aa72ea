import { Readable } from 'node:stream';
import { type Contract, isJsonDocuments } from '../shared/contract.js';
import { MalformedInput } from '../shared/errors.js';
import { valueAt } from '../shared/json-path.js';
import type { ObjectStore } from '../shared/object-store.js';

/**
 * The raw objects of one batch as the one stream the validation engine reads. A batch is one
 * object for an upload or a postgres extraction, and several for the pages of an HTTP pull or the
 * files of a partner drop:
 * - JSON Lines: the objects one after the other, with a newline between two objects when the
 *   first does not end with one;
 * - CSV: the first object whole, then each further object without its header line, which must
 *   be the same as the first object's (else `MalformedInput` naming the object);
 * - JSON documents (`format: { type: json, records_path }`): each document parsed in turn, one
 *   at a time, and its records emitted as JSON Lines.
 * Line numbers in the validation result count lines of this stream.
 */
export async function openRawBatch(
  store: ObjectStore,
  keys: readonly string[],
  contract: Contract,
): Promise<Readable> {
  const { format } = contract;
  if (isJsonDocuments(format))
    return Readable.from(documentRecords(store, keys, format.documents.records_path));
  if (keys.length === 1) return store.read('raw', keys[0]!);
  return Readable.from(format.type === 'csv' ? csvFiles(store, keys) : concatenated(store, keys));
}

/** Where a batch's rows come from, for messages: its one object, or its first and how many more. */
export function describeBatch(store: ObjectStore, keys: readonly string[]): string {
  const first = store.describe('raw', keys[0] ?? '');
  return keys.length > 1
    ? `${first} and ${keys.length - 1} more object${keys.length === 2 ? '' : 's'} of the batch`
    : first;
}

const NEWLINE = Buffer.from('\n');

async function* concatenated(store: ObjectStore, keys: readonly string[]): AsyncGenerator<Buffer> {
  let endsWithNewline = true;
  for (const key of keys) {
    if (!endsWithNewline) yield NEWLINE;
    for await (const chunk of (await store.read('raw', key)) as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      endsWithNewline = chunk[chunk.length - 1] === 0x0a;
      yield chunk;
    }
  }
}

async function* csvFiles(store: ObjectStore, keys: readonly string[]): AsyncGenerator<Buffer> {
  let header: string | undefined;
  let endsWithNewline = true;
  for (const [index, key] of keys.entries()) {
    if (!endsWithNewline) yield NEWLINE;
    // The header line of this object, until it ends: passed on for the first object, held back
    // and compared with the first object's for the others.
    let headLine: Buffer | undefined = Buffer.alloc(0);
    for await (const chunk of (await store.read('raw', key)) as AsyncIterable<Buffer>) {
      let bytes = chunk;
      if (headLine !== undefined) {
        const end = bytes.indexOf(0x0a);
        headLine = Buffer.concat([headLine, end < 0 ? bytes : bytes.subarray(0, end)]);
        if (end < 0) {
          if (index > 0) continue;
        } else {
          if (index === 0) header = lineText(headLine);
          else {
            checkHeader(store, key, header!, headLine);
            bytes = bytes.subarray(end + 1);
          }
          headLine = undefined;
        }
      }
      if (bytes.length === 0) continue;
      endsWithNewline = bytes[bytes.length - 1] === 0x0a;
      yield bytes;
    }
    if (index === 0) header ??= lineText(headLine ?? Buffer.alloc(0));
    else if (headLine !== undefined && headLine.length > 0) checkHeader(store, key, header!, headLine);
  }
}

function checkHeader(store: ObjectStore, key: string, expected: string, line: Buffer): void {
  const found = lineText(line);
  if (found !== expected) {
    throw new MalformedInput(
      `${store.describe('raw', key)}: line 1: the header '${found}' differs from the header of the batch's first file '${expected}'; every file of a batch must have the same columns`,
    );
  }
}

function lineText(line: Buffer): string {
  return line.toString('utf8').replace(/\r$/, '');
}

async function* documentRecords(
  store: ObjectStore,
  keys: readonly string[],
  path: string | undefined,
): AsyncGenerator<Buffer> {
  for (const key of keys) {
    const text = await store.readText('raw', key);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new MalformedInput(`${store.describe('raw', key)}: not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const records = valueAt(document, path);
    if (!Array.isArray(records)) {
      throw new MalformedInput(
        `${store.describe('raw', key)}: expected an array of records at ${path ? `'${path}'` : 'the top level'} (format records_path)`,
      );
    }
    let lines = '';
    for (const record of records) lines += `${JSON.stringify(record)}\n`;
    if (lines) yield Buffer.from(lines);
  }
}
