/**
 * `sluice suggest <file>`: profiles a CSV, JSON Lines or JSON array file in one pass and prints a
 * starting contract (types, required columns, ranges, small value sets, unique keys) that
 * `sluice check` accepts. A starting point to edit, not a finished contract.
 *
 * The contract must accept the file it was suggested from, as the validator reads it, without
 * changing a value: a CSV cell is typed as a number or boolean only when the validator's
 * conversion writes it back as the same text (`02134`, `1.50` or `1e3` stay strings), and a
 * JSON column gets every JSON type it holds (a type list when there are several), since the
 * validator does not convert JSON values.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Document, type YAMLMap, type YAMLSeq } from 'yaml';
import contractSchema from '../../datasets/contract.schema.json' with { type: 'json' };
import { DEFAULT_MAX_RECORD_BYTES } from '../../lambdas/shared/contract.js';
import { ConfigurationError, MalformedInput } from '../../lambdas/shared/errors.js';
import { CsvReader, CsvSyntaxError, RecordTooLong } from '../../lambdas/validate/csv-reader.js';
import { documentRecordLines } from '../../lambdas/validate/json-document-reader.js';
import { JsonLinesReader, refuseJsonArray } from '../../lambdas/validate/jsonl-reader.js';
import { InvalidUtf8, StrictUtf8Decoder } from '../../lambdas/validate/utf8.js';
import { ColumnProfile } from './column-profile.js';

export interface SuggestOptions {
  name?: string;
  /** csv, jsonl or json (a JSON array of records); by default from the file's content and extension. */
  format?: string;
  /** The CSV delimiter; by default detected from the first lines. */
  delimiter?: string;
}

type InputFormat = 'csv' | 'jsonl' | 'json';
const FORMATS: readonly InputFormat[] = ['csv', 'jsonl', 'json'];
/** Delimiters tried when none is given, in the order a tie is settled. */
const DELIMITERS = [',', ';', '\t', '|'];
/** How much of the file's start is read to detect its format and delimiter. */
const SAMPLE_BYTES = 64 * 1024;
const NAME_PATTERN = new RegExp(contractSchema.properties.name.pattern);

export interface Profile {
  columns: ColumnProfile[];
  rows: number;
  /** Rows that could not be read as records (the validator quarantines them): how many, and the first. */
  unreadable: { count: number; first?: string };
}

