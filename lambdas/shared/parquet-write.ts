/**
 * Writes records (JSON Lines) as one Parquet file, as a stream of bytes: the records are read one
 * row group at a time, each row group is encoded and handed on before the next is read, and the
 * footer follows the last. Memory is one row group (its values and its encoded bytes), whatever
 * the number of records; the bytes can go straight into a multipart upload.
 *
 * The encoder is hyparquet-writer (pure JavaScript, bundled into the Lambda as it is): its
 * ParquetWriter writes row group by row group into a growing buffer, which is emptied here after
 * each row group, as its own file writer does.
 */
import { StringDecoder } from 'node:string_decoder';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { type ParquetField, parquetSchemaOf, toParquetValue } from './parquet-schema.js';

/** Rows per row group at most: DuckDB's and Athena's scans split work by row group. */
export const ROW_GROUP_ROWS = 100_000;
/** JSON text per row group at most (UTF-16 code units, about bytes): bounds memory for wide records. */
export const ROW_GROUP_TEXT = 32 * 1024 * 1024;

export interface ParquetWriteOptions {
  /** Names the records in messages (the validated object). */
  source: string;
  /** Rows per row group at most (default ROW_GROUP_ROWS). */
  rowGroupRows?: number;
  /** Told of each top-level property a record has and the schema does not declare (not written). */
  onUndeclared?: (name: string) => void;
}

/** What the file holds, known once its last chunk was taken. */
export interface ParquetFileSummary {
  rows: number;
  rowGroups: number;
  bytes: number;
}

/**
 * The bytes of a Parquet file of the records (one JSON object per line; blank lines skipped),
 * with the columns `fields`, compressed with Snappy. `summary` is filled as the chunks are taken.
 */
export async function* parquetChunks(
  lines: AsyncIterable<string>,
  fields: readonly ParquetField[],
  options: ParquetWriteOptions,
  summary: ParquetFileSummary = { rows: 0, rowGroups: 0, bytes: 0 },
): AsyncGenerator<Uint8Array> {
  const maxRows = options.rowGroupRows ?? ROW_GROUP_ROWS;
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: parquetSchemaOf(fields),
    codec: 'SNAPPY',
    createdBy: 'Sluice (hyparquet-writer)',
  });
  const declared = new Set(fields.map((f) => f.name));
  const undeclared = new Set<string>();
  let columns = fields.map(() => [] as unknown[]);
  let rows = 0;
  let textLength = 0;
  let line = 0;
  const flush = (): Uint8Array => {
    parquet.write({
      columnData: fields.map((field, i) => ({
        name: field.name,
        data: columns[i]!,
        // Min/max of JSON text order nothing a query filters on: not kept.
        statistics: field.kind.type !== 'json',
      })),
      rowGroupSize: rows,
    });
    summary.rows += rows;
    summary.rowGroups++;
    columns = fields.map(() => []);
    rows = 0;
    textLength = 0;
    return taken(writer, summary);
  };
  yield taken(writer, summary);
  for await (const json of lines) {
    line++;
    if (json.length === 0) continue;
    const record = JSON.parse(json) as Record<string, unknown>;
    const origin = { source: options.source, line };
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      columns[i]!.push(toParquetValue(field, record[field.name], origin));
    }
    if (options.onUndeclared) {
      for (const name in record) {
        if (!declared.has(name) && !undeclared.has(name)) {
          undeclared.add(name);
          options.onUndeclared(name);
        }
      }
    }
    rows++;
    textLength += json.length;
    if (rows >= maxRows || textLength >= ROW_GROUP_TEXT) yield flush();
  }
  if (rows > 0) yield flush();
  parquet.finish();
  yield taken(writer, summary);
}

/** The bytes written since the last call, copied out; the writer's buffer is reused. */
function taken(writer: ByteWriter, summary: ParquetFileSummary): Uint8Array {
  const bytes = new Uint8Array(writer.buffer, 0, writer.index).slice();
  writer.index = 0;
  summary.bytes += bytes.length;
  return bytes;
}

/**
 * The lines of a stream of UTF-8 text, pulled as they are iterated (readline's interface starts
 * reading at once and loses what it read before its iterator is taken).
 */
export async function* linesOf(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const lines = (rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk))).split('\n');
    rest = lines.pop() ?? '';
    yield* lines;
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest;
}
