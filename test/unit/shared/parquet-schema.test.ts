import { describe, expect, it } from '@jest/globals';
import type { RecordSchema } from '../../../lambdas/shared/contract.js';
import { UnrepresentableValue } from '../../../lambdas/shared/errors.js';
import {
  describeKind,
  isoOfMicros,
  microsOf,
  parquetFields,
  recordOf,
  toParquetValue,
} from '../../../lambdas/shared/parquet-schema.js';
import { parquetChunks } from '../../../lambdas/shared/parquet-write.js';

const schemaOf = (properties: RecordSchema['properties'], required?: string[]): RecordSchema => ({
  type: 'object',
  properties,
  ...(required ? { required } : {}),
});

/** Each property's column as docs/curated.md names its type, and whether it is nullable. */
function columns(properties: RecordSchema['properties'], required?: string[]) {
  return Object.fromEntries(
    parquetFields(schemaOf(properties, required)).map((f) => [
      f.name,
      `${describeKind(f.kind)}${f.nullable ? '?' : ''}`,
    ]),
  );
}

const ORIGIN = { source: 'validated/orders/part-00000.jsonl', line: 4 };

describe('parquetFields', () => {
  it('maps each JSON Schema type and format to its Parquet type', () => {
    expect(
      columns(
        {
          i: { type: 'integer' },
          n: { type: 'number' },
          b: { type: 'boolean' },
          s: { type: 'string' },
          d: { type: 'string', format: 'date' },
          t: { type: 'string', format: 'date-time' },
          e: { type: 'string', format: 'email' },
        },
        ['i', 'n', 'b', 's', 'd', 't', 'e'],
      ),
    ).toEqual({
      i: 'INT64',
      n: 'DOUBLE',
      b: 'BOOLEAN',
      s: 'STRING',
      d: 'DATE',
      t: 'TIMESTAMP(µs, UTC)',
      e: 'STRING',
    });
  });

  it('makes a column nullable when the property is not required or its type allows null', () => {
    expect(
      columns(
        { kept: { type: 'string' }, nullable: { type: ['string', 'null'] }, optional: { type: 'string' } },
        ['kept', 'nullable'],
      ),
    ).toEqual({ kept: 'STRING', nullable: 'STRING?', optional: 'STRING?' });
  });

  it('maps objects with properties to groups and arrays of a schema to lists, at any depth', () => {
    expect(
      columns(
        {
          address: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
          tags: { type: 'array', items: { type: 'string' } },
          matrix: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
        },
        ['address', 'tags', 'matrix'],
      ),
    ).toEqual({ address: 'group of city', tags: 'LIST of STRING', matrix: 'LIST of LIST of DOUBLE' });
    const [address] = parquetFields(
      schemaOf({
        address: { type: 'object', required: ['city'], properties: { city: { type: 'string' }, zip: {} } },
      }),
    );
    expect(address!.kind).toEqual({
      type: 'group',
      fields: [
        { name: 'city', nullable: false, kind: { type: 'string' } },
        { name: 'zip', nullable: true, kind: { type: 'json' } },
      ],
    });
  });

  it('keeps what the schema types loosely as JSON text', () => {
    expect(
      columns({
        untyped: {},
        any: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
        one: { oneOf: [{ type: 'string' }] },
        ref: { $ref: '#/$defs/x' },
        several: { type: ['string', 'integer'] },
        free: { type: 'object' },
        tuple: { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'string' } },
        anyItems: { type: 'array' },
        onlyNull: { type: 'null' },
        mixedEnum: { enum: ['a', 1] },
      }),
    ).toEqual({
      untyped: 'JSON text?',
      any: 'JSON text?',
      one: 'JSON text?',
      ref: 'JSON text?',
      several: 'JSON text?',
      free: 'JSON text?',
      tuple: 'JSON text?',
      anyItems: 'JSON text?',
      onlyNull: 'JSON text?',
      mixedEnum: 'JSON text?',
    });
  });

  it('types an enum or const without a type by its values, and integer with number as DOUBLE', () => {
    expect(
      columns(
        {
          level: { enum: [1, 2, 3] },
          code: { const: 'EUR' },
          maybe: { enum: ['a', null] },
          ratio: { type: ['integer', 'number'] },
        },
        ['level', 'code', 'maybe', 'ratio'],
      ),
    ).toEqual({ level: 'INT64', code: 'STRING', maybe: 'STRING?', ratio: 'DOUBLE' });
  });
});

