/**
 * A streaming JSON Lines reader: one JSON value per line, lines ending in LF or CRLF, blank
 * lines skipped (they still count as lines). Only the unfinished line is kept between pieces.
 */

import { MalformedInput } from '../shared/errors.js';
import { overLimit, RecordTooLong } from './csv-reader.js';

/** Receives one non-blank line, without its line break, and its 1-based line number. */
export type LineSink = (text: string, line: number) => void;

export class JsonLinesReader {
  private rest = '';
  private line = 1;

  constructor(private readonly maxRecordBytes: number) {}

  push(text: string, sink: LineSink): void {
    this.rest = this.rest.length === 0 ? text : this.rest + text;
    this.read(sink, false);
    const bytes = overLimit(this.rest, this.maxRecordBytes);
    if (bytes !== undefined)
      throw new RecordTooLong(this.line, bytes, this.maxRecordBytes, 'line', 'is this JSON Lines?');
  }

  end(sink: LineSink): void {
    this.read(sink, true);
  }

  /** The line reached by the text received so far. */
  lineReached(): number {
    let line = this.line;
    for (let i = this.rest.indexOf('\n'); i !== -1; i = this.rest.indexOf('\n', i + 1)) line++;
    return line;
  }

  private read(sink: LineSink, final: boolean): void {
    const text = this.rest;
    let pos = 0;
    while (pos < text.length) {
      let newline = text.indexOf('\n', pos);
      if (newline === -1) {
        if (!final) break;
        newline = text.length;
      }
      const end = newline > pos && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      const content = text.slice(pos, end);
      if (!isBlank(content)) sink(content, this.line);
      this.line++;
      pos = newline + 1;
    }
    this.rest = pos >= text.length ? '' : text.slice(pos);
  }
}

/**
 * How deep a JSON Lines record may nest arrays and objects. Parsing goes deeper, but writing the
 * record out again (JSON.stringify), the schema check and the messages recurse once per level,
 * and a few thousand levels overflow the stack: a record nested deeper is refused as a row.
 */
export const MAX_JSON_DEPTH = 1000;

/** Lines that may hold a number read inexactly: 16 digits in a row, or a 3-digit exponent. */
const MAYBE_INEXACT = /\d{16}|[eE][+-]?\d{3}/;

/**
 * Why a line of valid JSON cannot be kept as a record, or undefined: it nests deeper than
 * MAX_JSON_DEPTH, or it holds a number that JSON.parse does not read as written. Numbers are
 * read as 64-bit floats, and the record is written out from what was read: a whole number beyond
 * ±2^53 would be written as a different number (12345678901234567890 as 12345678901234567000),
 * 1e999 as null, 1e-999 as 0. Such a record is refused rather than changed; a fraction rounded
 * to the nearest float is not, as every JSON reader reads it so. Only lines long enough to nest
 * that deep, or with digits that could be inexact, are scanned.
 */
export function unkeepableJson(text: string): string | undefined {
  const deepEnough = text.length > 2 * MAX_JSON_DEPTH;
  if (!deepEnough && !MAYBE_INEXACT.test(text)) return undefined;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: only a quote not escaped ends it (the line is valid JSON).
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH)
        return `nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects (column ${i + 1})`;
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === MINUS || isDigit(c)) {
      let end = i + 1;
      while (end < text.length && isNumberPart(text.charCodeAt(end))) end++;
      const number = text.slice(i, end);
      const problem = inexactNumber(number);
      if (problem !== undefined)
        return `the number ${number.length > 40 ? `${number.slice(0, 40)}…` : number} (column ${i + 1}) ${problem}; write it as a string to keep it exactly`;
      i = end - 1;
    }
  }
  return undefined;
}

/** What is wrong with reading a JSON number token as a float, or undefined when it reads as written. */
function inexactNumber(token: string): string | undefined {
  const value = Number(token);
  if (!Number.isFinite(value)) return 'is beyond the range of a 64-bit float (it would be read as infinity)';
  if (value === 0 && /[1-9]/.test(token.replace(/[eE].*$/, '')))
    return 'is too small for a 64-bit float (it would be read as 0)';
  const whole = !/[.eE]/.test(token);
  if (whole && !Number.isSafeInteger(value) && BigInt(token) !== BigInt(value))
    return `is a whole number beyond ±2^53 that a 64-bit float cannot hold (it would be written as ${JSON.stringify(value)})`;
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Characters a JSON number goes on with after its first: digits, '.', 'e', 'E', '+', '-'. */
function isNumberPart(c: number): boolean {
  return isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  // Only a line that starts with white space can be blank; skip the trim for the rest.
  return (first === 32 || first === 9 || first === 13) && text.trim().length === 0;
}

/**
 * Refuses JSON Lines that are a JSON array of records: read as JSON Lines, each line of a
 * pretty-printed array (or the one line of a compact one) would be a malformed row. The first line
 * tells: it opens an array and does not parse (`[`, `[{"id":1},`), or it is a whole array that is
 * empty or holds objects. A first line such as `[1,2]` is left to be one malformed row.
 * `at` names the file and line.
 */
export function refuseJsonArray(firstLine: string, at: string): void {
  const text = firstLine.trimStart();
  if (text.charCodeAt(0) !== 91) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const records =
    parsed === undefined ||
    (Array.isArray(parsed) &&
      (parsed.length === 0 || parsed.some((v) => v !== null && typeof v === 'object' && !Array.isArray(v))));
  if (!records) return;
  throw new MalformedInput(
    `${at}: this is a JSON array, not JSON Lines (one JSON object per line): declare format { type: json } ` +
      `in the contract to read a file holding an array of records, or convert it with jq -c '.[]'`,
  );
}
