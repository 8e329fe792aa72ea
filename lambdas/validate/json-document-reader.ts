/**
 * A streaming reader of JSON documents (`format: { type: json, records_path }`): the document is
 * read once, a piece at a time, and each record (an element of the array at the records path, or
 * of the document itself) is handed on as its own source text on one line, the JSON Lines the
 * validation engine reads. Memory holds one unfinished record, never the document: a 2 GB array
 * is read in the memory of its longest record, and a record longer than format.max_record_bytes
 * is refused as soon as it passes the limit.
 *
 * The text of a record is passed on as written, so that numbers and keys are not read into
 * floats and written out again (the engine refuses a number a float cannot hold, as it does in
 * JSON Lines); only white space between its tokens is dropped, which keeps it one line (a JSON
 * string cannot hold a raw line break). The whole document is checked to be JSON: a syntax error
 * anywhere, even after the last record, fails the batch as a document that does not parse did.
 */
import { MalformedInput } from '../shared/errors.js';
import { RecordTooLong } from './csv-reader.js';
import { InvalidUtf8, StrictUtf8Decoder } from './utf8.js';

/** Receives the text of one record, without white space between its tokens. */
export type DocumentRecordSink = (record: string) => void;

// What the grammar expects next.
const VALUE = 0;
const VALUE_OR_CLOSE = 1;
const KEY_OR_CLOSE = 2;
const KEY = 3;
const COLON = 4;
const COMMA_OR_CLOSE = 5;
const AFTER_DOCUMENT = 6;

// The token being read, which may run on into the next piece of text.
const NO_TOKEN = 0;
const STRING = 1;
const NUMBER = 2;
const LITERAL = 3;

// Where a number is in its grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
const N_SIGN = 0;
const N_ZERO = 1;
const N_INTEGER = 2;
const N_POINT = 3;
const N_FRACTION = 4;
const N_E = 5;
const N_E_SIGN = 6;
const N_EXPONENT = 7;

const ARRAY = 0;
const OBJECT = 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;

export class JsonDocumentReader {
  private readonly steps: string[];
  /** Depth of the values that are records: one below the records array. */
  private readonly recordDepth: number;
  private expect = VALUE;
  /** The open arrays and objects, outermost first. */
  private stack = new Uint8Array(64);
  private depth = 0;
  /** How many of the open containers, from the outermost, lie on the records path. */
  private chain = 0;
  /** For each open container on the path: the index of its current element (arrays). */
  private readonly indexes: number[] = [];
  /** For each open object on the path: whether its current key is the path's next step. */
  private readonly keyMatches: boolean[] = [];
  private found = false;

  private token = NO_TOKEN;
  /** In a string: 0, or 1 after a backslash, or the hex digits of a \u escape still to come + 1. */
  private escape = 0;
  private stringIsKey = false;
  /** The text of a key on the path, to compare with its step; undefined when not captured. */
  private keyText: string | undefined;
  private numberState = N_SIGN;
  private literal = '';
  private literalAt = 0;

  /** The record being read: its text so far (pieces before the current text), its line. */
  private recording = false;
  private pieces: string[] = [];
  /** Characters held in `pieces`, and the UTF-8 bytes of the first `measured` of them. */
  private heldChars = 0;
  private heldBytes = 0;
  private measured = 0;
  private recordLine = 0;
  /** Where the part of the record not yet taken into `pieces` starts in the current text. */
  private segmentStart = 0;
  /** Where the key being captured starts in the current text. */
  private keyStart = 0;

  private line = 1;
  /** Characters before the current text, and where the current line starts (for columns). */
  private offset = 0;
  private lineStart = 0;

  constructor(
    /** Names the document in messages. */
    private readonly where: string,
    recordsPath: string | undefined,
    private readonly maxRecordBytes: number,
  ) {
    this.steps = recordsPath ? recordsPath.split('.') : [];
    this.recordDepth = this.steps.length + 1;
  }

  /** Reads the next piece of the document, handing on each record it completes. */
  push(text: string, sink: DocumentRecordSink): void {
    const length = text.length;
    this.segmentStart = 0;
    this.keyStart = 0;
    let i = 0;
    while (i < length) {
      const token = this.token;
      if (token === STRING) i = this.readString(text, i, sink);
      else if (token === NUMBER) i = this.readNumber(text, i, sink);
      else if (token === LITERAL) i = this.readLiteral(text, i, sink);
      else i = this.readStructure(text, i, sink);
    }
    this.carry(text);
    this.offset += length;
  }

