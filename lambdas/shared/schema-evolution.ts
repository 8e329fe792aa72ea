import type { Contract } from './contract.js';
import { type CuratedFormat, curatedFormatOf, glueTypeOf } from './curated-columns.js';

/**
 * Whether a contract change keeps the dataset's curated table readable by those who read it:
 * Athena through the Glue table (which CDK replaces with the new contract's columns), pandas,
 * pyarrow and DuckDB over the files. The files already promoted are never rewritten, so every
 * rule asks: can a reader of the new table still read the old files, and does a query that
 * worked before still work? Each rule follows what the readers document (docs/deploy.md,
 * "Schema evolution"):
 * - Parquet columns are matched by name (Athena: "Handling schema updates"), so a column added
 *   anywhere reads as NULL in the older files; a removed column breaks the queries that name it.
 * - Athena reads a column as another type only for int → bigint, float → double and
 *   string → integer types ("Change a column data type"); partitions projected from the table
 *   all take the table's types, so there is no per-partition CAST. Parquet INT64 is not read
 *   as double, nor DOUBLE as bigint, nor a string as a date.
 * - JSON text has no stored type: an integer reads as double, so widening is fine in JSON Lines.
 */

/** What changed in one column (or field of a struct column, `address.city`). */
export type SchemaChangeKind =
  | 'added'
  | 'removed'
  | 'widened'
  | 'narrowed'
  | 'retyped'
  | 'made nullable'
  | 'made required'
  /** The column's JSON Schema `format` (date, date-time, none) changed its type. */
  | 'format'
  /** The contract's `curated.format` (parquet, jsonl). */
  | 'curated format';

export interface SchemaChange {
  dataset: string;
  /** The column, or `column.field` inside a struct; empty for a change of the whole dataset. */
  column: string;
  kind: SchemaChangeKind;
  /** The Glue type (and nullability) before and after, or the curated format. */
  from?: string;
  to?: string;
  compatible: boolean;
  reason: string;
}

/**
 * The changes from `before` to `after` that a reader of the curated table notices, in column
 * order: added, removed and retyped columns (and struct fields), nullability, the curated format.
 */
export function schemaChanges(before: Contract, after: Contract): SchemaChange[] {
  const dataset = after.name;
  const beforeFormat = curatedFormatOf(before);
  const afterFormat = curatedFormatOf(after);
  const changes: SchemaChange[] = [];
  if (beforeFormat !== afterFormat) {
    changes.push({
      dataset,
      column: '',
      kind: 'curated format',
      from: beforeFormat,
      to: afterFormat,
      compatible: false,
      reason: `the files already promoted stay ${beforeFormat} while the table would read ${afterFormat}: one table has one SerDe, so either the old or the new files stop being readable`,
    });
  }
  compareFields(before.schema, after.schema, '', afterFormat, (change) =>
    changes.push({ dataset, ...change }),
  );
  return changes;
}

/** The changes between two sets of contracts, by dataset name: removed datasets too. */
export function contractSetChanges(
  before: ReadonlyMap<string, Contract>,
  after: ReadonlyMap<string, Contract>,
): SchemaChange[] {
  const changes: SchemaChange[] = [];
  for (const [name, contract] of [...after].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const previous = before.get(name);
    if (previous) changes.push(...schemaChanges(previous, contract));
  }
  for (const name of [...before.keys()].sort()) {
    if (after.has(name)) continue;
    changes.push({
      dataset: name,
      column: '',
      kind: 'removed',
      compatible: false,
      reason: `the contract is gone, so its Glue tables would be dropped and every query of ${name} would fail; its files stay in the lake`,
    });
  }
  return changes;
}

type Schema = { properties?: Record<string, Record<string, unknown>>; required?: string[] };

function compareFields(
  before: Schema,
  after: Schema,
  prefix: string,
  format: CuratedFormat,
  emit: (change: Omit<SchemaChange, 'dataset'>) => void,
): void {
  const old = before.properties ?? {};
  const now = after.properties ?? {};
  const requiredBefore = new Set(before.required ?? []);
  const requiredAfter = new Set(after.required ?? []);
  for (const [name, schema] of Object.entries(now)) {
    const column = `${prefix}${name}`;
    const next = glueTypeOf(schema);
    const nullableAfter = next.nullable || !requiredAfter.has(name);
    const previousSchema = old[name];
    if (previousSchema === undefined) {
      emit(
        nullableAfter
          ? {
              column,
              kind: 'added',
              to: next.type,
              compatible: true,
              reason:
                'the files already promoted have no such column; readers match columns by name and read NULL there, which a nullable column allows',
            }
          : {
              column,
              kind: 'added',
              to: `${next.type} (required)`,
              compatible: false,
              reason:
                'the files already promoted have no such column, so readers get NULL there in a column the contract says is never null; add it without `required` (nullable) instead',
            },
      );
      continue;
    }
    const previous = glueTypeOf(previousSchema);
    const nullableBefore = previous.nullable || !requiredBefore.has(name);
    if (previous.type !== next.type) {
      if (isStruct(previousSchema) && isStruct(schema)) {
        compareFields(previousSchema as Schema, schema as Schema, `${column}.`, format, emit);
      } else {
        emit({ column, from: previous.type, to: next.type, ...typeChange(previous.type, next.type, format) });
      }
    }
    if (nullableBefore && !nullableAfter) {
      emit({
        column,
        kind: 'made required',
        from: `${previous.type} (nullable)`,
        to: `${next.type} (required)`,
        compatible: false,
        reason:
          'rows already promoted may hold null in it, so the table cannot promise it is never null; keep it nullable',
      });
    } else if (!nullableBefore && nullableAfter) {
      emit({
        column,
        kind: 'made nullable',
        from: `${previous.type} (required)`,
        to: `${next.type} (nullable)`,
        compatible: true,
        reason:
          'the rows already promoted read as before; new rows may hold null, which its readers must now expect',
      });
    }
  }
  for (const name of Object.keys(old)) {
    if (name in now) continue;
    emit({
      column: `${prefix}${name}`,
      kind: 'removed',
      from: glueTypeOf(old[name]!).type,
      compatible: false,
      reason:
        'queries and readers that name it fail (Athena: COLUMN_NOT_FOUND) although the files already promoted still hold it; keep it, nullable, until no reader uses it',
    });
  }
}

function typeChange(
  from: string,
  to: string,
  format: CuratedFormat,
): Pick<SchemaChange, 'kind' | 'compatible' | 'reason'> {
  if (from === 'bigint' && to === 'double') {
    return format === 'jsonl'
      ? {
          kind: 'widened',
          compatible: true,
          reason: 'JSON Lines store numbers as text, and an integer reads as a double',
        }
      : {
          kind: 'widened',
          compatible: false,
          reason:
            'the Parquet files already promoted hold INT64, which Athena does not read as double (it reads int as bigint and float as double, no other number widening)',
        };
  }
  if (from === 'double' && to === 'bigint') {
    return {
      kind: 'narrowed',
      compatible: false,
      reason: 'the files already promoted hold fractional numbers that a bigint column cannot read',
    };
  }
  const textual = new Set(['string', 'date', 'timestamp']);
  return {
    kind: textual.has(from) && textual.has(to) ? 'format' : 'retyped',
    compatible: false,
    reason: `the files already promoted hold ${from} values, which readers do not read as ${to}`,
  };
}

function isStruct(schema: Record<string, unknown>): boolean {
  return glueTypeOf(schema).type.startsWith('struct<');
}
