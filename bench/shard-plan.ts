/**
 * Shard planning: generates a CSV file of about --mb MiB in a temporary folder and plans it into
 * shards of --shard-mb MiB through positioned reads of the file, as the planner reads an S3 object
 * through ranged GETs. Prints the planning time, the bytes the planner read (the point of the
 * method is that this is a small part of the file: it does not read the file serially) and how
 * many cuts fell back to a serial scan of the quote state.
 *
 * Two files are planned one after the other: one with quoted fields (commas and line breaks inside
 * quotes in some rows), where the quote state after a cut is decided within a few records, and
 * one without any quote, decided only by format.max_record_bytes (see csv-boundary.ts). For
 * scale, the first file is also scanned serially, as a fallback at every cut would.
 *
 *   node --import tsx bench/shard-plan.ts [--mb N] [--shard-mb N] [--max-record-bytes N] [--keep]
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_RECORD_BYTES } from '../lambdas/shared/contract.js';
import { CsvBoundaries } from '../lambdas/validate/csv-boundary.js';
import { planShards, type RangeReader } from '../lambdas/validate/shard-plan.js';
import { random } from '../test/support/random.js';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    'shard-mb': { type: 'string', default: '64' },
    'max-record-bytes': { type: 'string', default: String(DEFAULT_MAX_RECORD_BYTES) },
    keep: { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;
const targetBytes = Number(args['shard-mb']) * MiB;
const fileBytes = Number(args.mb) * MiB;
const maxRecordBytes = Number(args['max-record-bytes']);

/** One block of rows; the file is blocks picked at random, so cuts land in different places. */
function block(next: () => number, quoted: boolean): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', '北京', 'zeta'];
  const pick = () => words[Math.floor(next() * words.length)]!;
  let text = '';
  for (let row = 0; row < 5000; row++) {
    const id = Math.floor(next() * 1e9);
    let comment = `${pick()} ${pick()}`;
    if (quoted && next() < 0.3) {
      comment = next() < 0.1 ? `"${pick()},\n${pick()} ""${pick()}"""` : `"${pick()}, ${pick()}"`;
    }
    text += `${id},${pick()},${comment},${(next() * 1000).toFixed(2)},2026-12-0${1 + (row % 9)}T10:00:00Z\r\n`;
  }
  return text;
}

function generate(path: string, quoted: boolean): number {
  const next = random(quoted ? 16 : 61);
  const blocks = Array.from({ length: 7 }, () => Buffer.from(block(next, quoted)));
  const fd = openSync(path, 'w');
  let size = writeSync(fd, 'id,name,comment,amount,at\r\n');
  while (size < fileBytes) size += writeSync(fd, blocks[Math.floor(next() * blocks.length)]!);
  closeSync(fd);
  return size;
}

async function plan(path: string, size: number, serialToo: boolean): Promise<void> {
  const handle = await open(path, 'r');
  let bytesRead = 0;
  let reads = 0;
  const read: RangeReader = async (start, end) => {
    const buffer = Buffer.alloc(end - start);
    const { bytesRead: got } = await handle.read(buffer, 0, end - start, start);
    bytesRead += got;
    reads++;
    return buffer.subarray(0, got);
  };
  const format = { type: 'csv', delimiter: ',', quote: '"', max_record_bytes: maxRecordBytes } as const;
  const started = process.hrtime.bigint();
  const result = await planShards(read, size, format, targetBytes);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const planned = { bytesRead, reads };
  const sizes = result.shards.map((shard) => (shard.end - shard.start) / MiB);
  console.log(
    `  ${result.shards.length} shards (${Math.min(...sizes).toFixed(1)}–${Math.max(...sizes).toFixed(1)} MiB), ` +
      `planned in ${ms.toFixed(0)} ms; read ${(planned.bytesRead / MiB).toFixed(2)} MiB in ${planned.reads} reads ` +
      `(${((100 * planned.bytesRead) / size).toFixed(3)}% of the file); serial fallbacks: ${result.fallbacks}`,
  );
  if (serialToo) {
    // For scale: the serial scan of the quote state over the whole file, what a fallback at every cut would read.
    const before = bytesRead;
    const scanStarted = process.hrtime.bigint();
    await new CsvBoundaries(read, size, { delimiter: ',', quote: '"', maxRecordBytes }).serial(0, size);
    const scanMs = Number(process.hrtime.bigint() - scanStarted) / 1e6;
    console.log(
      `  a serial scan of the whole file: ${scanMs.toFixed(0)} ms, ${((bytesRead - before) / MiB).toFixed(0)} MiB read`,
    );
  }
  await handle.close();
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-shard-plan-'));
try {
  console.log(
    `shard plan: target ${args['shard-mb']} MiB, format.max_record_bytes ${maxRecordBytes}, node ${process.version}`,
  );
  for (const quoted of [true, false]) {
    const path = join(dir, quoted ? 'quoted.csv' : 'unquoted.csv');
    const size = generate(path, quoted);
    console.log(`${quoted ? 'with quoted fields' : 'without quotes'}: ${(size / MiB).toFixed(0)} MiB`);
    await plan(path, size, quoted);
    if (!args.keep) rmSync(path);
  }
} finally {
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}
