/**
 * Reads a curated Parquet file back as the JSON Lines of its records, one row group at a time,
 * through ranged reads of the object (hyparquet, pure JavaScript): for the checks that evaluate
 * the curated snapshot with the same engine as a batch of JSON Lines.
 */
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { ObjectNotFound } from './errors.js';
import type { ObjectStore, Zone } from './object-store.js';
import { RECORD_PARSERS, recordOf } from './parquet-schema.js';

/** The object as hyparquet reads files: its length and ranged reads of it. */
export async function objectBuffer(store: ObjectStore, zone: Zone, key: string): Promise<AsyncBuffer> {
  const info = await store.head(zone, key);
  if (!info) throw new ObjectNotFound(`${store.describe(zone, key)} does not exist`);
  return {
    byteLength: info.size,
    async slice(start: number, end = info.size): Promise<ArrayBuffer> {
      const chunks: Buffer[] = [];
      for await (const chunk of await store.read(zone, key, { start, end })) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    },
  };
}

/** The records of a Parquet object as JSON Lines, one chunk per row group, each line ending in '\n'. */
export async function* parquetRecordLines(
  store: ObjectStore,
  zone: Zone,
  key: string,
): AsyncGenerator<Buffer> {
  const file = await objectBuffer(store, zone, key);
  const metadata = await parquetMetadataAsync(file);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, parsers: RECORD_PARSERS });
    yield Buffer.from(rows.map((row) => `${JSON.stringify(recordOf(row))}\n`).join(''));
    rowStart = rowEnd;
  }
}
