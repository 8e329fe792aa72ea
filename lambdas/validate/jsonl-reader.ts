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
