/**
 * A streaming CSV reader (RFC 4180): fields split on one delimiter character, quoted fields
 * may hold delimiters, doubled quotes and line breaks. Lines end in LF or CRLF. Empty lines
 * are skipped (they still count as lines). Text arrives in pieces of any size; only the
 * unfinished record is kept between pieces, so memory does not grow with the file.
 *
 * Most records hold no quote at all; those are cut with `indexOf` alone, which is what makes
 * the reader fast. A record with a quote takes the careful path.
 */

/** Receives a record: its fields, the 1-based line it starts on, and what is wrong with its quoting (if anything). */
export type CsvRecordSink = (fields: string[], line: number, problem: string | undefined) => void;

/** Thrown when the text cannot be read as CSV at all: the caller adds the source name. */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/**
 * A record (a CSV record, a JSON Lines line) longer than the contract's format.max_record_bytes:
 * refused as soon as the text held for it passes the limit, rather than buffered without bound.
 */
export class RecordTooLong extends Error {
  constructor(
    readonly line: number,
    readonly bytesSoFar: number,
    readonly limit: number,
    what: string,
    hint: string,
  ) {
    super(
      `line ${line}: the ${what} starting on this line is already ${bytesSoFar} bytes long, over the limit of ${limit} bytes ` +
        `(format.max_record_bytes in the contract: raise it if records are this long; ${hint})`,
    );
  }
}

/**
 * The UTF-8 size of the text held for one unfinished record when it is over `limit`, else
 * undefined. A UTF-16 unit is 1 to 3 UTF-8 bytes: the text is only measured when it may be over.
 */
export function overLimit(text: string, limit: number): number | undefined {
  if (text.length * 3 <= limit) return undefined;
  const bytes = text.length > limit ? text.length : Buffer.byteLength(text);
  return bytes > limit ? bytes : undefined;
}

const LF = 10;
const CR = 13;
/** Returned by the careful path when the record runs past the text received so far. */
const NEED_MORE = -1;

export class CsvReader {
  private rest = '';
  /** Line on which the next record starts. */
  private line = 1;
  /** Length `rest` must reach before a quoted record that ran out of text is tried again. */
  private retryAt = 0;
  private readonly quoteCode: number;
  private readonly delimiterCode: number;
  /** Where the record being delivered sits, for `recordText()`. */
  private current = { text: '', start: 0, end: 0 };

  constructor(
    private readonly delimiter: string,
    private readonly quote: string,
    private readonly maxRecordBytes: number,
  ) {
    this.quoteCode = quote.charCodeAt(0);
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /** Reads every record the text received so far completes. */
  push(text: string, sink: CsvRecordSink): void {
    this.rest = this.rest.length === 0 ? text : this.rest + text;
    // A quoted record that ran out of text is retried once the text has doubled: linear, not quadratic.
    if (this.rest.length >= this.retryAt) this.read(sink, false);
    const bytes = overLimit(this.rest, this.maxRecordBytes);
    if (bytes !== undefined) {
      throw new RecordTooLong(
        this.line,
        bytes,
        this.maxRecordBytes,
        'record',
        'a quote left open, or no line breaks?',
      );
    }
  }

  /** Reads the last record; throws `CsvSyntaxError` if a quoted field is still open. */
  end(sink: CsvRecordSink): void {
    this.read(sink, true);
  }

  /** The source text of the record being delivered (valid inside the sink), without its line break. */
  recordText(): string {
    const { text, start, end } = this.current;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === LF) stop--;
    if (stop > start && text.charCodeAt(stop - 1) === CR) stop--;
    return text.slice(start, stop);
  }

