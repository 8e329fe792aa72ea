/**
 * What the validator says about input it cannot read as the contract says: where in the input the
 * problem is (the source and its line, or, in a stream joined from several files such as a batch
 * of HTTP pages or partner files, the file and its own line), and what is wrong with a CSV header.
 */
import { MalformedInput } from '../shared/errors.js';
import { CsvSyntaxError, RecordTooLong } from './csv-reader.js';
import type { StreamOrigins } from './engine-types.js';
import { InvalidUtf8 } from './utf8.js';

/** `<source>: line <n>` for a line of the stream: in a joined stream, its file and its line there. */
export function inputLine(source: string, origins: StreamOrigins | undefined, line: number): string {
  if (origins === undefined) return `${source}: line ${line}`;
  const origin = origins.line(line);
  return `${origin.source}: line ${origin.line}`;
}

/**
 * A reader's error (bytes that are not UTF-8, a CSV quote never closed, a line too long) as
 * `MalformedInput` naming where it is; any other error as it is. `lineReached` is the line the
 * reader had reached, which the decoder's error counts on from.
 */
export function explainReadError(
  error: unknown,
  source: string,
  origins: StreamOrigins | undefined,
  lineReached: () => number,
): unknown {
  if (error instanceof InvalidUtf8) {
    const line = lineReached() + error.newlinesBefore;
    const byte = origins?.byte(error.byteOffset).offset ?? error.byteOffset;
    return new MalformedInput(
      `${inputLine(source, origins, line)}, byte offset ${byte}: not valid UTF-8 (${error.bytes}); the contract reads utf-8` +
        (byte === 0 && (error.bytes.startsWith('0xff 0xfe') || error.bytes.startsWith('0xfe 0xff'))
          ? ': the file starts with a UTF-16 byte order mark, save it as UTF-8'
          : ''),
      { cause: error },
    );
  }
  if (error instanceof CsvSyntaxError || error instanceof RecordTooLong) {
    if (origins === undefined) return new MalformedInput(`${source}: ${error.message}`, { cause: error });
    // The readers number the lines of the joined stream: say the file and its own line instead.
    const origin = origins.line(error.line);
    const message = error.message.replace(`line ${error.line}`, `line ${origin.line}`);
    return new MalformedInput(`${origin.source}: ${message}`, { cause: error });
  }
  return error;
}

/** The names of a CSV header, refusing one that names a column twice or names `__proto__`. */
export function headerNames(fields: readonly string[], where: string): Set<string> {
  const seen = new Set<string>();
  for (const name of fields) {
    if (seen.has(name)) {
      throw new MalformedInput(`${where}: the header names column '${name}' twice`);
    }
    if (name === '__proto__') {
      throw new MalformedInput(`${where}: a column cannot be named '__proto__'`);
    }
    seen.add(name);
  }
  return seen;
}

/** Why validation stopped at a header that lacks required columns. */
export function headerLacksRequired(
  source: string,
  missing: readonly string[],
  fields: readonly string[],
): string {
  return (
    `${source}: the header lacks required column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}` +
    ` (header found: ${fields.map(shownName).join(', ')}); no row was validated.`
  );
}

/** A column name for messages: quoted when spaces around it (or its being empty) would not show. */
function shownName(name: string): string {
  return name.length > 0 && name.trim() === name ? name : JSON.stringify(name);
}
