import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { CsvReader, RecordTooLong } from '../../../lambdas/validate/csv-reader.js';
import { JsonLinesReader } from '../../../lambdas/validate/jsonl-reader.js';
import {
  planBatch,
  planShards,
  type RangeReader,
  type ShardFormat,
  type ShardPlan,
  shardTargetBytes,
} from '../../../lambdas/validate/shard-plan.js';
import { random } from '../../support/random.js';

const csv = (maxRecordBytes = 8 * 1024 * 1024): ShardFormat & { type: 'csv' } => ({
  type: 'csv',
  delimiter: ',',
  quote: '"',
  max_record_bytes: maxRecordBytes,
});
const jsonl = (maxRecordBytes = 8 * 1024 * 1024): ShardFormat & { type: 'jsonl' } => ({
  type: 'jsonl',
  max_record_bytes: maxRecordBytes,
});

/** An object in memory, read by range, counting the bytes read. */
function inMemory(content: string | Uint8Array): {
  bytes: Uint8Array;
  read: RangeReader;
  bytesRead: () => number;
} {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  let total = 0;
  const read: RangeReader = async (start, end) => {
    if (start < 0 || end > bytes.length || start > end) throw new RangeError(`bad range ${start}-${end}`);
    total += end - start;
    return bytes.subarray(start, end);
  };
  return { bytes, read, bytesRead: () => total };
}

/** Decodes a range strictly, as the validators do: a byte order mark is dropped only at the start of the object. */
function decode(bytes: Uint8Array, start: number, end: number): string {
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(start, end));
  return start === 0 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

type CsvRecord = [fields: string[], problem: string | undefined];

function csvRecords(text: string, delimiter = ',', quote = '"'): CsvRecord[] {
  const records: CsvRecord[] = [];
  const reader = new CsvReader(delimiter, quote, 1 << 30);
  const sink = (fields: string[], _line: number, problem: string | undefined) =>
    records.push([fields, problem]);
  reader.push(text, sink);
  reader.end(sink);
  return records;
}

function jsonlRecords(text: string): string[] {
  const lines: string[] = [];
  const reader = new JsonLinesReader(1 << 30);
  reader.push(text, (line) => lines.push(line));
  reader.end((line) => lines.push(line));
  return lines;
}

/** The records of each shard read on its own (the CSV header from the header range), in plan order. */
function recordsByShard<R>(bytes: Uint8Array, plan: ShardPlan, parse: (text: string) => R[]): R[][] {
  const byShard = plan.shards.map((shard) => parse(decode(bytes, shard.start, shard.end)));
  return plan.header === undefined ? byShard : [parse(decode(bytes, 0, plan.header.end)), ...byShard];
}

/** The plan's ranges cover the object (after the header) in order, without gap or overlap. */
function expectCovering(plan: ShardPlan, size: number): void {
  let at = plan.header?.end ?? 0;
  for (const [index, shard] of plan.shards.entries()) {
    expect(shard).toEqual({ index, start: at, end: expect.any(Number) });
    at = shard.end;
  }
  expect(at).toBe(size);
}

async function planCsv(text: string, target: number, format = csv()) {
  const object = inMemory(text);
  const plan = await planShards(object.read, object.bytes.length, format, target);
  expectCovering(plan, object.bytes.length);
  const parse = (part: string) => csvRecords(part, format.delimiter, format.quote);
  return { ...object, plan, byShard: recordsByShard(object.bytes, plan, parse) };
}

