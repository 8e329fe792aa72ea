/**
 * The Parquet columns of a dataset, from the JSON Schema of its records (docs/curated.md): what
 * the curated zone's files hold and how a record's values become Parquet values and back.
 *
 * Each declared property is a column, in the schema's order. A property's type gives the column's:
 * integer → INT64, number → DOUBLE, boolean → BOOLEAN, string → STRING (UTF8), string with
 * `format: date` → DATE, `format: date-time` → TIMESTAMP(µs, UTC), an object with properties → a
 * group of its properties, an array whose `items` is a schema → a LIST of that. What the schema
 * types loosely (no type, anyOf/oneOf/allOf, $ref, several types, an object without properties,
 * tuple arrays) is one JSON column: the value's JSON text, which readers parse as they need. A
 * column is nullable unless the property is required and its type does not allow null.
 */
import type { SchemaElement } from 'hyparquet';
import type { RecordSchema } from './contract.js';
import { parseDateTime } from './date-time.js';
import { UnrepresentableValue } from './errors.js';

export type ParquetKind =
  | { type: 'int64' }
  | { type: 'double' }
  | { type: 'boolean' }
  | { type: 'string' }
  | { type: 'date' }
  | { type: 'timestamp' }
  | { type: 'json' }
  | { type: 'group'; fields: ParquetField[] }
  | { type: 'list'; element: ParquetField };

export interface ParquetField {
  name: string;
  nullable: boolean;
  kind: ParquetKind;
}

type PropertySchema = Record<string, unknown> | boolean;

const SCALARS: Record<string, ParquetKind['type']> = {
  integer: 'int64',
  number: 'double',
  boolean: 'boolean',
  string: 'string',
};

/** The columns of a dataset's curated Parquet files: one per declared property of its records. */
export function parquetFields(schema: RecordSchema): ParquetField[] {
  return fieldsOf(schema.properties, schema.required);
}

function fieldsOf(properties: Record<string, PropertySchema>, required: unknown): ParquetField[] {
  const mandatory = new Set(Array.isArray(required) ? required : []);
  return Object.entries(properties).map(([name, property]) => {
    const { kind, nullable } = kindOf(property);
    return { name, nullable: nullable || !mandatory.has(name), kind };
  });
}

/** A property's column kind, and whether its schema allows null. */
export function kindOf(property: PropertySchema): { kind: ParquetKind; nullable: boolean } {
  if (typeof property !== 'object') return { kind: { type: 'json' }, nullable: true };
  const types = typesOf(property);
  const nullable = types === undefined || types.includes('null');
  const loose = ['anyOf', 'oneOf', 'allOf', 'not', '$ref', '$dynamicRef', 'if'].some((k) => k in property);
  const named = types?.filter((t) => t !== 'null') ?? [];
  // integer ⊂ number: a column that holds both is DOUBLE.
  const single =
    named.length === 2 && named.includes('integer') && named.includes('number') ? ['number'] : named;
  if (loose || single.length !== 1) return { kind: { type: 'json' }, nullable: true };
  const type = single[0]!;
  if (type === 'string') {
    if (property.format === 'date') return { kind: { type: 'date' }, nullable };
    if (property.format === 'date-time') return { kind: { type: 'timestamp' }, nullable };
  }
  const scalar = SCALARS[type];
  if (scalar) return { kind: { type: scalar } as ParquetKind, nullable };
  if (type === 'object' && isSchemaMap(property.properties) && Object.keys(property.properties).length > 0) {
    return { kind: { type: 'group', fields: fieldsOf(property.properties, property.required) }, nullable };
  }
  if (type === 'array' && isSchema(property.items) && !('prefixItems' in property)) {
    const element = kindOf(property.items);
    return { kind: { type: 'list', element: { name: 'element', ...element } }, nullable };
  }
  return { kind: { type: 'json' }, nullable: true };
}