describe('toParquetValue', () => {
  const field = (properties: RecordSchema['properties'], required?: string[]) =>
    parquetFields(schemaOf(properties, required))[0]!;

  it('gives INT64 and TIMESTAMP values as bigints and DATE as days since the epoch', () => {
    expect(toParquetValue(field({ i: { type: 'integer' } }), -3, ORIGIN)).toBe(-3n);
    expect(toParquetValue(field({ d: { type: 'string', format: 'date' } }), '1970-01-11', ORIGIN)).toBe(10);
    expect(
      toParquetValue(field({ t: { type: 'string', format: 'date-time' } }), '1970-01-01T00:00:01.5Z', ORIGIN),
    ).toBe(1_500_000n);
  });

  it('converts nested values and leaves out nothing a group declares', () => {
    const address = field({
      a: { type: 'object', properties: { d: { type: 'string', format: 'date' }, n: { type: 'integer' } } },
    });
    expect(toParquetValue(address, { d: '1970-01-02', other: 1 }, ORIGIN)).toEqual({ d: 1, n: null });
  });

  it('refuses a value its column cannot hold with UnrepresentableValue naming where it is', () => {
    const integer = field({ i: { type: 'integer' } });
    expect(() => toParquetValue(integer, 2 ** 64, ORIGIN)).toThrow(UnrepresentableValue);
    expect(() => toParquetValue(integer, 'x', ORIGIN)).toThrow(
      'validated/orders/part-00000.jsonl line 4, column \'i\': "x" cannot be written to its Parquet column (INT64); expected an integer',
    );
    expect(() => toParquetValue(field({ s: { type: 'string' } }, ['s']), null, ORIGIN)).toThrow(
      /column is required/,
    );
  });
});

describe('microsOf', () => {
  it('keeps the fraction to the microsecond and applies the offset', () => {
    expect(microsOf('1970-01-01T01:00:00.000001+01:00')).toBe(1n);
    expect(microsOf('1970-01-01T00:00:00.1234567z')).toBe(123_456n);
    expect(microsOf('1969-12-31T23:59:59.999999Z')).toBe(-1n);
  });

  it('reads a date-time without a zone as UTC, and refuses text that is none', () => {
    expect(microsOf('1970-01-01T00:00:02')).toBe(2_000_000n);
    expect(microsOf('soon')).toBeUndefined();
  });
});

describe('reading values back', () => {
  it('writes microseconds as ISO 8601 UTC text with six fraction digits', () => {
    expect(isoOfMicros(1_500_001n)).toBe('1970-01-01T00:00:01.500001Z');
    expect(isoOfMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });

  it('gives a record numbers for INT64 and leaves out its null columns', () => {
    expect(recordOf({ id: 3n, note: null, nested: { n: 4n, gone: null }, list: [1n] })).toEqual({
      id: 3,
      nested: { n: 4, gone: null },
      list: [1],
    });
  });
});

describe('parquetChunks', () => {
  it('hands on each row group before reading the records of the next', async () => {
    // Prepare
    const fields = parquetFields(schemaOf({ id: { type: 'integer' } }));
    let pulled = 0;
    async function* records() {
      for (let i = 0; i < 10; i++) {
        pulled++;
        yield JSON.stringify({ id: i });
      }
    }
    const chunks = parquetChunks(records(), fields, { source: 'test', rowGroupRows: 4 });
    // Act
    const header = await chunks.next();
    const firstGroup = await chunks.next();
    const pulledAtFirstGroup = pulled;
    const rest = await collect(chunks);
    // Assess
    expect(Buffer.from(header.value as Uint8Array).toString()).toBe('PAR1');
    expect(firstGroup.value?.length).toBeGreaterThan(0);
    expect(pulledAtFirstGroup).toBe(4);
    expect(pulled).toBe(10);
    expect(Buffer.from(rest.at(-1)!).subarray(-4).toString()).toBe('PAR1');
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
