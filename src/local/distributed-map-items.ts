/**
 * What a Distributed Map's `ItemReader` reads, and how `ItemBatcher` groups it, as Step Functions
 * does: items from an S3 listing (`s3:listObjectsV2`) or from one object (`s3:getObject`, with
 * `ReaderConfig.InputType` JSON, JSONL or CSV), cut to `MaxItems`, then batched by count and bytes.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ConfigurationError, ObjectNotFound } from '../../lambdas/shared/errors.js';
import { type ObjectStore, ZONES, type Zone } from '../../lambdas/shared/object-store.js';
import { CsvReader } from '../../lambdas/validate/csv-reader.js';
import { payloadBytes } from './payload-quota.js';

/** The S3 a map run reads its items from and writes its results to, by bucket name. */
export interface MapRunStorage {
  /** Throws when there is no such object. */
  get(bucket: string, key: string): Promise<Readable>;
  list(bucket: string, prefix: string): Promise<ListedObject[]>;
  put(bucket: string, key: string, body: string): Promise<void>;
}

/** One object of an `s3:listObjectsV2` item reader, shaped as Step Functions passes it to a child. */
export interface ListedObject {
  Etag: string;
  Key: string;
  /** Seconds since the epoch. */
  LastModified: number;
  Size: number;
  StorageClass: string;
}

/**
 * The lake as a map run's S3: a bucket name is a zone (the local runner names buckets by zone, as
 * `sluice run` does for the landing bucket), or is mapped to one by `buckets`.
 */
export function lakeStorage(store: ObjectStore, buckets: Readonly<Record<string, Zone>> = {}): MapRunStorage {
  const zoneOf = (bucket: string): Zone => {
    const zone = buckets[bucket] ?? (ZONES as readonly string[]).find((name) => name === bucket);
    if (!zone) {
      throw new ConfigurationError(
        `bucket '${bucket}' is not a lake zone (${ZONES.join(', ')}) and no zone is mapped to it`,
      );
    }
    return zone as Zone;
  };
  return {
    get: (bucket, key) => store.read(zoneOf(bucket), key),
    list: async (bucket, prefix) => {
      const zone = zoneOf(bucket);
      const objects: ListedObject[] = [];
      for (const key of await store.list(zone, prefix)) {
        const head = await store.head(zone, key);
        if (!head) continue;
        objects.push({
          Etag: head.etag ?? '',
          Key: key,
          LastModified: Math.floor((head.lastModified?.getTime() ?? 0) / 1000),
          Size: head.size,
          StorageClass: 'STANDARD',
        });
      }
      return objects;
    },
    put: (bucket, key, body) => store.put(zoneOf(bucket), key, body, { contentType: 'application/json' }),
  };
}

/** An error as the Step Functions service names it (`States.*`), for Retry and Catch to match. */
export class StatesError extends Error {
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

export interface ItemReaderSpec {
  Resource: string;
  /** Resolved already: no `.$` keys left. */
  Parameters: { Bucket?: string; Key?: string; Prefix?: string };
  ReaderConfig?: {
    InputType?: string;
    CSVHeaderLocation?: 'FIRST_ROW' | 'GIVEN';
    CSVHeaders?: string[];
    CSVDelimiter?: string;
    MaxItems?: number;
  };
}

const LIST_OBJECTS = 'arn:aws:states:::s3:listObjectsV2';
const GET_OBJECT = 'arn:aws:states:::s3:getObject';
const CSV_DELIMITERS: Record<string, string> = {
  COMMA: ',',
  PIPE: '|',
  SEMICOLON: ';',
  SPACE: ' ',
  TAB: '\t',
};

/** The items an `ItemReader` yields, at most `ReaderConfig.MaxItems` of them. */
export async function readItems(reader: ItemReaderSpec, storage: MapRunStorage): Promise<unknown[]> {
  const { Bucket: bucket, Key: key, Prefix: prefix = '' } = reader.Parameters;
  const config = reader.ReaderConfig ?? {};
  const max = config.MaxItems && config.MaxItems > 0 ? config.MaxItems : Number.POSITIVE_INFINITY;
  if (!bucket) throw new ConfigurationError(`ItemReader ${reader.Resource}: Parameters.Bucket is required`);
  let items: unknown[];
  if (reader.Resource === LIST_OBJECTS) {
    items = await storage.list(bucket, prefix);
  } else if (reader.Resource === GET_OBJECT) {
    if (!key) throw new ConfigurationError(`ItemReader ${reader.Resource}: Parameters.Key is required`);
    const where = `s3://${bucket}/${key}`;
    let text: string;
    try {
      text = await readText(await storage.get(bucket, key));
    } catch (error) {
      if (error instanceof ObjectNotFound) {
        throw new StatesError('States.ItemReaderFailed', `the item reader found no object ${where}`, {
          cause: error,
        });
      }
      throw error;
    }
    items = parseItems(text, config, where);
  } else {
    throw new ConfigurationError(`ItemReader resource ${reader.Resource} is not one the local runner reads`);
  }
  return items.length > max ? items.slice(0, max) : items;
}

async function readText(stream: Readable): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  for await (const chunk of stream)
    text += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
  return text + decoder.end();
}