/** Profiles a file's records in one pass; `delimiter` is for CSV. */
export async function profile(file: string, format: InputFormat, delimiter = ','): Promise<Profile> {
  const csvFormat = format === 'csv';
  const columns = new Map<string, ColumnProfile>();
  let header: string[] | undefined;
  let rows = 0;
  const unreadable: Profile['unreadable'] = { count: 0 };
  const skip = (line: number, reason: string) => {
    unreadable.count++;
    unreadable.first ??= `line ${line}: ${reason}`;
  };
  const column = (name: string) => {
    let p = columns.get(name);
    if (!p) {
      p = new ColumnProfile(name, csvFormat);
      // A column first seen in a later JSON line was null in the rows before it.
      p.count = Math.max(0, rows - 1);
      p.nulls = p.count;
      columns.set(name, p);
    }
    return p;
  };
  const onRecord = (fields: string[], line: number, problem: string | undefined) => {
    if (header === undefined) {
      if (problem !== undefined)
        throw new MalformedInput(`${file}: line ${line}: the header is malformed: ${problem}`);
      for (const name of fields) {
        if (columns.has(name))
          throw new MalformedInput(`${file}: line ${line}: the header names column '${name}' twice`);
        column(name);
      }
      header = fields;
      return;
    }
    if (problem !== undefined || fields.length !== header.length) {
      skip(line, problem ?? `the row has ${fields.length} fields, the header has ${header.length}`);
      return;
    }
    rows++;
    for (let c = 0; c < fields.length; c++) columns.get(header[c]!)!.add(fields[c]);
  };
  let lines = 0;
  const onLine = (text: string, line: number) => {
    if (lines++ === 0 && format === 'jsonl') refuseJsonArray(text, `${file}: line ${line}`);
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      skip(line, `not valid JSON: ${(error as Error).message}`);
      return;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      skip(line, 'not a JSON object');
      return;
    }
    rows++;
    const values = record as Record<string, unknown>;
    for (const key of Object.keys(values)) column(key);
    for (const p of columns.values()) p.add(values[p.name]);
  };
  const csv = new CsvReader(delimiter, '"', DEFAULT_MAX_RECORD_BYTES);
  const jsonl = new JsonLinesReader(DEFAULT_MAX_RECORD_BYTES);
  try {
    for await (const text of format === 'json' ? documentText(file) : fileText(file)) {
      if (csvFormat) csv.push(text, onRecord);
      else jsonl.push(text, onLine);
    }
    if (csvFormat) csv.end(onRecord);
    else jsonl.end(onLine);
  } catch (error) {
    if (error instanceof CsvSyntaxError || error instanceof RecordTooLong) {
      throw new MalformedInput(`${file}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (csvFormat && header === undefined) {
    throw new MalformedInput(`${file}: no header row: the file is empty, and CSV contracts need a header`);
  }
  return { columns: [...columns.values()], rows, unreadable };
}

/** A file's text, decoded strictly as the validator decodes it. */
async function* fileText(file: string): AsyncGenerator<string> {
  const decoder = new StrictUtf8Decoder();
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
      yield decoder.decode(chunk as Buffer);
    }
    yield decoder.end();
  } catch (error) {
    if (error instanceof InvalidUtf8) {
      throw new MalformedInput(`${file}: byte offset ${error.byteOffset}: not valid UTF-8 (${error.bytes})`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** A JSON document's records as JSON Lines, as the validator reads `format: { type: json }`. */
async function* documentText(file: string): AsyncGenerator<string> {
  const bytes = createReadStream(file, { highWaterMark: 256 * 1024 });
  for await (const lines of documentRecordLines(bytes, file, undefined, DEFAULT_MAX_RECORD_BYTES)) {
    yield lines.toString('utf8');
  }
}

/** One suggested expectation, and why it was suggested (a comment above it in the YAML). */
interface SuggestedExpectation {
  type: string;
  kwargs: Record<string, unknown>;
  why: string;
}

/** A column name that says it is an identifier: `id`, `order_id`, `customerId`, `uuid`, `sku`, `key`. */
const ID_NAME = /(^|[_\-\s.])(id|uuid|guid|key|sku)$|^(id|uuid|guid|key|sku)([_\-\s.]|$)|[a-z]Id$/i;

/**
 * Why a column looks like an id, or undefined: every value present and different from the others,
 * and either a name that says so, or values of the kind ids are: whole numbers from 0 up, or text
 * that is not a number in disguise. Times, measurements (fractions, negative numbers) and amounts
 * kept as text are different in each row without identifying it.
 */
function idLikeWhy(
  c: ColumnProfile,
  type: string | string[] | undefined,
  temporal: boolean,
): string | undefined {
  const unique = c.seen !== undefined && !c.duplicated && c.nulls === 0 && c.present >= 2;
  if (!unique || temporal || (type !== 'string' && type !== 'integer')) return undefined;
  const each = `each of the ${c.present.toLocaleString('en-US')} values of ${c.name} is different`;
  if (ID_NAME.test(c.name)) return `${each}, and its name says it is an id`;
  if (type === 'integer' && c.min >= 0) return `${each}, all whole numbers from 0 up: it looks like an id`;
  if (type === 'string' && !c.numericText) return `${each}: it looks like an id`;
  return undefined;
}

/** Share of the observed range added below and above it, so that the next batch's extremes still pass. */
const RANGE_MARGIN = 0.1;

/**
 * Bounds for a column that held values from `min` to `max`: a tenth of the range (or of the value,
 * when all were equal) beyond each end, rounded outward to a round step of that size; never below
 * 0 when no value was negative (an amount, a count), and whole for an integer column.
 */
export function rangeWithMargin(
  min: number,
  max: number,
  integer: boolean,
): { min: number; max: number; floorAtZero: boolean } {
  const span = max - min || Math.abs(max) || 1;
  const margin = span * RANGE_MARGIN;
  let step = 10 ** Math.floor(Math.log10(margin));
  if (integer) step = Math.max(1, step);
  const round = (n: number) => Number(n.toPrecision(12));
  let low = round(Math.floor((min - margin) / step) * step);
  let high = round(Math.ceil((max + margin) / step) * step);
  // Rounding to 12 digits must not move a bound inside what was seen.
  if (low > min) low = min;
  if (high < max) high = max;
  const floorAtZero = min >= 0 && low < 0;
  return { min: floorAtZero ? 0 : low, max: high, floorAtZero };
}

/** A suggested contract (YAML), and what was chosen without being asked, to tell the user. */
export interface Suggestion {
  yaml: string;
  notes: string[];
}

/** A contract, as YAML text, from a file's profile. */
export async function suggestContract(file: string, options: SuggestOptions = {}): Promise<string> {
  return (await suggest(file, options)).yaml;
}

export async function suggest(file: string, options: SuggestOptions = {}): Promise<Suggestion> {
  const notes: string[] = [];
  const name = datasetName(file, options.name);
  const sample = readSample(file);
  const format = formatOf(file, options.format, sample, notes);
  const delimiter = format === 'csv' ? delimiterOf(file, options.delimiter, sample, notes) : ',';
  if (format !== 'csv' && options.delimiter !== undefined) {
    throw new ConfigurationError(`--delimiter is for CSV files; ${file} is read as ${format}`);
  }
  const { columns, rows, unreadable } = await profile(file, format, delimiter);
  if (columns.length === 0) {
    throw new MalformedInput(
      `${file}: no record with a field was read: a contract needs at least one column`,
    );
  }
  if (unreadable.count > 0) {
    notes.push(
      `${unreadable.count} row${unreadable.count === 1 ? '' : 's'} of ${basename(file)} could not be read and ` +
        `${unreadable.count === 1 ? 'is' : 'are'} not profiled (first: ${unreadable.first}); validation quarantines them`,
    );
  }
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  const expectations: SuggestedExpectation[] = [];
  const formatWhy = new Map<string, string>();
  for (const c of columns) {
    const type = c.type();
    const temporal = c.temporalLayout();
    properties[c.name] = type ? { type } : {};
    if (temporal?.schemaFormat) {
      properties[c.name]!.format = temporal.schemaFormat;
      formatWhy.set(
        c.name,
        `every value of ${c.name} is a${temporal.schemaFormat === 'date' ? ' date' : ' date and time'} (RFC 3339)`,
      );
    }
    if (c.nulls === 0 && c.count > 0) {
      required.push(c.name);
      expectations.push({
        type: 'expect_column_values_to_not_be_null',
        kwargs: { column: c.name },
        why: `${c.name} has a value in all ${c.count.toLocaleString('en-US')} rows`,
      });
    }
    if ((type === 'integer' || type === 'number') && c.present > 0) {
      const range = rangeWithMargin(c.min, c.max, type === 'integer');
      expectations.push({
        type: 'expect_column_values_to_be_between',
        kwargs: { column: c.name, min_value: range.min, max_value: range.max },
        why:
          `${c.name} ranged from ${c.min} to ${c.max}; the bounds leave a margin of about a tenth of that range` +
          (range.floorAtZero ? ', and no lower than 0, as no value was negative' : ''),
      });
    }
    if (temporal?.strftime) {
      expectations.push({
        type: 'expect_column_values_to_match_strftime_format',
        kwargs: { column: c.name, strftime_format: temporal.strftime },
        why: `every value of ${c.name} reads as ${temporal.strftime}`,
      });
    }
    const distinct = c.small?.size ?? Number.POSITIVE_INFINITY;
    const idLike = idLikeWhy(c, type, temporal !== undefined);
    if (idLike) {
      expectations.push({
        type: 'expect_column_values_to_be_unique',
        kwargs: { column: c.name },
        why: idLike,
      });
    } else if (
      c.small &&
      distinct >= 1 &&
      c.present >= distinct * 2 &&
      (type === 'string' || type === 'integer' || type === 'boolean')
    ) {
      expectations.push({
        type: 'expect_column_values_to_be_in_set',
        kwargs: { column: c.name, value_set: c.values(type) },
        why: `${c.name} took only ${distinct} distinct value${distinct === 1 ? '' : 's'} in ${c.present.toLocaleString('en-US')} rows`,
      });
    }
  }
  if (rows > 0) {
    expectations.push({
      type: 'expect_table_row_count_to_be_between',
      kwargs: { min_value: 1 },
      why: `the file had ${rows.toLocaleString('en-US')} rows; an empty batch is refused`,
    });
  }
  if (format === 'csv') {
    expectations.push({
      type: 'expect_table_columns_to_match_ordered_list',
      kwargs: { column_list: columns.map((c) => c.name) },
      why: 'the header, in its order',
    });
  }
  const contract = {
    name,
    description: `Suggested by sluice suggest from ${basename(file)} (${rows} rows); review before use`,
    source: { type: 's3-upload', prefix: `${name}/` },
    format: format === 'csv' ? { type: 'csv', header: true, delimiter } : { type: format },
    schema: { type: 'object', required, properties },
    expectations: expectations.map(({ type, kwargs }) => ({ type, kwargs })),
    on_failure: 'quarantine',
  };
  const doc = new Document(contract);
  // Each suggestion says why, as a comment above it, for the person who reviews the contract.
  const suggested = doc.get('expectations') as YAMLSeq<YAMLMap>;
  suggested.items.forEach((item, i) => {
    item.commentBefore = ` ${expectations[i]!.why}`;
  });
  for (const [column, why] of formatWhy) {
    const node = doc.getIn(['schema', 'properties', column], true) as YAMLMap;
    node.commentBefore = ` ${why}`;
  }
  const text = doc.toString({ lineWidth: 120 });
  return { yaml: text.endsWith('\n') ? text : `${text}\n`, notes };
}

/**
 * The dataset name: the one given, which must be valid (it names lake keys, tags and the
 * contract's file), or one made from the file name.
 */
function datasetName(file: string, given: string | undefined): string {
  if (given === undefined) return nameFrom(basename(file, extname(file)));
  if (NAME_PATTERN.test(given)) return given;
  throw new ConfigurationError(
    `--name '${given}' is not a dataset name: a name has lower-case letters, digits, '-' and '_', ` +
      `starts with a letter and has at most 63 characters (it names lake keys, version tags and ` +
      `the contract's file); e.g. --name ${nameFrom(given)}`,
  );
}

/** A valid dataset name made from any text: `My Penguins (2026)` → `my-penguins-2026`. */
export function nameFrom(text: string): string {
  let name = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  if (!/^[a-z]/.test(name)) name = name ? `dataset-${name}` : 'dataset';
  return name.slice(0, 63).replace(/[-_]+$/, '');
}

/** The first bytes of the file as text (lenient: only to look at), and whether that is all of it. */
function readSample(file: string): { text: string; whole: boolean } {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const length = readSync(fd, buffer, 0, SAMPLE_BYTES, 0);
    let text = buffer.subarray(0, length).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { text, whole: length < SAMPLE_BYTES };
  } finally {
    closeSync(fd);
  }
}

/**
 * The format given, or the file's: a JSON array when its text starts with `[`, JSON Lines when
 * with `{`, else CSV; a .csv or .tsv file is CSV whatever it starts with.
 */
function formatOf(
  file: string,
  given: string | undefined,
  sample: { text: string },
  notes: string[],
): InputFormat {
  if (given !== undefined) {
    if ((FORMATS as readonly string[]).includes(given)) return given as InputFormat;
    throw new ConfigurationError(
      `--format must be csv, jsonl (JSON Lines) or json (a JSON array of records), got '${given}'`,
    );
  }
  if (/\.(csv|tsv)$/i.test(file)) return 'csv';
  const first = sample.text.trimStart().charAt(0);
  if (first === '[') {
    notes.push(`read ${basename(file)} as a JSON array of records (format json; --format sets it)`);
    return 'json';
  }
  if (first === '{') {
    if (!/\.(jsonl|ndjson)$/i.test(file)) {
      notes.push(
        `read ${basename(file)} as JSON Lines, one object per line (format jsonl; --format sets it)`,
      );
    }
    return 'jsonl';
  }
  return 'csv';
}

/**
 * The delimiter given, or the one of `, ; tab |` that splits the first lines into the same number
 * of fields, the most of them (a header of one column is read with ',').
 */
function delimiterOf(
  file: string,
  given: string | undefined,
  sample: { text: string; whole: boolean },
  notes: string[],
): string {
  if (given !== undefined) {
    const delimiter = given === '\\t' || given.toLowerCase() === 'tab' ? '\t' : given;
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new ConfigurationError(
        `--delimiter must be one character other than a quote or a line break (tab: --delimiter tab), got '${given}'`,
      );
    }
    return delimiter;
  }
  let best = { delimiter: ',', score: 0 };
  for (const delimiter of DELIMITERS) {
    const counts: number[] = [];
    const reader = new CsvReader(delimiter, '"', DEFAULT_MAX_RECORD_BYTES);
    try {
      reader.push(sample.text, (fields) => counts.push(fields.length));
      if (sample.whole) reader.end((fields) => counts.push(fields.length));
    } catch {
      continue;
    }
    const columns = counts[0] ?? 0;
    if (columns < 2) continue;
    // Lines that all split alike outweigh any count of fields that varies from line to line.
    const score = counts.every((n) => n === columns) ? columns + 1_000_000 : columns;
    if (score > best.score) best = { delimiter, score };
  }
  const shown = best.delimiter === '\t' ? 'tab' : `'${best.delimiter}'`;
  notes.push(`read ${basename(file)} as CSV delimited by ${shown} (detected; --delimiter sets it)`);
  return best.delimiter;
}

export async function suggestCommand(file: string, options: SuggestOptions): Promise<number> {
  try {
    const { yaml, notes } = await suggest(file, options);
    for (const note of notes) process.stderr.write(`sluice: ${note}\n`);
    process.stdout.write(yaml);
    return 0;
  } catch (error) {
    process.stderr.write(`sluice: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 2;
  }
}