  /** The document has ended: it must have been one whole value, holding the records array. */
  end(sink: DocumentRecordSink): void {
    if (this.token === NUMBER && this.numberEnds()) this.valueDone(0, '', sink);
    if (this.token !== NO_TOKEN || this.expect !== AFTER_DOCUMENT) {
      throw this.syntax(
        this.expect === VALUE && this.depth === 0 && this.token === NO_TOKEN
          ? 'the document holds no value'
          : 'the document ends before its value does',
        this.offset,
      );
    }
    if (!this.found) throw this.noRecords('there is none');
  }

  /** White space, punctuation, and the first character of a value. */
  private readStructure(text: string, start: number, sink: DocumentRecordSink): number {
    const length = text.length;
    for (let i = start; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === LF) {
        if (c === LF) {
          this.line++;
          this.lineStart = this.offset + i + 1;
        }
        if (this.recording) {
          if (i > this.segmentStart) this.hold(text.slice(this.segmentStart, i));
          this.segmentStart = i + 1;
        }
        continue;
      }
      const expect = this.expect;
      if (c === QUOTE) {
        if (expect === KEY || expect === KEY_OR_CLOSE) {
          this.stringIsKey = true;
          if (this.capturesKey()) {
            this.keyText = '';
            this.keyStart = i + 1;
            this.keyMatches[this.depth - 1] = false;
          }
        } else {
          this.beginValue(text, i, 'a string');
          this.stringIsKey = false;
        }
        this.token = STRING;
        this.escape = 0;
        return i + 1;
      }
      if (c === 0x5b || c === 0x7b) {
        this.beginValue(text, i, c === 0x5b ? 'an array' : 'an object');
        this.open(c === 0x5b ? ARRAY : OBJECT);
        this.expect = c === 0x5b ? VALUE_OR_CLOSE : KEY_OR_CLOSE;
        continue;
      }
      if (c === 0x5d || c === 0x7d) {
        const type = c === 0x5d ? ARRAY : OBJECT;
        const closes =
          this.depth > 0 &&
          this.stack[this.depth - 1] === type &&
          (expect === COMMA_OR_CLOSE || expect === (type === ARRAY ? VALUE_OR_CLOSE : KEY_OR_CLOSE));
        if (!closes) throw this.unexpected(text, i);
        this.close();
        this.valueDone(i + 1, text, sink);
        continue;
      }
      if (c === 0x2c) {
        if (expect !== COMMA_OR_CLOSE) throw this.unexpected(text, i);
        const type = this.stack[this.depth - 1];
        this.expect = type === ARRAY ? VALUE : KEY;
        if (this.depth === this.chain && this.depth <= this.steps.length && type === ARRAY)
          this.indexes[this.depth - 1]!++;
        continue;
      }
      if (c === 0x3a) {
        if (expect !== COLON) throw this.unexpected(text, i);
        this.expect = VALUE;
        continue;
      }
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        this.beginValue(text, i, 'a number');
        this.token = NUMBER;
        this.numberState = c === 0x2d ? N_SIGN : c === 0x30 ? N_ZERO : N_INTEGER;
        return i + 1;
      }
      const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : undefined;
      if (literal !== undefined) {
        this.beginValue(text, i, literal === 'null' ? 'null' : 'a boolean');
        this.token = LITERAL;
        this.literal = literal;
        this.literalAt = 1;
        return i + 1;
      }
      throw this.unexpected(text, i);
    }
    return length;
  }

  private readString(text: string, start: number, sink: DocumentRecordSink): number {
    const length = text.length;
    let escaping = this.escape;
    for (let i = start; i < length; i++) {
      const c = text.charCodeAt(i);
      if (escaping === 0) {
        if (c === QUOTE) {
          this.escape = 0;
          this.stringEnds(text, i, sink);
          return i + 1;
        }
        if (c === BACKSLASH) escaping = 1;
        else if (c < 0x20) {
          throw this.syntax(
            `a control character (U+${c.toString(16).padStart(4, '0').toUpperCase()}) in a string: write it as an escape such as \\n`,
            this.offset + i,
          );
        }
      } else if (escaping === 1) {
        if (c === 0x75) escaping = 5;
        else if (
          c === QUOTE ||
          c === BACKSLASH ||
          c === 0x2f ||
          c === 0x62 ||
          c === 0x66 ||
          c === 0x6e ||
          c === 0x72 ||
          c === 0x74
        )
          escaping = 0;
        else throw this.syntax(`'\\${text[i]}' is not an escape JSON knows`, this.offset + i);
      } else {
        const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
        if (!hex) throw this.syntax('a \\u escape needs four hex digits', this.offset + i);
        escaping = escaping === 2 ? 0 : escaping - 1;
      }
    }
    this.escape = escaping;
    return length;
  }

  private stringEnds(text: string, quoteAt: number, sink: DocumentRecordSink): void {
    this.token = NO_TOKEN;
    if (!this.stringIsKey) {
      this.valueDone(quoteAt + 1, text, sink);
      return;
    }
    this.expect = COLON;
    if (this.keyText === undefined) return;
    const key = this.keyText + text.slice(this.keyStart, quoteAt);
    this.keyText = undefined;
    this.keyMatches[this.depth - 1] = (JSON.parse(`"${key}"`) as string) === this.steps[this.depth - 1];
  }

  private readNumber(text: string, start: number, sink: DocumentRecordSink): number {
    const length = text.length;
    let state = this.numberState;
    for (let i = start; i < length; i++) {
      const c = text.charCodeAt(i);
      const digit = c >= 0x30 && c <= 0x39;
      let next = -1;
      if (digit) {
        if (state === N_SIGN) next = c === 0x30 ? N_ZERO : N_INTEGER;
        else if (state === N_INTEGER || state === N_FRACTION || state === N_EXPONENT) next = state;
        else if (state === N_POINT) next = N_FRACTION;
        else if (state === N_E || state === N_E_SIGN) next = N_EXPONENT;
      } else if (c === 0x2e) {
        if (state === N_ZERO || state === N_INTEGER) next = N_POINT;
      } else if (c === 0x65 || c === 0x45) {
        if (state === N_ZERO || state === N_INTEGER || state === N_FRACTION) next = N_E;
      } else if (c === 0x2b || c === 0x2d) {
        if (state === N_E) next = N_E_SIGN;
      } else {
        this.numberState = state;
        if (!this.numberEnds()) throw this.syntax('a number ends before it is whole', this.offset + i);
        this.valueDone(i, text, sink);
        return i;
      }
      if (next === -1) throw this.unexpected(text, i);
      state = next;
    }
    this.numberState = state;
    return length;
  }

  private numberEnds(): boolean {
    const s = this.numberState;
    return s === N_ZERO || s === N_INTEGER || s === N_FRACTION || s === N_EXPONENT;
  }

  private readLiteral(text: string, start: number, sink: DocumentRecordSink): number {
    const literal = this.literal;
    let i = start;
    while (i < text.length && this.literalAt < literal.length) {
      if (text.charCodeAt(i) !== literal.charCodeAt(this.literalAt)) throw this.unexpected(text, i);
      this.literalAt++;
      i++;
    }
    if (this.literalAt === literal.length) this.valueDone(i, text, sink);
    return i;
  }

  /** A value starts at `at`: a record, the records array, or a step towards it. */
  private beginValue(text: string, at: number, what: string): void {
    const expect = this.expect;
    if (expect !== VALUE && expect !== VALUE_OR_CLOSE) throw this.unexpected(text, at);
    const depth = this.depth;
    if (depth === this.recordDepth && this.chain === this.recordDepth) {
      this.recording = true;
      this.segmentStart = at;
      this.recordLine = this.line;
      return;
    }
    if (this.chain !== depth || depth >= this.recordDepth) return;
    if (depth > 0) {
      const parent = this.stack[depth - 1];
      const step = this.steps[depth - 1]!;
      const onPath =
        parent === OBJECT ? this.keyMatches[depth - 1] : String(this.indexes[depth - 1]) === step;
      if (!onPath) return;
    }
    if (depth < this.steps.length) {
      // A step towards the records: only an array or object can hold the next one.
      if (what === 'an array' || what === 'an object') this.chain = depth + 1;
      return;
    }
    if (what !== 'an array') throw this.noRecords(`found ${what}`);
    if (this.found) throw this.noRecords('found more than one: the document names that key twice');
    this.found = true;
    this.chain = depth + 1;
  }

  /** A value ended just before `end` in `text`: if it is a record, it is handed on. */
  private valueDone(end: number, text: string, sink: DocumentRecordSink): void {
    this.token = NO_TOKEN;
    this.expect = this.depth === 0 ? AFTER_DOCUMENT : COMMA_OR_CLOSE;
    if (!this.recording || this.depth !== this.recordDepth) return;
    this.recording = false;
    const last = text.slice(this.segmentStart, end);
    let record = last;
    if (this.pieces.length > 0) {
      this.pieces.push(last);
      record = this.pieces.join('');
      this.pieces = [];
    }
    this.heldChars = 0;
    this.heldBytes = 0;
    this.measured = 0;
    if (record.length * 3 > this.maxRecordBytes) {
      const bytes = Buffer.byteLength(record);
      if (bytes > this.maxRecordBytes) throw this.tooLong(bytes);
    }
    sink(record);
  }

  private open(type: number): void {
    if (this.depth === this.stack.length) {
      if (this.depth >= this.maxRecordBytes + this.recordDepth) {
        throw this.syntax(`nested deeper than ${this.depth} levels of arrays and objects`, this.offset);
      }
      const grown = new Uint8Array(this.stack.length * 2);
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[this.depth] = type;
    if (this.chain === this.depth + 1 && this.depth < this.steps.length) {
      this.indexes[this.depth] = 0;
      this.keyMatches[this.depth] = false;
    }
    this.depth++;
  }

  private close(): void {
    this.depth--;
    if (this.chain > this.depth) this.chain = this.depth;
  }

  /** Whether the key about to be read is one of the path's steps, so its text is needed. */
  private capturesKey(): boolean {
    return this.depth === this.chain && this.depth <= this.steps.length;
  }

  /** At the end of a piece of text: keeps the unfinished record (and key), and checks the limit. */
  private carry(text: string): void {
    if (this.recording) {
      if (text.length > this.segmentStart) this.hold(text.slice(this.segmentStart));
      // A UTF-16 unit is 1 to 3 UTF-8 bytes: the pieces are measured, each once, only when the
      // record may be over the limit.
      if (this.heldChars * 3 > this.maxRecordBytes) {
        for (; this.measured < this.pieces.length; this.measured++)
          this.heldBytes += Buffer.byteLength(this.pieces[this.measured]!);
        if (this.heldBytes > this.maxRecordBytes) throw this.tooLong(this.heldBytes);
      }
    }
    if (this.token === STRING && this.keyText !== undefined) {
      this.keyText += text.slice(this.keyStart);
      // A key that long is not a step of the path: it need not be held.
      if (this.keyText.length > 6 * (this.steps[this.depth - 1]?.length ?? 0) + 6) this.keyText = undefined;
    }
  }

  /** Keeps a piece of the record being read, which goes on past it. */
  private hold(piece: string): void {
    this.pieces.push(piece);
    this.heldChars += piece.length;
  }

  private tooLong(bytes: number): MalformedInput {
    const error = new RecordTooLong(
      this.recordLine,
      bytes,
      this.maxRecordBytes,
      'record',
      'a record of the array this long, or a string never closed?',
    );
    return new MalformedInput(`${this.where}: ${error.message}`, { cause: error });
  }

  private noRecords(detail: string): MalformedInput {
    const path = this.steps.join('.');
    return new MalformedInput(
      `${this.where}: expected an array of records at ${path ? `'${path}'` : 'the top level'} (format records_path): ${detail}`,
    );
  }

  private unexpected(text: string, at: number): MalformedInput {
    return this.syntax(`unexpected '${text[at]}'`, this.offset + at);
  }

  private syntax(problem: string, at: number): MalformedInput {
    return new MalformedInput(
      `${this.where}: line ${this.line}, column ${at - this.lineStart + 1}: not valid JSON: ${problem}`,
    );
  }
}

