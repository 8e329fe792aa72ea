/**
 * The valid records' output, JSON Lines made straight into bytes. A CSV row's JSON is written
 * from its cells, columns in header order, character by character into a byte array: the same
 * bytes as JSON.stringify of the record followed by UTF-8 encoding, without either. Building a
 * string per row and turning the joined strings into bytes cost about a microsecond a row, most
 * of it flattening the joined strings and allocating; here a row costs about a store per byte.
 * A number reuses its cell when the cell is already the plain JSON for it; a string is escaped
 * as it is copied, so the reader need not look for escapes.
 */

import { MAX_GENERATED_COLUMNS } from './record-builder.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** JSON.stringify's short escapes, by character code; the other controls are written \u00xx. */
const SHORT_ESCAPES: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };
const HEX = '0123456789abcdef';
/** The most bytes one UTF-16 code unit can become: a control character as \u00xx. */
const MAX_BYTES_PER_UNIT = 6;

/** Writes one CSV row's JSON and line feed at `at`; returns where the next byte goes. */
type RowWriter = (
  bytes: Uint8Array,
  at: number,
  values: readonly unknown[],
  cells: readonly string[],
) => number;

/** The most bytes a number, null, true or false takes as JSON ("-1.2345678901234567e-308"). */
const MAX_SCALAR_BYTES = 24;

export class JsonLinesBuffer {
  private bytes: Uint8Array;
  private length = 0;
  private writer: RowWriter = () => {
    throw new Error('JsonLinesBuffer: columns() was not called before writeRow()');
  };
  /** Bytes of the column names' parts of a row, with the braces and the line feed. */
  private fixedBytes = 0;

  constructor(capacity = 32 * 1024) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.length;
  }

  /**
   * Sets the columns of the CSV rows that `writeRow` writes. The writer is generated for them,
   * as the record builder is: each column's `{"name":` or `,"name":` is a run of constant byte
   * stores, and every column's value a call site of its own.
   */
  columns(header: readonly string[]): void {
    const encoder = new TextEncoder();
    if (header.length > MAX_GENERATED_COLUMNS) {
      const prefixes = header.map((name, c) =>
        encoder.encode(`${c === 0 ? '{' : ','}${JSON.stringify(name)}:`),
      );
      this.fixedBytes = 2 + prefixes.reduce((sum, prefix) => sum + prefix.length, 0);
      this.writer = loopedWriter(prefixes);
      return;
    }
    const lines: string[] = ['let value;'];
    this.fixedBytes = 2;
    header.forEach((name, c) => {
      const prefix = encoder.encode(`${c === 0 ? '{' : ','}${JSON.stringify(name)}:`);
      this.fixedBytes += prefix.length;
      lines.push(
        `${[...prefix].map((byte, i) => `bytes[at + ${i}] = ${byte};`).join(' ')} at += ${prefix.length};`,
        `value = values[${c}];`,
        `if (typeof value === 'string') at = writeString(bytes, at, value);`,
        `else at = writeScalar(bytes, at, value, cells[${c}]);`,
      );
    });
    lines.push('bytes[at] = 0x7d; bytes[at + 1] = 0x0a;', 'return at + 2;');
    const make = new Function(
      'writeString',
      'writeScalar',
      `return (bytes, at, values, cells) => {\n${lines.join('\n')}\n};`,
    );
    this.writer = make(writeString, writeScalar) as RowWriter;
  }

  /**
   * Appends a CSV row as one line: `values[c]` is the typed value of `cells[c]` (a string,
   * number or boolean), or null for a null cell.
   */
  writeRow(values: readonly unknown[], cells: readonly string[]): void {
    let most = this.fixedBytes;
    for (let c = 0; c < cells.length; c++)
      most += 2 + MAX_BYTES_PER_UNIT * cells[c]!.length + MAX_SCALAR_BYTES;
    this.room(most);
    this.length = this.writer(this.bytes, this.length, values, cells);
  }

  /** Appends one line of JSON text (already escaped: well-formed, as JSON.stringify gives it). */
  writeLine(json: string): void {
    this.room(3 * json.length + 1);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < json.length; i++) {
      const code = json.charCodeAt(i);
      if (code < 0x80) bytes[at++] = code;
      else {
        at = encodeWide(bytes, at, json, i, code);
        if (isHighSurrogate(code) && isLowSurrogate(json.charCodeAt(i + 1))) i++;
      }
    }
    bytes[at++] = 0x0a;
    this.length = at;
  }

  /** The bytes written since the last take, copied into a Buffer of their own; this buffer starts empty again. */
  take(): Buffer {
    const taken = Buffer.copyBytesFrom(this.bytes, 0, this.length);
    this.length = 0;
    return taken;
  }

  /** Makes sure `needed` more bytes fit. */
  private room(needed: number): void {
    if (this.length + needed <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + needed));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }
}

