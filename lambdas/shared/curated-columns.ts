import type { Contract, CuratedFormat } from './contract.js';
import { kindOf, type ParquetKind } from './parquet-schema.js';

export type { CuratedFormat };

/**
 * The columns of a dataset's curated table, as the Glue Data Catalog (and so Athena) types them,
 * derived from the contract's JSON Schema. The same mapping gives the Parquet types the curated
 * files are written with (integer → INT64 = bigint, number → DOUBLE = double, `format: date` →
 * DATE, `format: date-time` → TIMESTAMP), so the table and the files agree; the schema-evolution
 * check (schema-evolution.ts) compares two contracts through it.
 */

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
 * The curated format a contract asks for (`curated: { format }`; the contract loader makes it
 * parquet when the contract says nothing).
 */
export function curatedFormatOf(contract: Pick<Contract, 'curated'>): CuratedFormat {
  return contract.curated.format;
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
 * A property's Glue/Hive type: the type of the Parquet column the curated files are written with
 * (parquet-schema.ts `kindOf`), so that the table and the files cannot disagree. What Parquet
 * holds as JSON text (a loosely typed property) is a string column.
 */
export function glueTypeOf(schema: Record<string, unknown>): { type: string; nullable: boolean } {
  const { kind, nullable } = kindOf(schema);
  return { type: hiveTypeOf(kind), nullable };
}

function hiveTypeOf(kind: ParquetKind): string {
  switch (kind.type) {
    case 'int64':
      return 'bigint';
    case 'double':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    case 'string':
    case 'json':
      return 'string';
    case 'group':
      return `struct<${kind.fields.map((f) => `${f.name}:${hiveTypeOf(f.kind)}`).join(',')}>`;
    case 'list':
      return `array<${hiveTypeOf(kind.element.kind)}>`;
  }
}