function parseItems(
  text: string,
  config: NonNullable<ItemReaderSpec['ReaderConfig']>,
  where: string,
): unknown[] {
  const inputType = config.InputType ?? 'JSON';
  const fail = (what: string) =>
    new StatesError('States.ItemReaderFailed', `the item reader could not read ${where}: ${what}`);
  switch (inputType) {
    case 'JSON': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw fail((error as Error).message);
      }
      if (!Array.isArray(value)) throw fail('a JSON item list must be an array');
      return value;
    }
    case 'JSONL': {
      const items: unknown[] = [];
      const lines = text.split('\n');
      for (const [index, raw] of lines.entries()) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.trim() === '') continue;
        try {
          items.push(JSON.parse(line));
        } catch (error) {
          throw fail(`line ${index + 1}: ${(error as Error).message}`);
        }
      }
      return items;
    }
    case 'CSV':
      return csvItems(text, config, fail);
    default:
      throw new ConfigurationError(`ItemReader InputType ${inputType} is not one the local runner reads`);
  }
}

function csvItems(
  text: string,
  config: NonNullable<ItemReaderSpec['ReaderConfig']>,
  fail: (what: string) => Error,
): Array<Record<string, string>> {
  const delimiter = CSV_DELIMITERS[config.CSVDelimiter ?? 'COMMA'];
  if (!delimiter) throw new ConfigurationError(`ItemReader CSVDelimiter ${config.CSVDelimiter} is not known`);
  const records: string[][] = [];
  const reader = new CsvReader(delimiter, '"', Number.MAX_SAFE_INTEGER);
  const sink = (fields: string[], line: number, problem: string | undefined) => {
    if (problem) throw fail(`line ${line}: ${problem}`);
    records.push(fields);
  };
  try {
    reader.push(text, sink);
    reader.end(sink);
  } catch (error) {
    throw error instanceof StatesError ? error : fail((error as Error).message);
  }
  let headers: string[];
  if ((config.CSVHeaderLocation ?? 'FIRST_ROW') === 'GIVEN') {
    if (!config.CSVHeaders?.length) {
      throw new ConfigurationError('ItemReader CSVHeaderLocation GIVEN needs CSVHeaders');
    }
    headers = config.CSVHeaders;
  } else {
    const first = records.shift();
    if (!first) return [];
    headers = first;
  }
  return records.map((fields) => Object.fromEntries(headers.map((name, i) => [name, fields[i] ?? ''])));
}

export interface BatcherSpec {
  MaxItemsPerBatch?: number;
  MaxInputBytesPerBatch?: number;
  /** Resolved already. */
  BatchInput?: unknown;
}

/** A child execution's input: one item, or a batch `{ BatchInput?, Items }`, with how many items it holds. */
export interface ChildInput {
  input: unknown;
  itemCount: number;
}

/**
 * Groups items as `ItemBatcher` does: a batch closes before it would hold more than
 * `MaxItemsPerBatch` items or more than `MaxInputBytesPerBatch` bytes of input (the child's whole
 * input, BatchInput included, as JSON in UTF-8). An item that alone is over the byte limit fails the
 * map run, as no batch can carry it.
 */
export function batchItems(items: readonly unknown[], batcher: BatcherSpec | undefined): ChildInput[] {
  if (!batcher) return items.map((input) => ({ input, itemCount: 1 }));
  const maxItems = batcher.MaxItemsPerBatch ?? Number.POSITIVE_INFINITY;
  const maxBytes = batcher.MaxInputBytesPerBatch ?? Number.POSITIVE_INFINITY;
  const wrap = (batch: unknown[]) =>
    batcher.BatchInput === undefined ? { Items: batch } : { BatchInput: batcher.BatchInput, Items: batch };
  // `{"Items":[]}` plus BatchInput; each item adds its own bytes and, after the first, a comma.
  const baseBytes = payloadBytes(wrap([]));
  const batches: ChildInput[] = [];
  let current: unknown[] = [];
  let bytes = baseBytes;
  for (const item of items) {
    const itemBytes = payloadBytes(item);
    if (baseBytes + itemBytes > maxBytes) {
      throw new StatesError(
        'States.Runtime',
        `an item of ${itemBytes} bytes does not fit a batch of at most ${maxBytes} bytes (MaxInputBytesPerBatch)`,
      );
    }
    const added = itemBytes + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length + 1 > maxItems || bytes + added > maxBytes)) {
      batches.push({ input: wrap(current), itemCount: current.length });
      current = [];
      bytes = baseBytes;
    }
    bytes += itemBytes + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) batches.push({ input: wrap(current), itemCount: current.length });
  return batches;
}