/** The same row writer as the generated one, column by column in a loop (for very wide headers). */
function loopedWriter(prefixes: readonly Uint8Array[]): RowWriter {
  return (bytes, at, values, cells) => {
    for (let c = 0; c < prefixes.length; c++) {
      const prefix = prefixes[c]!;
      bytes.set(prefix, at);
      at += prefix.length;
      const value = values[c];
      at =
        typeof value === 'string' ? writeString(bytes, at, value) : writeScalar(bytes, at, value, cells[c]!);
    }
    bytes[at] = 0x7d;
    bytes[at + 1] = 0x0a;
    return at + 2;
  };
}

/** A string in quotes, its characters escaped as JSON.stringify escapes them, in UTF-8. */
function writeString(bytes: Uint8Array, at: number, value: string): number {
  bytes[at++] = QUOTE;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x20 && code < 0x80 && code !== QUOTE && code !== BACKSLASH) bytes[at++] = code;
    else if (code < 0x80) at = escapeAscii(bytes, at, code);
    else if (isHighSurrogate(code) && isLowSurrogate(value.charCodeAt(i + 1))) {
      at = encodeWide(bytes, at, value, i, code);
      i++;
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      // A lone surrogate (a low one here is lone: a paired one was written with its high half).
      at = escapeUnit(bytes, at, code);
    } else at = encodeWide(bytes, at, value, i, code);
  }
  bytes[at] = QUOTE;
  return at + 1;
}

/** A number (its cell when that is already its plain JSON), true, false or null: ASCII. */
function writeScalar(bytes: Uint8Array, at: number, value: unknown, cell: string): number {
  const text =
    typeof value === 'number'
      ? plainNumber(cell)
        ? cell
        : JSON.stringify(value)
      : value === null || value === undefined
        ? 'null'
        : String(value);
  for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  return at;
}

/** Writes the escape of '"', '\' or a control character; returns where the next byte goes. */
function escapeAscii(bytes: Uint8Array, at: number, code: number): number {
  if (code === QUOTE || code === BACKSLASH) {
    bytes[at] = BACKSLASH;
    bytes[at + 1] = code;
    return at + 2;
  }
  const short = SHORT_ESCAPES[code];
  if (short !== undefined) {
    bytes[at] = BACKSLASH;
    bytes[at + 1] = short;
    return at + 2;
  }
  return escapeUnit(bytes, at, code);
}

/** Writes \uxxxx for one code unit (lower-case hex, as JSON.stringify). */
function escapeUnit(bytes: Uint8Array, at: number, code: number): number {
  bytes[at] = BACKSLASH;
  bytes[at + 1] = 0x75; // u
  for (let shift = 12, i = 2; shift >= 0; shift -= 4, i++)
    bytes[at + i] = HEX.charCodeAt((code >> shift) & 15);
  return at + 6;
}

/**
 * Writes the UTF-8 of a character at or above 0x80 starting at `text[i]`: two or three bytes,
 * or four for a surrogate pair (whose low half the caller then skips). Lone surrogates are the
 * caller's: JSON.stringify escapes them, so its output has none.
 */
function encodeWide(bytes: Uint8Array, at: number, text: string, i: number, code: number): number {
  if (code < 0x800) {
    bytes[at] = 0xc0 | (code >> 6);
    bytes[at + 1] = 0x80 | (code & 63);
    return at + 2;
  }
  if (isHighSurrogate(code)) {
    const low = text.charCodeAt(i + 1);
    if (isLowSurrogate(low)) {
      const point = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      bytes[at] = 0xf0 | (point >> 18);
      bytes[at + 1] = 0x80 | ((point >> 12) & 63);
      bytes[at + 2] = 0x80 | ((point >> 6) & 63);
      bytes[at + 3] = 0x80 | (point & 63);
      return at + 4;
    }
  }
  bytes[at] = 0xe0 | (code >> 12);
  bytes[at + 1] = 0x80 | ((code >> 6) & 63);
  bytes[at + 2] = 0x80 | (code & 63);
  return at + 3;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** False for NaN too (charCodeAt past the end). */
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * True when the cell is the JSON a reader turns back into the same number and type: an optional
 * minus, no leading zeros, no exponent, and a fraction (if any) not ending in zero, so that
 * "1.0" in an integer column is written 1, which every JSON reader reads as an integer.
 */
function plainNumber(cell: string): boolean {
  const length = cell.length;
  let i = cell.charCodeAt(0) === 45 ? 1 : 0;
  if (i === length) return false;
  const first = cell.charCodeAt(i);
  if (first === 48) {
    i++;
    if (i === length) return cell.charCodeAt(0) !== 45; // "-0": JSON.stringify writes 0
  } else {
    if (first < 49 || first > 57) return false;
    while (i < length && isDigit(cell.charCodeAt(i))) i++;
  }
  if (i === length) return true;
  if (cell.charCodeAt(i) !== 46 || i + 1 === length) return false;
  i++;
  while (i < length && isDigit(cell.charCodeAt(i))) i++;
  return i === length && cell.charCodeAt(length - 1) !== 48;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
