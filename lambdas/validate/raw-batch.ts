import { Readable } from 'node:stream';
import { type Contract, isJsonDocuments } from '../shared/contract.js';
import { MalformedInput } from '../shared/errors.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { StreamOrigins } from './engine.js';
import { documentRecordLines } from './json-document-reader.js';

/** The raw objects of one batch as one stream, and where each line of it comes from. */
export interface RawBatch {
  stream: Readable;
  /**
   * For a batch of several objects, the object and line each line (and byte) of the stream comes
   * from; undefined for one object, whose lines are the stream's.
   */
  origins?: StreamOrigins;
}

/**
 * The raw objects of one batch as the one stream the validation engine reads. A batch is one
 * object for an upload or a postgres extraction, and several for the pages of an HTTP pull or the
 * files of a partner drop:
 * - JSON Lines: the objects one after the other, with a newline between two objects when the
 *   first does not end with one;
 * - CSV: the first object whole, then each further object without its header line, which must
 *   be the same as the first object's (else `MalformedInput` naming the object);
 * - JSON documents (`format: { type: json, records_path }`): each document read in turn, as a
 *   stream, and its records emitted as JSON Lines (json-document-reader.ts).
 * Lines of the stream are numbered across the objects; `origins` turns a line of the stream back
 * into the object it is in and its line there (for JSON documents, the record's position in its
 * document), so that quarantined rows and messages name the file and its own line.
 */
export async function openRawBatch(
  store: ObjectStore,
  keys: readonly string[],
  contract: Contract,
): Promise<RawBatch> {
  const { format } = contract;
  if (keys.length === 1 && !isJsonDocuments(format)) return { stream: await store.read('raw', keys[0]!) };
  const map = new OriginMap(store);
  const chunks = isJsonDocuments(format)
    ? documentRecords(store, keys, format, map)
    : format.type === 'csv'
      ? csvFiles(store, keys, map)
      : concatenated(store, keys, map);
  return { stream: Readable.from(chunks), ...(keys.length > 1 ? { origins: map } : {}) };
}

/** Where a batch's rows come from, for messages: its one object, or its first and how many more. */
export function describeBatch(store: ObjectStore, keys: readonly string[]): string {
  const first = store.describe('raw', keys[0] ?? '');
  return keys.length > 1
    ? `${first} and ${keys.length - 1} more object${keys.length === 2 ? '' : 's'} of the batch`
    : first;
}

const NEWLINE = Buffer.from('\n');

/**
 * Where the lines and bytes of a joined stream come from, learnt as the stream is produced: each
 * object starts a segment at the stream's line and byte it reached, with the object's own line
 * and byte there (after a CSV header that was held back, line 2). The engine asks about a line
 * only once the stream has passed it, so its segment is known by then.
 */
class OriginMap implements StreamOrigins {
  private readonly segments: Array<{
    key: string;
    streamLine: number;
    streamByte: number;
    fileLine: number;
    fileByte: number;
  }> = [];
  /** Line and byte of the stream the next byte is on / at. */
  private streamLine = 1;
  private streamByte = 0;

  constructor(private readonly store: ObjectStore) {}

  /** Marks the start of an object's bytes, at its own `fileLine` and `fileByte`. */
  begin(key: string, fileLine: number, fileByte: number): void {
    this.segments.push({
      key,
      streamLine: this.streamLine,
      streamByte: this.streamByte,
      fileLine,
      fileByte,
    });
  }

  /** Counts what goes into the stream. */
  passed(bytes: Buffer): Buffer {
    this.streamByte += bytes.length;
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) this.streamLine++;
    return bytes;
  }

  line(line: number): { file: string; source: string; line: number } {
    const segment = this.find((s) => s.streamLine <= line);
    return {
      file: objectName(segment.key),
      source: this.store.describe('raw', segment.key),
      line: segment.fileLine + (line - segment.streamLine),
    };
  }

  byte(offset: number): { source: string; offset: number } {
    const segment = this.find((s) => s.streamByte <= offset);
    return {
      source: this.store.describe('raw', segment.key),
      offset: segment.fileByte + (offset - segment.streamByte),
    };
  }

  /**
   * The last segment that starts at or before a position (an object that added no line, such as
   * a CSV file of only its header, starts where the next one does). Binary search: positions
   * are asked in any order (a duplicate names the row of the first occurrence).
   */
  private find(startsBefore: (segment: OriginMap['segments'][number]) => boolean) {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (startsBefore(this.segments[middle]!)) low = middle;
      else high = middle - 1;
    }
    return this.segments[low]!;
  }
}

/** An object's name within its batch: the last part of its key (page-00002.json, part-2.csv). */
export function objectName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

async function* concatenated(
  store: ObjectStore,
  keys: readonly string[],
  map: OriginMap,
): AsyncGenerator<Buffer> {
  let endsWithNewline = true;
  for (const key of keys) {
    if (!endsWithNewline) yield map.passed(NEWLINE);
    map.begin(key, 1, 0);
    for await (const chunk of (await store.read('raw', key)) as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      endsWithNewline = chunk[chunk.length - 1] === 0x0a;
      yield map.passed(chunk);
    }
  }
}

async function* csvFiles(
  store: ObjectStore,
  keys: readonly string[],
  map: OriginMap,
): AsyncGenerator<Buffer> {
  let header: string | undefined;
  let endsWithNewline = true;
  for (const [index, key] of keys.entries()) {
    if (!endsWithNewline) yield map.passed(NEWLINE);
    // The header line of this object, until it ends: passed on for the first object, held back
    // and compared with the first object's for the others.
    let headLine: Buffer | undefined = Buffer.alloc(0);
    if (index === 0) map.begin(key, 1, 0);
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
            map.begin(key, 2, headLine.length + 1);
          }
          headLine = undefined;
        }
      }
      if (bytes.length === 0) continue;
      endsWithNewline = bytes[bytes.length - 1] === 0x0a;
      yield map.passed(bytes);
    }
    if (index === 0) header ??= lineText(headLine ?? Buffer.alloc(0));
    else if (headLine !== undefined && headLine.length > 0) checkHeader(store, key, header!, headLine);
  }
}

/** Refuses a later object of a CSV batch whose header line is not the first object's. */
export function checkHeader(store: ObjectStore, key: string, expected: string, line: Buffer): void {
  const found = lineText(line);
  if (found !== expected) {
    throw new MalformedInput(
      `${store.describe('raw', key)}: line 1: the header '${found}' differs from the header of the batch's first file '${expected}'; every file of a batch must have the same columns`,
    );
  }
}

/** A header line's text as the batch's objects are compared by it: without a trailing carriage return. */
export function lineText(line: Uint8Array): string {
  return Buffer.from(line).toString('utf8').replace(/\r$/, '');
}

async function* documentRecords(
  store: ObjectStore,
  keys: readonly string[],
  format: Extract<Contract['format'], { type: 'jsonl' }>,
  map: OriginMap,
): AsyncGenerator<Buffer> {
  for (const key of keys) {
    map.begin(key, 1, 0);
    const bytes = (await store.read('raw', key)) as AsyncIterable<Uint8Array>;
    const where = store.describe('raw', key);
    const path = format.documents?.records_path;
    for await (const lines of documentRecordLines(bytes, where, path, format.max_record_bytes)) {
      yield map.passed(lines);
    }
  }
}