describe('shard plan: CSV boundaries', () => {
  it('never starts a shard inside a quoted field that holds line breaks', async () => {
    // Prepare
    const text = `id,note\n1,"first\nsecond\nthird"\n2,plain\n3,"x\ny"\n`;
    const insideQuote = text.indexOf('second');
    // Act
    const { plan, byShard } = await planCsv(text, insideQuote - 'id,note\n'.length);
    // Assess
    expect(byShard.flat()).toEqual(csvRecords(text));
    // From a cut in `2,plain`, line 4 or line 5 could each start a record: that cut is dropped
    expect(plan.shards.map((shard) => shard.start)).toEqual([8, text.indexOf('2,plain')]);
  });

  it('does not start a shard at a line inside a quoted field that looks like a record', async () => {
    // Prepare
    const text = `a,b\nk,"a\n1,2,3\n"\nm,n\n`;
    const lookalike = text.indexOf('1,2,3');
    // Act
    const { plan, byShard } = await planCsv(text, lookalike - 4);
    // Assess
    expect(plan.shards.map((shard) => shard.start)).not.toContain(lookalike);
    expect(byShard.flat()).toEqual(csvRecords(text));
    expect(byShard.slice(1).map((records) => records.length)).toEqual([1, 1]);
  });

  it('keeps CR LF together when a cut falls between them', async () => {
    // Prepare
    const text = 'a,b\r\n1,2\r\n3,4\r\n5,6\r\n';
    const lf = text.indexOf('\n', text.indexOf('1,2'));
    // Act
    const { bytes, plan, byShard } = await planCsv(text, lf - 5);
    // Assess
    for (const shard of plan.shards.slice(1)) expect(bytes[shard.start - 1]).toBe(10);
    expect(plan.shards[1]!.start).toBe(lf + 1);
    expect(byShard.flat()).toEqual(csvRecords(text));
  });

  it('cuts at a character boundary when a cut falls inside a multi-byte UTF-8 character', async () => {
    // Prepare
    const text = 'name\nélan😀\n北京\n😀😀\n';
    const bytes = new TextEncoder().encode(text);
    const emojiAt = bytes.indexOf(0xf0);
    // Act: a cut two bytes into the 4-byte character
    const { plan, byShard } = await planCsv(text, emojiAt + 2 - 5);
    // Assess: each range decodes strictly on its own
    expect(byShard.flat()).toEqual(csvRecords(text));
    expect(plan.shards.length).toBeGreaterThan(1);
  });

  it('gives every shard a record when the target is far smaller than a record, merging empty lines', async () => {
    // Prepare
    const text = 'h1,h2\n\n\n1,"long\nvalue"\n\r\n\n2,x\n\n3,y';
    // Act
    const { byShard } = await planCsv(text, 1);
    // Assess
    expect(byShard.flat()).toEqual(csvRecords(text));
    expect(byShard.slice(1).map((records) => records.length)).toEqual([1, 1, 1]);
  });

  it('plans an object of only a header as one empty shard after it', async () => {
    // Act
    const { plan } = await planCsv('h1,h2\n\n', 1);
    // Assess
    expect(plan).toEqual({ header: { end: 7 }, shards: [{ index: 0, start: 7, end: 7 }], fallbacks: 0 });
  });

  it('keeps a byte order mark in the header range and reads the last record without a final line break', async () => {
    // Prepare
    const text = '\ufeffa,b\n1,2\n3,4\n5,6';
    // Act
    const { plan, byShard } = await planCsv(text, 4);
    // Assess
    expect(plan.header).toEqual({ end: 3 + 4 });
    expect(byShard.flat()).toEqual(csvRecords(text.slice(1)));
    expect(byShard.at(-1)).toEqual([[['5', '6'], undefined]]);
  });

  it('reads a byte order mark alone on the first line as an empty line before the header, as the reader does', async () => {
    // Prepare
    const text = '\ufeff\n\na,b\n1,2\n3,4\n5,6\n';
    // Act
    const { plan, byShard } = await planCsv(text, 4);
    // Assess
    expect(plan.header).toEqual({ end: 3 + 2 + 4 });
    expect(byShard.flat()).toEqual(csvRecords(text.slice(1)));
  });

  it('falls back to a serial scan where every other line could be inside quotes, and counts it', async () => {
    // Prepare: `x` lines and quote lines alternate; from a cut, both quote states read on without contradiction
    const text = `h\n${'x\n"x\n"\n'.repeat(6_000)}`;
    // Act
    const { plan, byShard } = await planCsv(text, 20_000);
    // Assess
    expect(plan.fallbacks).toBeGreaterThan(0);
    expect(byShard.flat()).toEqual(csvRecords(text));
  });

  it('decides a file without quotes by the record limit, without a serial scan', async () => {
    // Prepare
    const row = 'abc,defgh,12345\n';
    const text = `a,b,c\n${row.repeat(8_000)}`;
    // Act
    const { plan, byShard, bytesRead } = await planCsv(text, 32 * 1024, csv(1024));
    // Assess
    expect(plan.fallbacks).toBe(0);
    expect(plan.shards.length).toBe(4);
    expect(bytesRead()).toBeLessThan(text.length / 2);
    expect(byShard.flat()).toEqual(csvRecords(text));
  });

  it('refuses a record longer than format.max_record_bytes with RecordTooLong', async () => {
    // Prepare: a quote opened on line 2 and never closed
    const object = inMemory(`a,b\n1,"${'x'.repeat(5000)}\n`.repeat(2));
    // Act
    const act = planShards(object.read, object.bytes.length, csv(1024), 2000);
    // Assess
    await expect(act).rejects.toBeInstanceOf(RecordTooLong);
    await expect(act).rejects.toThrow(
      /byte offset \d+: the record holding this byte is over the limit of 1024 bytes/,
    );
  });

  it('plans a CSV with a delimiter that is not ASCII as one whole shard', async () => {
    // Prepare
    const object = inMemory('a§b\n1§2\n3§4\n');
    // Act
    const plan = await planShards(object.read, object.bytes.length, { ...csv(), delimiter: '§' }, 4);
    // Assess
    expect(plan).toEqual({ shards: [{ index: 0, start: 0, end: object.bytes.length }], fallbacks: 0 });
  });

  it('plans an object no larger than the target as one whole shard without reading it', async () => {
    // Prepare
    const object = inMemory('a,b\n1,2\n');
    // Act
    const plan = await planShards(object.read, object.bytes.length, csv(), object.bytes.length);
    // Assess
    expect(plan).toEqual({ shards: [{ index: 0, start: 0, end: 8 }], fallbacks: 0 });
    expect(object.bytesRead()).toBe(0);
  });
});