/**
 * The records of a JSON document read from `bytes`, as JSON Lines: one Buffer for each piece of
 * the input that completes records. Bytes that are not UTF-8 are refused, naming their offset; a
 * byte order mark at the start is dropped.
 */
export async function* documentRecordLines(
  bytes: AsyncIterable<Uint8Array>,
  where: string,
  recordsPath: string | undefined,
  maxRecordBytes: number,
): AsyncGenerator<Buffer> {
  const decoder = new StrictUtf8Decoder();
  const reader = new JsonDocumentReader(where, recordsPath, maxRecordBytes);
  let lines: string[] = [];
  const sink = (record: string) => {
    lines.push(record);
  };
  const taken = () => {
    const out = Buffer.from(`${lines.join('\n')}\n`);
    lines = [];
    return out;
  };
  try {
    for await (const chunk of bytes) {
      reader.push(decoder.decode(chunk), sink);
      if (lines.length > 0) yield taken();
    }
    reader.push(decoder.end(), sink);
    reader.end(sink);
    if (lines.length > 0) yield taken();
  } catch (error) {
    if (error instanceof InvalidUtf8) {
      throw new MalformedInput(
        `${where}: byte offset ${error.byteOffset}: not valid UTF-8 (${error.bytes}); the contract reads utf-8`,
        { cause: error },
      );
    }
    throw error;
  }
}