/** The JSON types a property schema names: its `type`, or those of an `enum`/`const` without one. */
function typesOf(property: Record<string, unknown>): string[] | undefined {
  if (typeof property.type === 'string') return [property.type];
  if (Array.isArray(property.type)) return property.type.filter((t): t is string => typeof t === 'string');
  const values =
    'const' in property ? [property.const] : Array.isArray(property.enum) ? property.enum : undefined;
  if (values === undefined || values.length === 0) return undefined;
  return [...new Set(values.map(jsonTypeOf))];
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function isSchema(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSchemaMap(value: unknown): value is Record<string, PropertySchema> {
  return isSchema(value);
}

/** The Parquet schema (flattened, depth first, as the file's footer holds it) of the columns. */
export function parquetSchemaOf(fields: readonly ParquetField[]): SchemaElement[] {
  return [{ name: 'root', num_children: fields.length }, ...fields.flatMap(elementsOf)];
}

function elementsOf(field: ParquetField): SchemaElement[] {
  const repetition_type = field.nullable ? 'OPTIONAL' : 'REQUIRED';
  const { name, kind } = field;
  switch (kind.type) {
    case 'int64':
      return [{ name, repetition_type, type: 'INT64' }];
    case 'double':
      return [{ name, repetition_type, type: 'DOUBLE' }];
    case 'boolean':
      return [{ name, repetition_type, type: 'BOOLEAN' }];
    case 'string':
      return [
        {
          name,
          repetition_type,
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          logical_type: { type: 'STRING' },
        },
      ];
    case 'json':
      return [
        { name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' } },
      ];
    case 'date':
      return [
        { name, repetition_type, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } },
      ];
    case 'timestamp':
      return [
        {
          name,
          repetition_type,
          type: 'INT64',
          converted_type: 'TIMESTAMP_MICROS',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
        },
      ];
    case 'group':
      return [
        { name, repetition_type, num_children: kind.fields.length },
        ...kind.fields.flatMap(elementsOf),
      ];
    case 'list':
      // The three-level LIST every reader understands: <name> (LIST) / repeated list / element.
      return [
        { name, repetition_type, num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...elementsOf(kind.element),
      ];
  }
}

/** Where a value comes from, for messages: the file and line of the record. */
export interface ValueOrigin {
  source: string;
  line: number;
}

const DAY_MS = 86_400_000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** RFC 3339 date-time (JSON Schema's `format: date-time`), with its fraction kept to the microsecond. */
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))$/;

/**
 * A record's value as the Parquet writer takes it for a column of this kind: bigint for INT64 and
 * TIMESTAMP (µs), days since the epoch for DATE, the value itself for JSON (the writer writes its
 * JSON text), objects and arrays for groups and lists; null for null or absent. Throws
 * `UnrepresentableValue` for a value the column cannot hold (the contract's schema admits it, but
 * Parquet has no place for it, such as an integer beyond 64 bits).
 */
export function toParquetValue(field: ParquetField, value: unknown, origin: ValueOrigin): unknown {
  if (value === null || value === undefined) {
    if (!field.nullable) refuse(field, value, origin, 'a value (the column is required)');
    return null;
  }
  const { kind } = field;
  switch (kind.type) {
    case 'int64': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return refuse(field, value, origin, 'an integer');
      const big = BigInt(value);
      if (big < INT64_MIN || big > INT64_MAX)
        return refuse(field, value, origin, 'an integer that fits in 64 bits');
      return big;
    }
    case 'double':
      return typeof value === 'number' ? value : refuse(field, value, origin, 'a number');
    case 'boolean':
      return typeof value === 'boolean' ? value : refuse(field, value, origin, 'true or false');
    case 'string':
      return typeof value === 'string' ? value : refuse(field, value, origin, 'a string');
    case 'json':
      return value;
    case 'date': {
      const match = typeof value === 'string' ? /^(\d{4})-(\d\d)-(\d\d)$/.exec(value) : null;
      if (!match) return refuse(field, value, origin, 'a date (YYYY-MM-DD)');
      return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS;
    }
    case 'timestamp': {
      const micros = typeof value === 'string' ? microsOf(value) : undefined;
      if (micros === undefined || micros < INT64_MIN || micros > INT64_MAX) {
        return refuse(field, value, origin, 'a date-time (RFC 3339)');
      }
      return micros;
    }
    case 'group': {
      if (typeof value !== 'object' || Array.isArray(value)) return refuse(field, value, origin, 'an object');
      const record = value as Record<string, unknown>;
      const group: Record<string, unknown> = {};
      for (const child of kind.fields) {
        group[child.name] = toParquetValue(child, record[child.name], origin);
      }
      return group;
    }
    case 'list':
      if (!Array.isArray(value)) return refuse(field, value, origin, 'an array');
      return value.map((item) => toParquetValue(kind.element, item, origin));
  }
}

/**
 * Microseconds since the epoch of an RFC 3339 date-time, its offset applied; other texts as
 * `parseDateTime` reads them (milliseconds, a text without a zone as UTC).
 */
export function microsOf(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (!match) {
    const millis = parseDateTime(text);
    return millis === undefined ? undefined : BigInt(millis) * 1000n;
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const fraction = BigInt((match[7] ?? '').slice(0, 6).padEnd(6, '0'));
  const offset = match[8] ? 0 : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  const millis = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!) - offset * 60_000;
  if (Number.isNaN(millis)) return undefined;
  return BigInt(millis) * 1000n + fraction;
}

function refuse(field: ParquetField, value: unknown, origin: ValueOrigin, expected: string): never {
  const shown = typeof value === 'bigint' ? String(value) : JSON.stringify(value);
  throw new UnrepresentableValue(
    `${origin.source} line ${origin.line}, column '${field.name}': ${String(shown).slice(0, 80)} cannot be written ` +
      `to its Parquet column (${describeKind(field.kind)}); expected ${expected}. Give the contract ` +
      `\`curated: { format: jsonl }\` to keep such values as they are, or narrow the schema so validation refuses them.`,
  );
}

/** A column kind as docs/curated.md names it. */
export function describeKind(kind: ParquetKind): string {
  switch (kind.type) {
    case 'int64':
      return 'INT64';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'string':
      return 'STRING';
    case 'json':
      return 'JSON text';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP(µs, UTC)';
    case 'group':
      return `group of ${kind.fields.map((f) => f.name).join(', ')}`;
    case 'list':
      return `LIST of ${describeKind(kind.element.kind)}`;
  }
}

/**
 * How values read back from a curated Parquet file are decoded (hyparquet's parsers): a DATE as
 * `YYYY-MM-DD` and a TIMESTAMP as ISO 8601 UTC text to the microsecond, as records hold them in
 * JSON. JSON columns are parsed, strings decoded as UTF-8 (hyparquet's defaults).
 */
export const RECORD_PARSERS = {
  dateFromDays: (days: number): string => new Date(days * DAY_MS).toISOString().slice(0, 10),
  timestampFromMicroseconds: (micros: bigint): string => isoOfMicros(micros),
  timestampFromMilliseconds: (millis: bigint): string => new Date(Number(millis)).toISOString(),
};

/** ISO 8601 UTC text of microseconds since the epoch, with six fraction digits. */
export function isoOfMicros(micros: bigint): string {
  const below = ((micros % 1000n) + 1000n) % 1000n;
  const iso = new Date(Number((micros - below) / 1000n)).toISOString();
  return `${iso.slice(0, -1)}${String(below).padStart(3, '0')}Z`;
}

/**
 * A record as JSON holds it, from a row read back from a curated Parquet file (decoded with
 * RECORD_PARSERS): INT64 values as numbers, and null columns left out, as a record leaves out what
 * it does not have. It needs no schema, so a file written under an earlier contract reads the same.
 */
export function recordOf(row: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (value !== null && value !== undefined) record[name] = jsonValueOf(value);
  }
  return record;
}

function jsonValueOf(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : jsonValueOf(item)));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [name, item === undefined ? null : jsonValueOf(item)]),
    );
  }
  return value;
}
