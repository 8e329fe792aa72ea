/**
 * How `sluice query` prints DuckDB values: as JSON values (`--json`), and as text in a table or
 * CSV. Integers beyond JavaScript's safe range and decimals wider than 15 digits stay exact, as
 * strings; dates and timestamps are ISO 8601 (a TIMESTAMPTZ in UTC, ending in Z); a JSON column
 * is its JSON value; nested values are JSON.
 */
import {
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBValueConverter,
  type Json,
  JsonDuckDBValueConverter,
} from '@duckdb/node-api';

/** Digits a double holds exactly: a DECIMAL up to this width is a JSON number without loss. */
const EXACT_DECIMAL_DIGITS = 15;

const BIG_INTEGERS = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.BIGNUM,
]);
const TIMESTAMPS = new Set<DuckDBTypeId>([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
]);

/** A DuckDB value as a JSON value (see the file header); nested values convert the same way. */
export const toJson: DuckDBValueConverter<Json> = (value, type, converter) => {
  if (value === null || value === undefined) return null;
  if (BIG_INTEGERS.has(type.typeId)) {
    const text = String(value);
    const number = Number(text);
    return Number.isSafeInteger(number) ? number : text;
  }
  if (type.typeId === DuckDBTypeId.DECIMAL) {
    const text = String(value);
    return (type as DuckDBType & { width: number }).width <= EXACT_DECIMAL_DIGITS ? Number(text) : text;
  }
  if (TIMESTAMPS.has(type.typeId)) return String(value).replace(' ', 'T');
  if (type.typeId === DuckDBTypeId.TIMESTAMP_TZ) {
    // The session's time zone is UTC (query.ts), so the offset DuckDB prints is +00.
    return String(value)
      .replace(' ', 'T')
      .replace(/\+00(:00)?$/, 'Z');
  }
  if (type.typeId === DuckDBTypeId.VARCHAR && type.alias === 'JSON') {
    try {
      return JSON.parse(String(value)) as Json;
    } catch {
      return String(value);
    }
  }
  return JsonDuckDBValueConverter(value, type, converter);
};

/** A DuckDB value as one cell of text: a string as it is, anything else as its JSON. */
export function toText(value: DuckDBValue, type: DuckDBType): string | null {
  const json = toJson(value, type, toJson);
  if (json === null) return null;
  if (type.typeId === DuckDBTypeId.VARCHAR && type.alias === 'JSON') return String(value);
  return typeof json === 'string' ? json : JSON.stringify(json);
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; null is empty. */
export function csvField(text: string | null): string {
  if (text === null) return '';
  return /[",\r\n]/.test(text) || text === '' ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A cell of the printed table: one line, whatever the value holds. */
export function tableCell(text: string | null): string {
  if (text === null) return 'NULL';
  return text.replace(/[\r\n\t]/g, (c) => ({ '\r': '\\r', '\n': '\\n', '\t': '\\t' })[c]!);
}
