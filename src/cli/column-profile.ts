/**
 * What one pass over a file learns about each column, for `sluice suggest`: the types, nulls,
 * range, a small set of values and whether the values are unique. A CSV cell is typed as the
 * validator would write it back unchanged; a JSON value keeps its JSON type.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { addFormats } from '../../lambdas/shared/ajv-formats.js';
import { strftimeMatcher } from '../../lambdas/shared/strftime.js';
import { decimal } from '../../lambdas/validate/decimal.js';

/** Distinct values kept per column to offer an in_set; past this, the column is not a set. */
const SET_LIMIT = 12;
/** Distinct values kept per column to judge it a key; past this, uniqueness is not suggested. */
const KEY_LIMIT = 1_000_000;

/** The JSON Schema types a value can have, in the order a type list names them. */
const TYPES = ['string', 'integer', 'number', 'boolean', 'object', 'array'] as const;
type ValueType = (typeof TYPES)[number];

/**
 * The type of a CSV cell, as the validator would write it back unchanged: a number only when the
 * number's text is the cell (so `02134`, `1.50`, `+3`, `1e3`, ` 7` and `-0` stay text), an
 * integer only within ±2^53, a boolean only as `true` or `false` (the validator would write
 * `TRUE` as `true`). Undefined for an empty cell, which the validator reads as null.
 */
export function csvCellType(cell: string): ValueType | undefined {
  if (cell === '') return undefined;
  if (cell === 'true' || cell === 'false') return 'boolean';
  const number = decimal(cell);
  if (number !== undefined && String(number) === cell) {
    if (!Number.isInteger(number)) return 'number';
    if (Number.isSafeInteger(number)) return 'integer';
  }
  return 'string';
}

/** The type of a JSON value; undefined for null, which the validator reads as absent. */
function jsonValueType(value: unknown): ValueType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  return Array.isArray(value) ? 'array' : 'object';
}

/**
 * The date and time layouts a column of text is recognised in, as strftime formats of
 * expect_column_values_to_match_strftime_format: ISO 8601 dates and timestamps, with `T` or a
 * space, with or without fractions of a second and an offset.
 */
const STRFTIME_LAYOUTS = [
  '%Y-%m-%d',
  '%Y-%m-%dT%H:%M:%S%z',
  '%Y-%m-%dT%H:%M:%S.%f%z',
  '%Y-%m-%d %H:%M:%S%z',
  '%Y-%m-%d %H:%M:%S.%f%z',
];

/** The JSON Schema formats a column of text is recognised in, checked as the record schema checks them (ajv-formats). */
const SCHEMA_FORMATS = ['date', 'date-time'] as const;
type SchemaFormat = (typeof SCHEMA_FORMATS)[number];
const formats = addFormats(new Ajv2020({ strict: false }));
const schemaFormatChecks: Record<SchemaFormat, (text: string) => boolean> = {
  date: formats.compile({ type: 'string', format: 'date' }) as (text: string) => boolean,
  'date-time': formats.compile({ type: 'string', format: 'date-time' }) as (text: string) => boolean,
};

function strftimeCandidates(): Array<{ format: string; matches: (text: string) => boolean }> {
  return STRFTIME_LAYOUTS.map((format) => {
    const matches = strftimeMatcher(format);
    if (typeof matches === 'string') throw new Error(`strftime layout ${format}: ${matches}`);
    return { format, matches };
  });
}

/** The date or time layout every value of a column has: a strftime format, a schema format, or both. */
export interface TemporalLayout {
  strftime?: string;
  schemaFormat?: SchemaFormat;
}

/** What one pass learns about a column. */
export class ColumnProfile {
  count = 0;
  nulls = 0;
  readonly types = new Set<ValueType>();
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** Distinct values as read (a CSV cell's text, a JSON value), by a key that tells types apart. */
  small: Map<string, unknown> | undefined = new Map();
  seen: Set<string> | undefined = new Set();
  duplicated = false;
  /** The strftime layouts and the schema formats every text value so far matches. */
  private strftimes = strftimeCandidates();
  private schemaFormats: SchemaFormat[] = [...SCHEMA_FORMATS];
  /** Whether every text value reads as a number (`12.50`, `1e3`): an amount kept as text, not an id. */
  numericText = true;

  constructor(
    readonly name: string,
    private readonly csv: boolean,
  ) {}

  add(value: unknown): void {
    this.count++;
    const type = this.csv ? csvCellType(value as string) : jsonValueType(value);
    if (type === undefined) {
      this.nulls++;
      return;
    }
    this.types.add(type);
    this.checkTemporal(type === 'string' ? (value as string) : undefined);
    if (type === 'string' && this.numericText && decimal(value as string) === undefined)
      this.numericText = false;
    if (type === 'integer' || type === 'number') {
      const number = this.csv ? decimal(value as string)! : (value as number);
      if (number < this.min) this.min = number;
      if (number > this.max) this.max = number;
    }
    // A CSV column has one type in the end, and its cells' texts are then its values one to one;
    // JSON values of different types are different values ("1" and 1), as for the validator.
    const key = this.csv ? (value as string) : `${type}:${JSON.stringify(value)}`;
    if (this.small) {
      this.small.set(key, value);
      if (this.small.size > SET_LIMIT) this.small = undefined;
    }
    if (this.seen && !this.duplicated) {
      if (this.seen.has(key)) {
        this.duplicated = true;
        this.seen = undefined;
      } else if (this.seen.size >= KEY_LIMIT) this.seen = undefined;
      else this.seen.add(key);
    }
  }

  private checkTemporal(text: string | undefined): void {
    if (this.strftimes.length > 0) {
      this.strftimes = text === undefined ? [] : this.strftimes.filter((c) => c.matches(text));
    }
    if (this.schemaFormats.length > 0) {
      this.schemaFormats =
        text === undefined ? [] : this.schemaFormats.filter((f) => schemaFormatChecks[f](text));
    }
  }

  /** The date or time layout of every value, for a column of text that holds one. */
  temporalLayout(): TemporalLayout | undefined {
    if (this.present === 0 || this.type() !== 'string') return undefined;
    const strftime = this.strftimes[0]?.format;
    const schemaFormat = this.schemaFormats[0];
    if (strftime === undefined && schemaFormat === undefined) return undefined;
    return { ...(strftime && { strftime }), ...(schemaFormat && { schemaFormat }) };
  }

  get present(): number {
    return this.count - this.nulls;
  }

  /**
   * The JSON Schema type that accepts every value seen: integers in a column with fractions are
   * numbers; a CSV column of mixed kinds is text (every cell is); a JSON column of mixed kinds
   * gets a type list. Undefined when every value is null.
   */
  type(): string | string[] | undefined {
    const seen = new Set(this.types);
    if (seen.has('number')) seen.delete('integer');
    if (seen.size === 0) return undefined;
    if (this.csv && seen.size > 1) return 'string';
    const list = TYPES.filter((t) => seen.has(t));
    return list.length === 1 ? list[0] : list;
  }

  /** The distinct values in the column's type, for an in_set. */
  values(type: string): unknown[] {
    const values = [...(this.small?.values() ?? [])].map((v) => {
      if (!this.csv) return v;
      if (type === 'integer' || type === 'number') return decimal(v as string);
      if (type === 'boolean') return v === 'true';
      return v;
    });
    return values.sort((a, b) =>
      typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
    );
  }
}
