/**
 * `sluice suggest <file>`: profiles a CSV or JSON Lines file in one pass and prints a starting
 * contract (types, required columns, ranges, small value sets, unique keys) that `sluice check`
 * accepts. A starting point to edit, not a finished contract.
 */
import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { stringify } from 'yaml';
import { CsvReader } from '../../lambdas/validate/csv-reader.js';
import { decimal } from '../../lambdas/validate/decimal.js';
import { JsonLinesReader } from '../../lambdas/validate/jsonl-reader.js';

export interface SuggestOptions {
  name?: string;
  /** csv or jsonl; by default from the file's extension. */
  format?: string;
}

/** Distinct values kept per column to offer an in_set; past this, the column is not a set. */
const SET_LIMIT = 12;
/** Distinct values kept per column to judge it a key; past this, uniqueness is not suggested. */
const KEY_LIMIT = 1_000_000;

/** What one pass learns about a column. */
class ColumnProfile {
  count = 0;
  nulls = 0;
  integers = 0;
  numbers = 0;
  booleans = 0;
  strings = 0;
  others = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  maxLength = 0;
  small: Set<unknown> | undefined = new Set();
  seen: Set<unknown> | undefined = new Set();
  duplicated = false;

  constructor(readonly name: string) {}

  add(value: unknown): void {
    this.count++;
    if (value === null || value === undefined || value === '') {
      this.nulls++;
      return;
    }
    let typed = value;
    if (typeof value === 'string') {
      const n = decimal(value);
      const lower = value.length <= 5 ? value.toLowerCase() : '';
      if (n !== undefined) typed = n;
      else if (lower === 'true' || lower === 'false') typed = lower === 'true';
      this.maxLength = Math.max(this.maxLength, value.length);
    }
    if (typeof typed === 'number') {
      this.numbers++;
      if (Number.isSafeInteger(typed)) this.integers++;
      if (typed < this.min) this.min = typed;
      if (typed > this.max) this.max = typed;
    } else if (typeof typed === 'boolean') this.booleans++;
    else if (typeof typed === 'string') this.strings++;
    else this.others++;
    const key = typeof typed === 'object' ? JSON.stringify(typed) : typed;
    if (this.small) {
      // The cell as read: a text column keeps "1" and "two" alike; typed columns convert later.
      this.small.add(typeof value === 'string' ? value : key);
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

  get present(): number {
    return this.count - this.nulls;
  }

  /** The JSON Schema type the values fit. */
  type(): string | undefined {
    const p = this.present;
    if (p === 0) return undefined;
    if (this.integers === p) return 'integer';
    if (this.numbers === p) return 'number';
    if (this.booleans === p) return 'boolean';
    if (this.others > 0) return undefined;
    return 'string';
  }
}

export async function profile(
  file: string,
  format: 'csv' | 'jsonl',
): Promise<{ columns: ColumnProfile[]; rows: number }> {
  const columns = new Map<string, ColumnProfile>();
  let header: string[] | undefined;
  let rows = 0;
  const column = (name: string) => {
    let p = columns.get(name);
    if (!p) {
      p = new ColumnProfile(name);
      // A column first seen in a later JSON line was null in the rows before it.
      p.count = Math.max(0, rows - 1);
      p.nulls = p.count;
      columns.set(name, p);
    }
    return p;
  };
  const csv = new CsvReader(',', '"');
  const jsonl = new JsonLinesReader();
  const onRecord = (fields: string[], _line: number, problem: string | undefined) => {
    if (header === undefined) {
      header = fields;
      for (const name of fields) column(name);
      return;
    }
    if (problem !== undefined || fields.length !== header.length) return;
    rows++;
    for (let c = 0; c < fields.length; c++) columns.get(header[c]!)!.add(fields[c]);
  };
  const onLine = (text: string) => {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      return;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) return;
    rows++;
    const values = record as Record<string, unknown>;
    for (const key of Object.keys(values)) column(key);
    for (const p of columns.values()) p.add(values[p.name]);
  };
  const input = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  let first = true;
  for await (const chunk of input) {
    let text = chunk as string;
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    if (format === 'csv') csv.push(text, onRecord);
    else jsonl.push(text, onLine);
  }
  if (format === 'csv') csv.end(onRecord);
  else jsonl.end(onLine);
  return { columns: [...columns.values()], rows };
}

/** A contract, as YAML text, from a file's profile. */
export async function suggestContract(file: string, options: SuggestOptions = {}): Promise<string> {
  const format = (options.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv')) as 'csv' | 'jsonl';
  const name =
    options.name ??
    (basename(file, extname(file))
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') ||
      'dataset');
  const { columns, rows } = await profile(file, format);
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  const expectations: Array<{ type: string; kwargs: Record<string, unknown> }> = [];
  for (const c of columns) {
    const type = c.type();
    properties[c.name] = type ? { type } : {};
    if (c.nulls === 0 && c.count > 0) {
      required.push(c.name);
      expectations.push({ type: 'expect_column_values_to_not_be_null', kwargs: { column: c.name } });
    }
    if ((type === 'integer' || type === 'number') && c.present > 0) {
      expectations.push({
        type: 'expect_column_values_to_be_between',
        kwargs: { column: c.name, min_value: c.min, max_value: c.max },
      });
    }
    const distinct = c.small?.size ?? Number.POSITIVE_INFINITY;
    const keyLike = c.seen !== undefined && !c.duplicated && c.nulls === 0 && c.present >= 2;
    if (keyLike && (type === 'string' || type === 'integer')) {
      expectations.push({ type: 'expect_column_values_to_be_unique', kwargs: { column: c.name } });
    } else if (c.small && distinct >= 1 && c.present >= distinct * 2 && type !== 'number') {
      const values = [...c.small]
        .map((v) => (type === 'integer' && typeof v === 'string' ? decimal(v) : v))
        .map((v) => (type === 'boolean' && typeof v === 'string' ? v.toLowerCase() === 'true' : v))
        .sort((a, b) =>
          typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
        );
      expectations.push({
        type: 'expect_column_values_to_be_in_set',
        kwargs: { column: c.name, value_set: values },
      });
    }
  }
  expectations.push({ type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1 } });
  if (format === 'csv') {
    expectations.push({
      type: 'expect_table_columns_to_match_ordered_list',
      kwargs: { column_list: columns.map((c) => c.name) },
    });
  }
  const contract = {
    name,
    description: `Suggested by sluice suggest from ${basename(file)} (${rows} rows); review before use`,
    source: { type: 's3-upload', prefix: `landing/${name}/` },
    format: format === 'csv' ? { type: 'csv', header: true, delimiter: ',' } : { type: 'jsonl' },
    schema: { type: 'object', required, properties },
    expectations,
    on_failure: 'quarantine',
  };
  const text = stringify(contract, { lineWidth: 120 });
  return text.endsWith('\n') ? text : `${text}\n`;
}

export async function suggestCommand(file: string, options: SuggestOptions): Promise<number> {
  try {
    process.stdout.write(await suggestContract(file, options));
    return 0;
  } catch (error) {
    process.stderr.write(`sluice: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 2;
  }
}
