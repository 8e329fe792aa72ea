import type { Contract } from './contract.js';

/**
 * The columns of a dataset's curated table, as the Glue Data Catalog (and so Athena) types them,
 * derived from the contract's JSON Schema. The same mapping gives the Parquet types the curated
 * files are written with (integer → INT64 = bigint, number → DOUBLE = double, `format: date` →
 * DATE, `format: date-time` → TIMESTAMP), so the table and the files agree; the schema-evolution
 * check (schema-evolution.ts) compares two contracts through it.
 */

/** How the curated zone stores a dataset's rows. */
export type CuratedFormat = 'parquet' | 'jsonl';

/** One column of a curated table. */
export interface CuratedColumn {
  name: string;
  /** A Hive/Glue type: bigint, double, boolean, string, date, timestamp, struct<…>, array<…>. */
  type: string;
  /** Whether a row may hold null here: the column is not required, or its schema allows null. */
  nullable: boolean;
  /** The column's `description` in the contract, shown as the Glue column comment. */
  comment?: string;
}

/**
 * The curated format a contract asks for (`curated: { format }`), parquet when it says nothing.
 * The one place that reads the setting, so that where the contract parser gives it a default,
 * only this line changes.
 */
export function curatedFormatOf(contract: Contract): CuratedFormat {
  return (contract as { curated?: { format?: CuratedFormat } }).curated?.format ?? 'parquet';
}

/** The curated table's columns of a contract, in the order of `schema.properties`. */
export function curatedColumns(contract: Pick<Contract, 'schema'>): CuratedColumn[] {
  const required = new Set(contract.schema.required ?? []);
  return Object.entries(contract.schema.properties).map(([name, schema]) => {
    const { type, nullable } = glueTypeOf(schema);
    const description = typeof schema.description === 'string' ? schema.description : undefined;
    return {
      name,
      type,
      nullable: nullable || !required.has(name),
      ...(description === undefined ? {} : { comment: description }),
    };
  });
}

/**
 * The Glue type of one JSON Schema, and whether it allows null. A schema Parquet cannot type
 * more precisely (several non-null types, an object without `properties`, no `type` at all) is a
 * string holding the value's JSON text, which every reader can parse.
 */
export function glueTypeOf(schema: Record<string, unknown>): { type: string; nullable: boolean } {
  const declared = [schema.type].flat().filter((t): t is string => typeof t === 'string');
  const nullable = declared.includes('null') || (Array.isArray(schema.enum) && schema.enum.includes(null));
  const types = declared.filter((t) => t !== 'null');
  const only = types.length === 1 ? types[0] : types.length === 0 ? typeOfValues(schema) : undefined;
  switch (only) {
    case 'integer':
      return { type: 'bigint', nullable };
    case 'number':
      return { type: 'double', nullable };
    case 'boolean':
      return { type: 'boolean', nullable };
    case 'string':
      return {
        type: schema.format === 'date' ? 'date' : schema.format === 'date-time' ? 'timestamp' : 'string',
        nullable,
      };
    case 'array': {
      const items = schema.items;
      const item =
        items !== null && typeof items === 'object' && !Array.isArray(items)
          ? glueTypeOf(items as Record<string, unknown>).type
          : 'string';
      return { type: `array<${item}>`, nullable };
    }
    case 'object': {
      const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
      if (!properties || Object.keys(properties).length === 0) return { type: 'string', nullable };
      const fields = Object.entries(properties).map(([name, field]) => `${name}:${glueTypeOf(field).type}`);
      return { type: `struct<${fields.join(',')}>`, nullable };
    }
    default:
      return { type: 'string', nullable };
  }
}

/** The JSON type of a schema that gives none but lists its values (`enum`, `const`), if they share one. */
function typeOfValues(schema: Record<string, unknown>): string | undefined {
  const values = [
    ...(Array.isArray(schema.enum) ? schema.enum : []),
    ...('const' in schema ? [schema.const] : []),
  ]
    .filter((v) => v !== null)
    .map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v));
  const kinds = new Set(values);
  if (kinds.size === 1) return [...kinds][0];
  if (kinds.size === 2 && kinds.has('integer') && kinds.has('number')) return 'number';
  return undefined;
}