describe('shard plan: JSON Lines boundaries', () => {
  it('cuts just after a line feed and skips blank lines', async () => {
    // Prepare
    const text = '{"a":1}\r\n  \n\n{"a":"é\\n"}\n{"a":3}';
    const object = inMemory(text);
    // Act
    const plan = await planShards(object.read, object.bytes.length, jsonl(), 3);
    // Assess
    expectCovering(plan, object.bytes.length);
    const bytes = object.bytes;
    expect(plan.shards.map((shard) => shard.start)).toEqual([
      0,
      bytes.indexOf(0x7b, 1),
      bytes.lastIndexOf(0x7b),
    ]);
    expect(recordsByShard(object.bytes, plan, jsonlRecords).flat()).toEqual(jsonlRecords(text));
  });

  it('merges a first range of only blank lines into the shard after it', async () => {
    // Prepare
    const text = `${'\r\n'.repeat(10)}{"a":1}\n{"a":2}\n`;
    const object = inMemory(text);
    // Act
    const plan = await planShards(object.read, object.bytes.length, jsonl(), 3);
    // Assess
    expect(plan.shards.map((shard) => shard.start)).toEqual([0, text.indexOf('{"a":2}')]);
    expect(recordsByShard(object.bytes, plan, jsonlRecords)).toEqual([['{"a":1}'], ['{"a":2}']]);
  });

  it('refuses a line longer than format.max_record_bytes at a cut with RecordTooLong', async () => {
    // Prepare
    const object = inMemory(`{"a":"${'x'.repeat(3000)}"}\n{"a":1}\n`);
    // Act
    const act = planShards(object.read, object.bytes.length, jsonl(1024), 100);
    // Assess
    await expect(act).rejects.toBeInstanceOf(RecordTooLong);
  });

  it('plans JSON documents whole: they are parsed whole', async () => {
    // Prepare
    const object = inMemory('[{"a":1},\n{"a":2}]\n');
    // Act
    const plan = await planShards(object.read, object.bytes.length, { ...jsonl(), documents: {} }, 4);
    // Assess
    expect(plan).toEqual({ shards: [{ index: 0, start: 0, end: object.bytes.length }], fallbacks: 0 });
  });
});

describe('shard plan: batches and the contract', () => {
  it('plans each small object of a batch as one whole shard and cuts a large one', async () => {
    // Prepare
    const large = inMemory('{"a":1}\n{"a":2}\n{"a":3}\n');
    const readFrom = new Set<string>();
    const open =
      (key: string): RangeReader =>
      (start, end) => {
        readFrom.add(key);
        return large.read(start, end);
      };
    const objects = [
      { key: 'small-1.jsonl', size: 8 },
      { key: 'large.jsonl', size: large.bytes.length },
      { key: 'small-2.jsonl', size: 0 },
    ];
    // Act
    const plans = [];
    for await (const plan of planBatch(objects, open, jsonl(), 10)) plans.push(plan);
    // Assess
    expect(plans.map(({ key, plan }) => [key, plan.shards.map((shard) => [shard.start, shard.end])])).toEqual(
      [
        ['small-1.jsonl', [[0, 8]]],
        [
          'large.jsonl',
          [
            [0, 16],
            [16, 24],
          ],
        ],
        ['small-2.jsonl', [[0, 0]]],
      ],
    );
    expect([...readFrom]).toEqual(['large.jsonl']);
  });

  it('reads the shard target from format.shard_mb, 256 MiB by default', () => {
    // Prepare
    const contract = (format: string) =>
      parseContract(
        [
          'name: shop',
          'source: { type: s3-upload, prefix: landing/shop/ }',
          `format: ${format}`,
          'schema: { type: object, properties: { id: { type: integer } } }',
        ].join('\n'),
        '<inline>',
      );
    // Act
    const byDefault = shardTargetBytes(contract('{ type: csv }').format);
    const set = shardTargetBytes(contract('{ type: jsonl, shard_mb: 64 }').format);
    // Assess
    expect(byDefault).toBe(256 * 1024 * 1024);
    expect(set).toBe(64 * 1024 * 1024);
  });
});