  /**
   * Whether the record being delivered (valid inside the sink) holds a CR outside quotes that
   * does not end a line: what a file whose lines end in CR alone looks like, read as one record.
   */
  hasBareCr(): boolean {
    const { text, start, end } = this.current;
    let quoted = false;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === this.quoteCode) quoted = !quoted;
      else if (c === CR && !quoted && text.charCodeAt(i + 1) !== LF) return true;
    }
    return false;
  }

  /** The line reached by the text received so far (for messages about bytes not yet decoded). */
  lineReached(): number {
    let line = this.line;
    for (let i = this.rest.indexOf('\n'); i !== -1; i = this.rest.indexOf('\n', i + 1)) line++;
    return line;
  }

  private read(sink: CsvRecordSink, final: boolean): void {
    const text = this.rest;
    const length = text.length;
    const { delimiter, quote, current } = this;
    current.text = text;
    this.retryAt = 0;
    let pos = 0;
    let quoteAt = text.indexOf(quote);
    while (pos < length) {
      let newline = text.indexOf('\n', pos);
      if (quoteAt !== -1 && quoteAt < pos) quoteAt = text.indexOf(quote, pos);
      if (quoteAt === -1 || (newline !== -1 && quoteAt > newline)) {
        // No quote before the line break: split the line as it is.
        if (newline === -1) {
          if (!final) break;
          newline = length;
        }
        let end = newline;
        if (end > pos && text.charCodeAt(end - 1) === CR) end--;
        if (end > pos) {
          current.start = pos;
          current.end = newline;
          const fields: string[] = [];
          for (let from = pos; ; ) {
            const at = text.indexOf(delimiter, from);
            if (at === -1 || at >= end) {
              fields.push(text.slice(from, end));
              break;
            }
            fields.push(text.slice(from, at));
            from = at + 1;
          }
          sink(fields, this.line, undefined);
        }
        this.line++;
        pos = newline + 1;
        continue;
      }
      const next = this.readQuoted(text, pos, final, sink);
      if (next === NEED_MORE) {
        this.retryAt = 2 * (length - pos);
        break;
      }
      pos = next;
    }
    this.rest = pos >= length ? '' : text.slice(pos);
    current.text = '';
  }

  /**
   * The careful path: reads one record that holds a quote, starting at `start`.
   * Returns where the next record starts, or NEED_MORE if the text ends first.
   */
  private readQuoted(text: string, start: number, final: boolean, sink: CsvRecordSink): number {
    const { quote, quoteCode, delimiterCode } = this;
    const length = text.length;
    const fields: string[] = [];
    let problem: string | undefined;
    let newlines = 0;
    let i = start;
    for (;;) {
      let value: string;
      if (i < length && text.charCodeAt(i) === quoteCode) {
        value = '';
        let from = i + 1;
        for (;;) {
          const close = text.indexOf(quote, from);
          if (close === -1) {
            if (!final) return NEED_MORE;
            throw new CsvSyntaxError(
              `line ${this.line}: field ${fields.length + 1} opens a quote that is never closed (the file ends inside it)`,
              this.line,
            );
          }
          for (let n = text.indexOf('\n', from); n !== -1 && n < close; n = text.indexOf('\n', n + 1))
            newlines++;
          value += text.slice(from, close);
          if (close + 1 === length && !final) return NEED_MORE; // a doubled quote may follow
          if (text.charCodeAt(close + 1) === quoteCode) {
            value += quote;
            from = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
        if (i < length) {
          const c = text.charCodeAt(i);
          const lineEnds = c === LF || (c === CR && text.charCodeAt(i + 1) === LF);
          if (c === CR && i + 1 === length && !final) return NEED_MORE;
          if (c !== delimiterCode && !lineEnds) {
            // Text after the closing quote: keep it in the field, and say the row is malformed.
            const stop = this.fieldEnd(text, i);
            if (stop === length && !final) return NEED_MORE;
            problem ??= `field ${fields.length + 1} has text after its closing quote`;
            value += trimCr(text.slice(i, stop));
            i = stop;
          }
        }
      } else {
        const stop = this.fieldEnd(text, i);
        if (stop === length && !final) return NEED_MORE;
        value = trimCr(text.slice(i, stop));
        i = stop;
      }
      fields.push(value);
      if (i < length && text.charCodeAt(i) === delimiterCode) {
        i++;
        continue;
      }
      // A line break (LF or CRLF) or the end of the text ends the record.
      if (i < length && text.charCodeAt(i) === CR) i++;
      if (i < length) i++;
      break;
    }
    this.current.start = start;
    this.current.end = i;
    sink(fields, this.line, problem);
    this.line += 1 + newlines;
    return i;
  }

  /** Where an unquoted stretch of a field ends: the next delimiter or LF, or the end of the text. */
  private fieldEnd(text: string, from: number): number {
    const delimiterAt = text.indexOf(this.delimiter, from);
    const newlineAt = text.indexOf('\n', from);
    if (delimiterAt === -1) return newlineAt === -1 ? text.length : newlineAt;
    return newlineAt === -1 || delimiterAt < newlineAt ? delimiterAt : newlineAt;
  }
}

function trimCr(value: string): string {
  return value.charCodeAt(value.length - 1) === CR ? value.slice(0, -1) : value;
}