/**
 * Random CSV: quoted fields with delimiters, line breaks, doubled quotes, text after a closing
 * quote; CRLF; empty lines; multi-byte text; now and then a stretch no speculation can decide.
 */
function randomCsv(next: () => number, rows: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const plain = ['', 'a', '12', 'é', '北京', '😀', 'x"y', ' ', 'abc def'];
  const ambiguous = ['x\n"x\n"\n', 'a,b\r\n"c\n"\r\n', 'y\n"\n"\n'];
  const quoted = [
    '"a,b"',
    '"\n"',
    '"a\r\nb"',
    '"say ""hi"""',
    '"x\n1,2,3\n"',
    '""',
    '"é\n😀"',
    '"ab"cd',
    '","',
  ];
  let text = 'c1,c2,c3\n';
  for (let row = 0; row < rows; row++) {
    const width = 1 + Math.floor(next() * 4);
    const fields = Array.from({ length: width }, () => (next() < 0.35 ? pick(quoted) : pick(plain)));
    text += fields.join(',') + pick(['\n', '\n', '\r\n']);
    if (next() < 0.05) text += pick(['\n', '\r\n']);
    // Now and then a long stretch where every other line could be inside quotes: the serial fallback
    if (next() < 0.004) text += Array.from({ length: 3000 }, () => pick(ambiguous)).join('');
  }
  return next() < 0.3 ? text.replace(/\r?\n$/, '') : text;
}

function randomJsonl(next: () => number, rows: number): string {
  const values = ['1', '"é"', '"a\\nb"', '{"k":[1,2]}', '"😀,\\""', 'null', '"\\r\\n"'];
  let text = '';
  for (let row = 0; row < rows; row++) {
    text += `{"v":${values[Math.floor(next() * values.length)]}}`;
    text += next() < 0.3 ? '\r\n' : '\n';
    if (next() < 0.05) text += next() < 0.5 ? '\n' : ' \t\n';
  }
  return text;
}

describe('shard plan: property', () => {
  it.each(Array.from({ length: 60 }, (_, seed) => seed + 1))(
    'reads the same CSV records shard by shard as whole (seed %i)',
    async (seed) => {
      // Prepare
      const next = random(seed);
      const [delimiter, quote] = next() < 0.3 ? ['\t', "'"] : [',', '"'];
      const text = randomCsv(next, 20 + Math.floor(next() * 400)).replace(/[,"]/g, (c) =>
        c === ',' ? delimiter : quote,
      );
      const size = new TextEncoder().encode(text).length;
      const target = 1 + Math.floor(next() ** 2 * size);
      const format = { ...csv(next() < 0.5 ? 1024 : 8 * 1024 * 1024), delimiter, quote };
      // Act
      const { plan, byShard } = await planCsv(text, target, format);
      // Assess
      expect(byShard.flat()).toEqual(csvRecords(text, delimiter, quote));
      for (const records of byShard.slice(1)) expect(records.length).toBeGreaterThan(0);
      expect(plan.fallbacks).toBeLessThanOrEqual(Math.ceil(size / target));
    },
  );

  it.each(Array.from({ length: 30 }, (_, seed) => seed + 1))(
    'reads the same JSON Lines records shard by shard as whole (seed %i)',
    async (seed) => {
      // Prepare
      const next = random(seed);
      const object = inMemory(randomJsonl(next, 10 + Math.floor(next() * 300)));
      const target = 1 + Math.floor(next() ** 2 * object.bytes.length);
      // Act
      const plan = await planShards(object.read, object.bytes.length, jsonl(1024), target);
      // Assess
      expectCovering(plan, object.bytes.length);
      const byShard = recordsByShard(object.bytes, plan, jsonlRecords);
      expect(byShard.flat()).toEqual(jsonlRecords(decode(object.bytes, 0, object.bytes.length)));
      for (const lines of byShard) expect(lines.length).toBeGreaterThan(0);
      expect(plan.fallbacks).toBe(0);
    },
  );
});
